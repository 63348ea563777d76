package kuberef

// The C library's status codes (kuberef_status in include/kuberef.h): every
// failure the binding reports carries one (Error.Status, FileError.Status).
// The numbers are the library's, which never renumbers or reuses a code;
// shim.go checks at compile time that each equals the header's.
const (
	StatusOK                 uint32 = 0  // success
	StatusNotFound           uint32 = 1  // no reference stored under that container ID
	StatusNullArgument       uint32 = 2  // a required pointer was NULL (never from this binding)
	StatusInvalidArgument    uint32 = 3  // a string over MaxStringLen, or an invalid view
	StatusBufferTooSmall     uint32 = 4  // an output buffer was too small (handled inside the binding)
	StatusInvalidContainerID uint32 = 5  // the text is not type://id
	StatusPanic              uint32 = 6  // the library panicked inside the call; stored references are whole
	StatusIOError            uint32 = 7  // Save: nothing was replaced; Load: the file could not be opened or read
	StatusFileNotFound       uint32 = 8  // Load: no file at that path
	StatusFileForeign        uint32 = 9  // Load: not a kuberef snapshot file
	StatusFileVersion        uint32 = 10 // Load: a snapshot format version this library does not read
	StatusFileTruncated      uint32 = 11 // Load: the file ends before its header says it does
	StatusFileCorrupt        uint32 = 12 // Load: a checksum does not match, or the records do not add up
	StatusSaveNotDurable     uint32 = 13 // Save: the file was replaced, but its directory could not be synced
	StatusFileNotRegular     uint32 = 14 // Load: a directory, FIFO, socket or device, not a regular file
)

// statusOutOfMemory is not the library's: a C helper of the binding could
// not allocate.
const statusOutOfMemory = ^uint32(0)
