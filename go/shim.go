package kuberef

// This file is the only one that talks to the C library (with the link flags
// in link_*.go and pkgconfig*.go). Each call below is one cgo call (how many
// an exported operation makes: see doc.go) into one of the helpers of
// shim.c, which build the
// library's views on the C stack from the pointers and lengths Go passes as
// plain arguments, call the library, and return plain numbers by value. No
// helper keeps a pointer after it returns or calls back into Go, Go passes
// only pointers to memory that holds no Go pointers (string bytes, byte
// buffers, structs of numbers), and nothing Go-allocated is ever stored in
// C memory, so the cgo pointer rules hold without runtime.Pinner and every
// helper is declared noescape and nocallback: with both, buffers passed to
// them stay on the caller's stack (nocallback itself costs each call two
// calls into the runtime, which set and clear a flag that makes a callback
// into Go crash). The manager is passed as a number (krg_manager): cgo checks
// every argument of a pointer type that may hold Go pointers at run time, and
// a pointer to the opaque kuberef_manager is one.

/*
#cgo noescape krg_set
#cgo nocallback krg_set
#cgo noescape krg_stamp
#cgo nocallback krg_stamp
#cgo noescape krg_get
#cgo nocallback krg_get
#cgo noescape krg_clear
#cgo nocallback krg_clear
#cgo noescape krg_generate
#cgo nocallback krg_generate
#cgo noescape krg_parse
#cgo nocallback krg_parse
#cgo noescape krg_clear_pod
#cgo nocallback krg_clear_pod
#cgo noescape krg_retain
#cgo nocallback krg_retain
#cgo noescape krg_snapshot
#cgo nocallback krg_snapshot
#cgo noescape krg_save
#cgo nocallback krg_save
#cgo noescape krg_load
#cgo nocallback krg_load
#cgo noescape krg_json
#cgo nocallback krg_json
#cgo noescape krg_get_stats
#cgo nocallback krg_get_stats
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"unsafe"

	v1 "k8s.io/api/core/v1"
)

// The numbers of status.go and library.go are the header's.
var (
	_ = [1]struct{}{}[StatusOK-C.KUBEREF_OK]
	_ = [1]struct{}{}[StatusNotFound-C.KUBEREF_NOT_FOUND]
	_ = [1]struct{}{}[StatusNullArgument-C.KUBEREF_NULL_ARGUMENT]
	_ = [1]struct{}{}[StatusInvalidArgument-C.KUBEREF_INVALID_ARGUMENT]
	_ = [1]struct{}{}[StatusBufferTooSmall-C.KUBEREF_BUFFER_TOO_SMALL]
	_ = [1]struct{}{}[StatusInvalidContainerID-C.KUBEREF_INVALID_CONTAINER_ID]
	_ = [1]struct{}{}[StatusPanic-C.KUBEREF_PANIC]
	_ = [1]struct{}{}[StatusIOError-C.KUBEREF_IO_ERROR]
	_ = [1]struct{}{}[StatusFileNotFound-C.KUBEREF_FILE_NOT_FOUND]
	_ = [1]struct{}{}[StatusFileForeign-C.KUBEREF_FILE_FOREIGN]
	_ = [1]struct{}{}[StatusFileVersion-C.KUBEREF_FILE_VERSION]
	_ = [1]struct{}{}[StatusFileTruncated-C.KUBEREF_FILE_TRUNCATED]
	_ = [1]struct{}{}[StatusFileCorrupt-C.KUBEREF_FILE_CORRUPT]
	_ = [1]struct{}{}[StatusSaveNotDurable-C.KUBEREF_SAVE_NOT_DURABLE]
	_ = [1]struct{}{}[StatusFileNotRegular-C.KUBEREF_FILE_NOT_REGULAR]
	_ = [1]struct{}{}[MaxStringLen-C.KUBEREF_MAX_STR_LEN]
)

type cManager = C.kuberef_manager

// krgManager is m for the helpers of shim.c (see krg_manager in shim.h).
func krgManager(m *cManager) C.krg_manager { return C.krg_manager(uintptr(unsafe.Pointer(m))) }

// cstr returns s's bytes as a C pointer and length for the duration of one
// cgo call. The bytes hold no Go pointers, so cgo lets C read them during the
// call; C never keeps them.
func cstr(s string) (*C.char, C.size_t) {
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

func cptr(s string) *C.char { return (*C.char)(unsafe.Pointer(unsafe.StringData(s))) }

func cbuf(b []byte) (*C.char, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

type result struct {
	status uint32
	needed int
	off    [7]int
	len    [7]int
	stamp  uint64
}

func goResult(r C.krg_result) result {
	out := result{status: uint32(r.status), needed: int(r.needed), stamp: uint64(r.stamp)}
	for i := 0; i < 7; i++ {
		out.off[i] = int(r.off[i])
		out.len[i] = int(r.len[i])
	}
	return out
}

func cGlobal() *cManager       { return C.kuberef_global() }
func cNew() *cManager          { return C.kuberef_manager_new() }
func cFree(m *cManager)        { C.kuberef_manager_free(m) }
func cLen(m *cManager) int     { return int(C.kuberef_len(m)) }
func cABIVersion() uint32      { return uint32(C.kuberef_abi_version()) }
func cVersion() string         { return C.GoString(C.kuberef_version()) }
func cMessage(s uint32) string { return C.GoString(C.kuberef_status_message(C.uint32_t(s))) }

// cChangeCounter returns the address of m's change counter (C memory, valid
// while m lives), or nil.
func cChangeCounter(m *cManager) *uint64 {
	return (*uint64)(unsafe.Pointer(C.kuberef_change_counter(m)))
}

// cSet stores a reference; it returns the status and the new stamp.
func cSet(m *cManager, typ, id, kind, ns, name, uid, av, rv, fp string) (uint32, uint64) {
	tp, tl := cstr(typ)
	ip, il := cstr(id)
	k, kl := cstr(kind)
	n, nl := cstr(ns)
	nm, nml := cstr(name)
	u, ul := cstr(uid)
	a, al := cstr(av)
	r, rl := cstr(rv)
	f, fl := cstr(fp)
	res := C.krg_set(krgManager(m), tp, tl, ip, il, k, kl, n, nl, nm, nml, u, ul, a, al, r, rl, f, fl)
	return uint32(res.status), uint64(res.stamp)
}

// cStamp returns the status and the stamp of the reference stored under the
// key, without copying it.
func cStamp(m *cManager, typ, id string) (uint32, uint64) {
	tp, tl := cstr(typ)
	ip, il := cstr(id)
	res := C.krg_stamp(krgManager(m), tp, tl, ip, il)
	return uint32(res.status), uint64(res.stamp)
}

func cGet(m *cManager, typ, id string, buf *byte, bufLen int) result {
	tp, tl := cstr(typ)
	ip, il := cstr(id)
	return goResult(C.krg_get(krgManager(m), tp, tl, ip, il, (*C.char)(unsafe.Pointer(buf)), C.size_t(bufLen)))
}

// cClear removes a reference; it returns the status and the removed
// reference's stamp.
func cClear(m *cManager, typ, id string) (uint32, uint64) {
	tp, tl := cstr(typ)
	ip, il := cstr(id)
	res := C.krg_clear(krgManager(m), tp, tl, ip, il)
	return uint32(res.status), uint64(res.stamp)
}

// genIO is what GenerateContainerRef and krg_generate exchange besides the
// string pointers (krg_gen_io).
type genIO = C.krg_gen_io

// Sources of genIO.src (krg_generate's KRG_ constants).
const (
	srcKind            = C.KRG_IN_KIND
	srcAPIVersion      = C.KRG_IN_API_VERSION
	srcNamespace       = C.KRG_IN_NAMESPACE
	srcName            = C.KRG_IN_NAME
	srcUID             = C.KRG_IN_UID
	srcResourceVersion = C.KRG_IN_RESOURCE_VERSION
	srcConstPod        = C.KRG_CONST_POD
	srcConstV1         = C.KRG_CONST_V1
	srcConstEmpty      = C.KRG_CONST_EMPTY
	srcCopied          = C.KRG_COPIED
)

// genDirect is how many container names krg_generate takes as arguments.
const genDirect = C.KRG_DIRECT_NAMES

// cGenerate passes exactly four direct names.
var _ = [1]struct{}{}[genDirect-4]

// cGenerate runs krg_generate on the pod's fields, the container's name,
// the searched names (direct[:n] if n <= genDirect, else lens and names) and
// out; io holds the numbers in and out. The helper is noescape and
// nocallback, so io, lens and names can stay on the caller's stack.
func cGenerate(pod *v1.Pod, container string, ephemeral bool, nc, ni, ne int, direct *[genDirect]string,
	lens *uint32, names *byte, out *byte, outLen int, io *genIO) {
	io.n_c, io.n_i, io.n_e, io.out_len = C.size_t(nc), C.size_t(ni), C.size_t(ne), C.size_t(outLen)
	if ephemeral {
		io.flags = C.KUBEREF_GENERATE_EPHEMERAL_CONTAINERS
	}
	io.in_len[C.KRG_IN_KIND] = C.size_t(len(pod.Kind))
	io.in_len[C.KRG_IN_API_VERSION] = C.size_t(len(pod.APIVersion))
	io.in_len[C.KRG_IN_NAMESPACE] = C.size_t(len(pod.Namespace))
	io.in_len[C.KRG_IN_NAME] = C.size_t(len(pod.Name))
	io.in_len[C.KRG_IN_UID] = C.size_t(len(pod.UID))
	io.in_len[C.KRG_IN_RESOURCE_VERSION] = C.size_t(len(pod.ResourceVersion))
	io.in_len[6] = C.size_t(len(container))
	io.name_len[0] = C.size_t(len(direct[0]))
	io.name_len[1] = C.size_t(len(direct[1]))
	io.name_len[2] = C.size_t(len(direct[2]))
	io.name_len[3] = C.size_t(len(direct[3]))
	C.krg_generate(cptr(pod.Kind), cptr(pod.APIVersion), cptr(pod.Namespace), cptr(pod.Name),
		cptr(string(pod.UID)), cptr(pod.ResourceVersion), cptr(container),
		cptr(direct[0]), cptr(direct[1]), cptr(direct[2]), cptr(direct[3]),
		(*C.uint32_t)(unsafe.Pointer(lens)), (*C.char)(unsafe.Pointer(names)), (*C.char)(unsafe.Pointer(out)), io)
}

func cParse(s string) result {
	p, n := cstr(s)
	return goResult(C.krg_parse(p, n))
}

// cClearPod removes the references of the pod; it returns the status and
// how many were removed.
func cClearPod(m *cManager, uid string) (uint32, int) {
	p, n := cstr(uid)
	res := C.krg_clear_pod(krgManager(m), p, n)
	return uint32(res.status), int(res.n)
}

// cRetain keeps only the references of live; it returns the status and how
// many others were removed.
func cRetain(m *cManager, live []ContainerID) (uint32, int) {
	size := 0
	for i := range live {
		size += len(live[i].Type) + len(live[i].ID)
	}
	bytes := make([]byte, 0, size)
	lens := make([]C.size_t, 0, 2*len(live))
	for i := range live {
		bytes = append(bytes, live[i].Type...)
		bytes = append(bytes, live[i].ID...)
		lens = append(lens, C.size_t(len(live[i].Type)), C.size_t(len(live[i].ID)))
	}
	bp, _ := cbuf(bytes)
	res := C.krg_retain(krgManager(m), bp, unsafe.SliceData(lens), C.size_t(len(live)))
	return uint32(res.status), int(res.n)
}

// cSnapshot copies every stored pair into C memory and calls read with it
// (per pair: nine native-endian size_t lengths, then the nine strings; see
// snapshotWord) and the number of pairs; the memory is freed when read
// returns. It returns the status (read is called only on StatusOK).
func cSnapshot(m *cManager, read func(raw []byte, count int)) uint32 {
	s := C.krg_snapshot(krgManager(m))
	defer C.free(unsafe.Pointer(s.data))
	if uint32(s.status) == StatusOK {
		read(unsafe.Slice((*byte)(unsafe.Pointer(s.data)), int(s.len)), int(s.count))
	}
	return uint32(s.status)
}

// snapshotWord is the size of a length in cSnapshot's copy.
const snapshotWord = int(unsafe.Sizeof(C.size_t(0)))

// cSave saves m to path; it returns the status and how many were written.
func cSave(m *cManager, path string) (uint32, int) {
	p, n := cstr(path)
	res := C.krg_save(krgManager(m), p, n)
	return uint32(res.status), int(res.n)
}

// cLoad loads path into m; it returns the status and how many the file held.
func cLoad(m *cManager, path string, replace bool) (uint32, int) {
	p, n := cstr(path)
	var flags C.uint32_t
	if replace {
		flags = C.KUBEREF_LOAD_REPLACE
	}
	res := C.krg_load(krgManager(m), p, n, flags)
	return uint32(res.status), int(res.n)
}

// cRefToJSON writes ref's JSON and a NUL into buf; it returns the status and
// the size needed (on StatusOK and StatusBufferTooSmall).
func cRefToJSON(ref *v1.ObjectReference, buf []byte) (uint32, int) {
	k, kl := cstr(ref.Kind)
	ns, nsl := cstr(ref.Namespace)
	nm, nml := cstr(ref.Name)
	u, ul := cstr(string(ref.UID))
	a, al := cstr(ref.APIVersion)
	rv, rvl := cstr(ref.ResourceVersion)
	f, fl := cstr(ref.FieldPath)
	bp, bl := cbuf(buf)
	res := C.krg_json(k, kl, ns, nsl, nm, nml, u, ul, a, al, rv, rvl, f, fl, bp, bl)
	return uint32(res.status), int(res.n)
}

// libStats are the library's counters of a manager (kuberef_stats).
type libStats struct {
	sets, gets, hits, misses, clears, pruned, count, bytes uint64
}

// cStats returns the status and m's counters.
func cStats(m *cManager) (uint32, libStats) {
	res := C.krg_get_stats(krgManager(m))
	s := res.s
	return uint32(res.status), libStats{sets: uint64(s.sets), gets: uint64(s.gets), hits: uint64(s.hits),
		misses: uint64(s.misses), clears: uint64(s.clears), pruned: uint64(s.pruned), count: uint64(s.count),
		bytes: uint64(s.bytes)}
}
