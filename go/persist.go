package kuberef

import (
	"fmt"
	"io/fs"
	"runtime"
)

// FileError is why Save or Load failed. The manager is unchanged, and so is
// the file at Path after a failed Save, with one exception:
// StatusSaveNotDurable means Save replaced the file with the new snapshot
// (and returned its count) but could not sync the directory, so a crash may
// bring the previous file back. errors.Is(err, fs.ErrNotExist) holds for a
// Load of a missing file. A path that is empty, holds a NUL byte or is
// longer than MaxStringLen gets StatusInvalidArgument (for an empty path
// too, where os.Open reports a missing file).
type FileError struct {
	Op     string // "Save" or "Load"
	Path   string
	Status uint32 // StatusIOError, StatusFileNotFound, ... StatusFileNotRegular, or StatusInvalidArgument
}

func (e *FileError) Error() string {
	return fmt.Sprintf("kuberef: %s %q: %s (status %d)", e.Op, e.Path, statusMessage(e.Status), e.Status)
}

// Is makes errors.Is(err, fs.ErrNotExist) true for a missing file.
func (e *FileError) Is(target error) bool {
	return target == fs.ErrNotExist && e.Status == StatusFileNotFound
}

// Save writes every stored reference to the file at path atomically and
// returns how many it wrote: into a new temporary file in the same directory
// (created exclusively, never through a symbolic link; mode 0600), fsync,
// rename over path, fsync of the directory. The file at path is always the
// previous complete one or the new one; a symbolic link at path is replaced,
// not written through. Saves share no lock: goroutines and processes may
// save to the same path at once, and the last rename wins. On error the file
// at path is unchanged (*FileError), except for StatusSaveNotDurable, where
// it holds the new snapshot and Save returns its count with the error.
func (r *RefManager) Save(path string) (int, error) {
	st, n := cSave(r.ptr(), path)
	runtime.KeepAlive(r)
	switch st {
	case StatusOK:
		return n, nil
	case StatusSaveNotDurable:
		return n, &FileError{Op: "Save", Path: path, Status: st}
	default:
		return 0, &FileError{Op: "Save", Path: path, Status: st}
	}
}

// Load restores the references saved by Save in the file at path (a
// symbolic link is followed) and returns how many the file held. With
// replace false they are merged in (the file wins on the same ID); with
// replace true, every reference stored before the load began and not in
// the file is removed afterwards (references other goroutines set during
// the load are kept). Anything but a regular file is refused without
// being opened (StatusFileNotRegular), and the file is checked whole, in memory
// that does not depend on its size, before anything changes: on any error
// (*FileError: missing, not regular, foreign, wrong version, truncated,
// corrupt, I/O) the manager is unchanged, unless the file is rewritten in
// place while Load reads it (Save never does that).
func (r *RefManager) Load(path string, replace bool) (int, error) {
	st, n := cLoad(r.ptr(), path, replace)
	runtime.KeepAlive(r)
	if st != StatusOK {
		return 0, &FileError{Op: "Load", Path: path, Status: st}
	}
	return n, nil
}
