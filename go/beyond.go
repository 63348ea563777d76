package kuberef

// The additions beyond upstream (see the README's "Beyond upstream"):
// leak control, enumeration, persistence across restarts, event-ready JSON
// and counters. Like cgo.go, every operation is one cgo call into a small
// static helper that builds the library's views on the C side from
// pointers and lengths passed as plain arguments; Go passes only pointers to
// memory without Go pointers in it.

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kuberef.h"

typedef struct {
	uint32_t status;
	size_t n;
} krb_count;

static kuberef_str krb_s(const char *p, size_t n) {
	kuberef_str s;
	s.ptr = p;
	s.len = n;
	return s;
}

static krb_count krb_clear_pod(kuberef_manager *m, const char *uid, size_t uidl) {
	krb_count r = {0, 0};
	r.status = kuberef_clear_pod(m, krb_s(uid, uidl), &r.n);
	return r;
}

// bytes holds the n IDs' types and IDs back to back (type 0, id 0, type 1,
// ...); lens their 2n lengths in the same order.
static krb_count krb_retain(kuberef_manager *m, const char *bytes, const size_t *lens, size_t n) {
	krb_count r = {0, 0};
	kuberef_container_id *ids = n ? malloc(n * sizeof *ids) : NULL;
	size_t i, at = 0;
	if (n && ids == NULL) {
		r.status = UINT32_MAX;
		return r;
	}
	for (i = 0; i < n; i++) {
		ids[i].type = krb_s(bytes + at, lens[2 * i]);
		at += lens[2 * i];
		ids[i].id = krb_s(bytes + at, lens[2 * i + 1]);
		at += lens[2 * i + 1];
	}
	r.status = kuberef_retain(m, ids, n, &r.n);
	free(ids);
	return r;
}

// A snapshot in C memory: per pair, 9 lengths (size_t) then the 9 strings.
typedef struct {
	uint32_t status;
	char *data;
	size_t len, cap, count;
	int oom;
} krb_snap;

static int krb_put(krb_snap *s, const void *p, size_t n) {
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *d;
		while (cap < s->len + n) cap *= 2;
		d = realloc(s->data, cap);
		if (d == NULL) {
			s->oom = 1;
			return 0;
		}
		s->data = d;
		s->cap = cap;
	}
	if (n) memcpy(s->data + s->len, p, n);
	s->len += n;
	return 1;
}

static int krb_visit(void *ctx, const kuberef_container_id *id, const kuberef_object_reference *r) {
	krb_snap *s = (krb_snap *)ctx;
	kuberef_str parts[9];
	size_t lens[9];
	int i;
	parts[0] = id->type;
	parts[1] = id->id;
	parts[2] = r->kind;
	parts[3] = r->namespace_;
	parts[4] = r->name;
	parts[5] = r->uid;
	parts[6] = r->api_version;
	parts[7] = r->resource_version;
	parts[8] = r->field_path;
	for (i = 0; i < 9; i++) lens[i] = parts[i].len;
	if (!krb_put(s, lens, sizeof lens)) return 1;
	for (i = 0; i < 9; i++)
		if (!krb_put(s, parts[i].ptr, parts[i].len)) return 1;
	s->count++;
	return 0;
}

static krb_snap krb_snapshot(const kuberef_manager *m) {
	krb_snap s;
	memset(&s, 0, sizeof s);
	s.status = kuberef_for_each(m, krb_visit, &s, NULL);
	if (s.oom) s.status = UINT32_MAX;
	return s;
}

static krb_count krb_save(const kuberef_manager *m, const char *p, size_t n) {
	krb_count r = {0, 0};
	r.status = kuberef_save(m, krb_s(p, n), &r.n);
	return r;
}

static krb_count krb_load(kuberef_manager *m, const char *p, size_t n, uint32_t flags) {
	krb_count r = {0, 0};
	r.status = kuberef_load(m, krb_s(p, n), flags, &r.n);
	return r;
}

static krb_count krb_json(const char *kind, size_t kindl, const char *ns, size_t nsl,
		const char *name, size_t namel, const char *uid, size_t uidl,
		const char *av, size_t avl, const char *rv, size_t rvl,
		const char *fp, size_t fpl, char *buf, size_t buf_len) {
	kuberef_object_reference ref;
	krb_count r = {0, 0};
	ref.kind = krb_s(kind, kindl);
	ref.namespace_ = krb_s(ns, nsl);
	ref.name = krb_s(name, namel);
	ref.uid = krb_s(uid, uidl);
	ref.api_version = krb_s(av, avl);
	ref.resource_version = krb_s(rv, rvl);
	ref.field_path = krb_s(fp, fpl);
	r.status = kuberef_ref_to_json(&ref, buf, buf_len, &r.n);
	return r;
}

typedef struct {
	uint32_t status;
	kuberef_stats s;
} krb_stats;

static krb_stats krb_get_stats(const kuberef_manager *m) {
	krb_stats r;
	memset(&r, 0, sizeof r);
	r.s.size = sizeof r.s;
	r.status = kuberef_get_stats(m, &r.s);
	return r;
}
*/
import "C"

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"runtime"
	"unsafe"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Status codes of the additions (include/kuberef.h); FileError carries them.
const (
	StatusIOError        = uint32(C.KUBEREF_IO_ERROR)
	StatusFileNotFound   = uint32(C.KUBEREF_FILE_NOT_FOUND)
	StatusFileForeign    = uint32(C.KUBEREF_FILE_FOREIGN)
	StatusFileVersion    = uint32(C.KUBEREF_FILE_VERSION)
	StatusFileTruncated  = uint32(C.KUBEREF_FILE_TRUNCATED)
	StatusFileCorrupt    = uint32(C.KUBEREF_FILE_CORRUPT)
	StatusSaveNotDurable = uint32(C.KUBEREF_SAVE_NOT_DURABLE)
	StatusFileNotRegular = uint32(C.KUBEREF_FILE_NOT_REGULAR)
)

// FileError is why Save or Load failed. The manager is unchanged, and so is
// the file at Path after a failed Save, with one exception:
// StatusSaveNotDurable means Save replaced the file with the new snapshot
// (and returned its count) but could not sync the directory, so a crash may
// bring the previous file back. errors.Is(err, fs.ErrNotExist) holds for a
// Load of a missing file.
type FileError struct {
	Op     string // "Save" or "Load"
	Path   string
	Status uint32 // StatusIOError, StatusFileNotFound, ... StatusFileNotRegular
}

func (e *FileError) Error() string {
	return fmt.Sprintf("kuberef: %s %q: %s (status %d)", e.Op, e.Path, statusMessage(e.Status), e.Status)
}

// Is makes errors.Is(err, fs.ErrNotExist) true for a missing file.
func (e *FileError) Is(target error) bool {
	return target == fs.ErrNotExist && e.Status == StatusFileNotFound
}

// ClearPod removes every reference whose UID is podUID (for example when the
// kubelet forgets a deleted pod) and returns how many it removed. Upstream
// never removes these for containers that exit on their own. A podUID
// longer than MaxStringLen matches nothing stored (no stored field can be
// that long): ClearPod returns 0 without calling the library.
func (r *RefManager) ClearPod(podUID types.UID) int {
	m := r.ptr()
	if len(podUID) > maxStrLen {
		return 0
	}
	p, n := cstr(string(podUID))
	res := C.krb_clear_pod(m, p, n)
	runtime.KeepAlive(r)
	if uint32(res.status) != statusOK {
		panic(&Error{Op: "ClearPod", Status: uint32(res.status)})
	}
	return int(res.n)
}

// Retain keeps only the references stored under the live IDs (what the
// kubelet's container GC knows is still there), removes every other one and
// returns how many it removed. It runs in O(stored + len(live)). A live ID
// with a Type or ID longer than MaxStringLen has no reference (SetRef
// refuses it) and is skipped; the others are retained as usual.
func (r *RefManager) Retain(live []ContainerID) int {
	m := r.ptr()
	size, n := 0, 0
	for i := range live {
		if !overLimit(live[i].Type, live[i].ID) {
			size += len(live[i].Type) + len(live[i].ID)
			n++
		}
	}
	bytes := make([]byte, 0, size)
	lens := make([]C.size_t, 0, 2*n)
	for i := range live {
		if overLimit(live[i].Type, live[i].ID) {
			continue
		}
		bytes = append(bytes, live[i].Type...)
		bytes = append(bytes, live[i].ID...)
		lens = append(lens, C.size_t(len(live[i].Type)), C.size_t(len(live[i].ID)))
	}
	bp, _ := cbuf(bytes)
	var lp *C.size_t
	if len(lens) > 0 {
		lp = &lens[0]
	}
	res := C.krb_retain(m, bp, lp, C.size_t(n))
	runtime.KeepAlive(r)
	if uint32(res.status) != statusOK {
		panic(&Error{Op: "Retain", Status: uint32(res.status)})
	}
	return int(res.n)
}

// Entry is one stored (container ID, reference) pair.
type Entry struct {
	ID  ContainerID
	Ref *v1.ObjectReference
}

// Snapshot returns every stored pair, in no particular order. The library
// copies the manager one shard (1/32) at a time, so each shard's pairs are
// consistent with each other but the whole is not one global snapshot: a
// reference stored during the whole call is listed exactly once; one set or
// cleared meanwhile is listed at most once. No lock is held while Go runs.
func (r *RefManager) Snapshot() []Entry {
	s := C.krb_snapshot(r.ptr())
	runtime.KeepAlive(r)
	defer C.free(unsafe.Pointer(s.data))
	if uint32(s.status) != statusOK {
		panic(&Error{Op: "Snapshot", Status: uint32(s.status)})
	}
	const word = int(unsafe.Sizeof(C.size_t(0)))
	raw := unsafe.Slice((*byte)(unsafe.Pointer(s.data)), int(s.len))
	all := string(raw) // one copy into Go memory; the strings below share it
	out := make([]Entry, 0, int(s.count))
	refs := make([]v1.ObjectReference, int(s.count))
	at := 0
	for i := 0; i < int(s.count); i++ {
		var lens [9]int
		for k := range lens {
			// Unaligned: read the native-endian size_t byte by byte.
			if word == 8 {
				lens[k] = int(binary.NativeEndian.Uint64(raw[at+k*word:]))
			} else {
				lens[k] = int(binary.NativeEndian.Uint32(raw[at+k*word:]))
			}
		}
		at += 9 * word
		var parts [9]string
		for k, l := range lens {
			parts[k] = all[at : at+l]
			at += l
		}
		ref := &refs[i]
		*ref = v1.ObjectReference{Kind: parts[2], Namespace: parts[3], Name: parts[4], UID: types.UID(parts[5]),
			APIVersion: parts[6], ResourceVersion: parts[7], FieldPath: parts[8]}
		out = append(out, Entry{ID: ContainerID{Type: parts[0], ID: parts[1]}, Ref: ref})
	}
	return out
}

// ForEach calls f with every stored pair (see Snapshot for the consistency)
// until f returns false. f may call any method of r.
func (r *RefManager) ForEach(f func(id ContainerID, ref *v1.ObjectReference) bool) {
	for _, e := range r.Snapshot() {
		if !f(e.ID, e.Ref) {
			return
		}
	}
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
	p, n := cstr(path)
	res := C.krb_save(r.ptr(), p, n)
	runtime.KeepAlive(r)
	switch st := uint32(res.status); st {
	case statusOK:
		return int(res.n), nil
	case StatusSaveNotDurable:
		return int(res.n), &FileError{Op: "Save", Path: path, Status: st}
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
// blocking (StatusFileNotRegular), and the file is checked whole, in memory
// that does not depend on its size, before anything changes: on any error
// (*FileError: missing, not regular, foreign, wrong version, truncated,
// corrupt, I/O) the manager is unchanged, unless the file is rewritten in
// place while Load reads it (Save never does that).
func (r *RefManager) Load(path string, replace bool) (int, error) {
	p, n := cstr(path)
	var flags C.uint32_t
	if replace {
		flags = C.KUBEREF_LOAD_REPLACE
	}
	res := C.krb_load(r.ptr(), p, n, flags)
	runtime.KeepAlive(r)
	if st := uint32(res.status); st != statusOK {
		return 0, &FileError{Op: "Load", Path: path, Status: st}
	}
	return int(res.n), nil
}

// RefToJSON returns exactly what json.Marshal(ref) returns for a
// v1.ObjectReference (the event's involvedObject), computed by the C
// library so that C callers and plugins produce the same bytes. A reference
// with a field longer than MaxStringLen, which the library refuses, is
// marshalled by encoding/json itself: the same bytes, for every length.
func RefToJSON(ref *v1.ObjectReference) []byte {
	if ref == nil {
		return []byte("null")
	}
	if overLimit(ref.Kind, ref.Namespace, ref.Name, string(ref.UID), ref.APIVersion, ref.ResourceVersion,
		ref.FieldPath) {
		b, _ := json.Marshal(ref) // seven strings: Marshal has no error to give
		return b
	}
	k, kl := cstr(ref.Kind)
	ns, nsl := cstr(ref.Namespace)
	nm, nml := cstr(ref.Name)
	u, ul := cstr(string(ref.UID))
	a, al := cstr(ref.APIVersion)
	rv, rvl := cstr(ref.ResourceVersion)
	f, fl := cstr(ref.FieldPath)
	size := 32 + len(ref.Kind) + len(ref.Namespace) + len(ref.Name) + len(ref.UID) +
		len(ref.APIVersion) + len(ref.ResourceVersion) + len(ref.FieldPath) + 80
	for {
		buf := make([]byte, size)
		bp, bl := cbuf(buf)
		res := C.krb_json(k, kl, ns, nsl, nm, nml, u, ul, a, al, rv, rvl, f, fl, bp, bl)
		switch uint32(res.status) {
		case statusOK:
			return buf[:int(res.n)-1]
		case statusBufferTooSmall:
			size = int(res.n)
		default:
			panic(&Error{Op: "RefToJSON", Status: uint32(res.status)})
		}
	}
}

// Stats are a manager's counters (cheap; always on), for export as metrics.
// Each is a value it had during the call; under concurrent writers they may
// disagree with each other slightly.
type Stats struct {
	Sets   uint64 // references stored (SetRef, and each one Load stored)
	Gets   uint64 // GetRef lookups: Hits + Misses (one per GetRef, including those the Go cache answers)
	Hits   uint64 // lookups that found a reference
	Misses uint64 // lookups that found none (including GetRef of an ID over MaxStringLen)
	Clears uint64 // references removed by ClearRef
	Pruned uint64 // references removed by ClearPod, Retain and replacing Loads
	Count  uint64 // references stored now
	Bytes  uint64 // approximate bytes the stored references use
}

// Stats returns the manager's counters.
func (r *RefManager) Stats() Stats {
	// GetRef calls this RefManager answered without the library (hits from
	// the cache, misses of over-limit IDs), and the library lookups it made
	// beyond one per GetRef; loaded before the library's counters, which
	// already include every lookup counted in extra.
	var answered, extra, unasked uint64
	for i := range r.getStats {
		answered += r.getStats[i].answered.Load()
		extra += r.getStats[i].extra.Load()
		unasked += r.getStats[i].unasked.Load()
	}
	res := C.krb_get_stats(r.ptr())
	runtime.KeepAlive(r)
	if uint32(res.status) != statusOK {
		panic(&Error{Op: "Stats", Status: uint32(res.status)})
	}
	s := res.s
	return Stats{Sets: uint64(s.sets), Gets: uint64(s.gets) + answered + unasked - extra,
		Hits: uint64(s.hits) + answered - extra, Misses: uint64(s.misses) + unasked,
		Clears: uint64(s.clears), Pruned: uint64(s.pruned), Count: uint64(s.count), Bytes: uint64(s.bytes)}
}
