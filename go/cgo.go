package kuberef

// This file is the only one that talks to the C library. Every exported
// operation is exactly one cgo call into one of the small static helpers
// below, which build the library's views on the C stack from the pointers and
// lengths Go passes as plain arguments, call the library, and return plain
// numbers (statuses, offsets, lengths) by value, or for krg_generate in a
// struct of numbers on the Go stack. The helpers keep no pointer after they
// return, Go passes only pointers to memory that holds no Go pointers (string
// bytes, byte buffers, that struct), and nothing Go-allocated is ever stored
// in C memory, so the cgo pointer rules hold without runtime.Pinner. That
// also makes the "#cgo noescape" and "#cgo nocallback" lines below true (no
// helper keeps a pointer or calls back into Go): krg_generate's buffers stay
// on the caller's stack, and the calls skip the callback bookkeeping
// (SetRef+ClearRef in go test -bench: 398-447 -> 348-397 ns).

/*
#cgo noescape krg_generate
#cgo nocallback krg_generate
#cgo noescape krg_set
#cgo nocallback krg_set
#cgo noescape krg_stamp
#cgo nocallback krg_stamp
#cgo noescape krg_get
#cgo nocallback krg_get
#cgo noescape krg_clear
#cgo nocallback krg_clear
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kuberef.h"

// What a helper that fills a caller buffer or parses text returns: the
// library's status, the size it needs (for the buffer helpers), and each
// output field as an offset into the caller's buffer (or text) and a length.
typedef struct {
	uint32_t status;
	size_t needed;
	size_t off[7];
	size_t len[7];
	uint64_t stamp; // krg_get: the stamp of the reference copied
} krg_result;

// A status and a stamp (krg_set, krg_stamp).
typedef struct {
	uint32_t status;
	uint64_t stamp;
} krg_stamped;

static kuberef_str krg_s(const char *p, size_t n) {
	kuberef_str s;
	s.ptr = p;
	s.len = n;
	return s;
}

static kuberef_container_id krg_id(const char *tp, size_t tl, const char *ip, size_t il) {
	kuberef_container_id id;
	id.type = krg_s(tp, tl);
	id.id = krg_s(ip, il);
	return id;
}

static void krg_offsets(krg_result *r, const kuberef_object_reference *o, const char *base) {
	const kuberef_str *f[7];
	int i;
	f[0] = &o->kind;
	f[1] = &o->namespace_;
	f[2] = &o->name;
	f[3] = &o->uid;
	f[4] = &o->api_version;
	f[5] = &o->resource_version;
	f[6] = &o->field_path;
	for (i = 0; i < 7; i++) {
		r->off[i] = (size_t)(f[i]->ptr - base);
		r->len[i] = f[i]->len;
	}
}

static krg_stamped krg_set(kuberef_manager *m,
		const char *tp, size_t tl, const char *ip, size_t il,
		const char *kind, size_t kindl, const char *ns, size_t nsl,
		const char *name, size_t namel, const char *uid, size_t uidl,
		const char *av, size_t avl, const char *rv, size_t rvl,
		const char *fp, size_t fpl) {
	kuberef_container_id id = krg_id(tp, tl, ip, il);
	kuberef_object_reference ref;
	ref.kind = krg_s(kind, kindl);
	ref.namespace_ = krg_s(ns, nsl);
	ref.name = krg_s(name, namel);
	ref.uid = krg_s(uid, uidl);
	ref.api_version = krg_s(av, avl);
	ref.resource_version = krg_s(rv, rvl);
	ref.field_path = krg_s(fp, fpl);
	krg_stamped r = {0, 0};
	r.status = kuberef_set_ref_stamped(m, &id, &ref, &r.stamp);
	return r;
}

static krg_stamped krg_stamp(const kuberef_manager *m, const char *tp, size_t tl, const char *ip, size_t il) {
	kuberef_container_id id = krg_id(tp, tl, ip, il);
	krg_stamped r = {0, 0};
	r.status = kuberef_get_stamp(m, &id, &r.stamp);
	return r;
}

static krg_result krg_get(const kuberef_manager *m,
		const char *tp, size_t tl, const char *ip, size_t il,
		char *buf, size_t buf_len) {
	kuberef_container_id id = krg_id(tp, tl, ip, il);
	kuberef_object_reference out;
	krg_result r = {0};
	r.status = kuberef_get_ref_stamped(m, &id, &out, buf, buf_len, &r.needed, &r.stamp);
	if (r.status == KUBEREF_OK) krg_offsets(&r, &out, buf);
	return r;
}

static krg_stamped krg_clear(kuberef_manager *m, const char *tp, size_t tl, const char *ip, size_t il) {
	kuberef_container_id id = krg_id(tp, tl, ip, il);
	krg_stamped r = {0, 0};
	r.status = kuberef_clear_ref_stamped(m, &id, &r.stamp);
	return r;
}

// Where the bytes of an output field of krg_generate are (krg_gen_io.src):
// one of the pod's six input fields, byte for byte; one of the constants
// "Pod", "v1" and ""; or copied into the caller's buffer.
enum {
	KRG_IN_KIND, KRG_IN_API_VERSION, KRG_IN_NAMESPACE, KRG_IN_NAME, KRG_IN_UID, KRG_IN_RESOURCE_VERSION,
	KRG_CONST_POD, KRG_CONST_V1, KRG_CONST_EMPTY, KRG_COPIED
};

// How many container names krg_generate takes as arguments of their own.
#define KRG_DIRECT_NAMES 4

// The numbers krg_generate reads and writes (the caller's memory; no
// pointers, so Go may pass its own).
typedef struct {
	// In: the lengths of the pod's kind, apiVersion, namespace, name, uid
	// and resourceVersion (KRG_IN_ order) and of the container's name.
	size_t in_len[7];
	// In: how many containers of each list are searched (containers, then
	// initContainers, then ephemeralContainers), and for up to
	// KRG_DIRECT_NAMES of them in all, their names' lengths.
	size_t n_c, n_i, n_e;
	size_t name_len[KRG_DIRECT_NAMES];
	// In: the room in out.
	size_t out_len;
	// In: the kuberef_generate_container_ref flags.
	uint32_t flags;
	// Out: the library's status (UINT32_MAX: the helper's malloc failed).
	uint32_t status;
	// Out, on KUBEREF_OK or KUBEREF_BUFFER_TOO_SMALL: the bytes the
	// KRG_COPIED fields take in out. They are written there back to back in
	// field order if they fit; else the status is KUBEREF_BUFFER_TOO_SMALL.
	size_t needed;
	// Out, on KUBEREF_OK: a hash of those bytes (for Go's intern table).
	uint64_t hash;
	// Out, on KUBEREF_OK: each field's source, in kuberef_object_reference
	// order, and the length of each KRG_COPIED one.
	uint32_t len[7];
	uint8_t src[7];
} krg_gen_io;

static uint64_t krg_load8(const char *p) {
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t krg_load4(const char *p) {
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

// krg_same compares n bytes; inline, with word loads that may overlap, as
// the strings are short and calling memcmp costs more than comparing them.
static inline __attribute__((always_inline)) int krg_same(const char *p, const char *q, size_t n) {
	uint64_t d;
	size_t i;
	if (n >= 8) {
		d = (krg_load8(p) ^ krg_load8(q)) | (krg_load8(p + n - 8) ^ krg_load8(q + n - 8));
		if (n > 16) {
			d |= (krg_load8(p + 8) ^ krg_load8(q + 8)) | (krg_load8(p + n - 16) ^ krg_load8(q + n - 16));
			for (i = 16; d == 0 && i + 16 < n; i += 8) d = krg_load8(p + i) ^ krg_load8(q + i);
		}
		return d == 0;
	}
	if (n >= 4) return ((krg_load4(p) ^ krg_load4(q)) | (krg_load4(p + n - 4) ^ krg_load4(q + n - 4))) == 0;
	return n == 0 || (p[0] == q[0] && p[n / 2] == q[n / 2] && p[n - 1] == q[n - 1]);
}

// krg_hash hashes n bytes for Go's intern table: cheaply, from the length
// and the last 16 bytes (where a field path has the container's name), as a
// collision only costs the table a miss.
static uint64_t krg_hash(const char *p, size_t n) {
	uint64_t h;
	size_t i;
	if (n >= 16) {
		h = (krg_load8(p + n - 8) ^ (uint64_t)n) * 0x9E3779B97F4A7C15u;
		h = (h ^ krg_load8(p + n - 16)) * 0xBF58476D1CE4E5B9u;
	} else {
		for (i = 0, h = (uint64_t)n; i < n; i++) h = (h ^ (uint8_t)p[i]) * 0xBF58476D1CE4E5B9u;
	}
	return h ^ (h >> 32);
}

// krg_source is where output field v's bytes also are: in (the pod's field
// that normally has them, source same; NULL for none), a constant, or
// nowhere (KRG_COPIED).
static inline __attribute__((always_inline)) uint8_t krg_source(const kuberef_str *v, const kuberef_str *in, uint8_t same) {
	if (v->len == 0) return KRG_CONST_EMPTY;
	// The borrowed generate returns the pod's own views: no byte is read.
	if (in != NULL && in->ptr == v->ptr && in->len == v->len) return same;
	if (in != NULL && in->len == v->len && krg_same(in->ptr, v->ptr, v->len)) return same;
	if (v->len == 3 && krg_same(v->ptr, "Pod", 3)) return KRG_CONST_POD;
	if (v->len == 2 && krg_same(v->ptr, "v1", 2)) return KRG_CONST_V1;
	return KRG_COPIED;
}

// krg_generate calls kuberef_generate_container_ref_borrowed, whose result
// views the pod's own fields and writes the rest (normally just the field
// path) to a buffer on the C stack (or malloc'd, for one that does not fit
// there), then tells the caller, for each output field, which input or
// constant holds the same bytes (a view of the input itself is recognised
// by its address, without reading it), and copies only the other fields
// into out. Byte-equal strings are interchangeable, so this is conversion
// only: the library decides every byte of the reference.
//
// The searched containers' names (containers, then initContainers, then
// ephemeralContainers) are n0 to n3 (lengths in io->name_len) if there are
// at most KRG_DIRECT_NAMES of them, so the library reads only the bytes it
// compares; else names holds them back to back and lens their lengths.
static void krg_generate(const char *kind, const char *av, const char *ns, const char *name,
		const char *uid, const char *rv, const char *cname,
		const char *n0, const char *n1, const char *n2, const char *n3,
		const uint32_t *lens, const char *names, char *out, krg_gen_io *io) {
	kuberef_str stack[32];
	kuberef_str *views = stack;
	char local[1024];
	char *buf = local;
	size_t n = io->n_c + io->n_i + io->n_e, i, at, needed = 0, copied;
	kuberef_pod pod;
	kuberef_object_reference ref;
	const kuberef_str *f[7];
	uint32_t st;
	if (n <= KRG_DIRECT_NAMES) {
		stack[0] = krg_s(n0, io->name_len[0]);
		stack[1] = krg_s(n1, io->name_len[1]);
		stack[2] = krg_s(n2, io->name_len[2]);
		stack[3] = krg_s(n3, io->name_len[3]);
	} else {
		if (n > sizeof stack / sizeof stack[0]) {
			views = (kuberef_str *)malloc(n * sizeof *views);
			if (views == NULL) {
				io->status = UINT32_MAX;
				return;
			}
		}
		for (i = 0, at = 0; i < n; i++) {
			views[i] = krg_s(names + at, lens[i]);
			at += lens[i];
		}
	}
	pod.kind = krg_s(kind, io->in_len[KRG_IN_KIND]);
	pod.api_version = krg_s(av, io->in_len[KRG_IN_API_VERSION]);
	pod.namespace_ = krg_s(ns, io->in_len[KRG_IN_NAMESPACE]);
	pod.name = krg_s(name, io->in_len[KRG_IN_NAME]);
	pod.uid = krg_s(uid, io->in_len[KRG_IN_UID]);
	pod.resource_version = krg_s(rv, io->in_len[KRG_IN_RESOURCE_VERSION]);
	pod.containers = io->n_c ? views : NULL;
	pod.containers_len = io->n_c;
	pod.init_containers = io->n_i ? views + io->n_c : NULL;
	pod.init_containers_len = io->n_i;
	pod.ephemeral_containers = io->n_e ? views + io->n_c + io->n_i : NULL;
	pod.ephemeral_containers_len = io->n_e;
	st = kuberef_generate_container_ref_borrowed(&pod, krg_s(cname, io->in_len[6]), io->flags, &ref,
		buf, sizeof local, &needed);
	if (st == KUBEREF_BUFFER_TOO_SMALL) {
		buf = (char *)malloc(needed);
		if (buf == NULL) {
			st = UINT32_MAX;
		} else {
			st = kuberef_generate_container_ref_borrowed(&pod, krg_s(cname, io->in_len[6]), io->flags, &ref,
				buf, needed, &needed);
		}
	}
	if (views != stack) free(views);
	if (st == KUBEREF_OK) {
		f[0] = &ref.kind;
		f[1] = &ref.namespace_;
		f[2] = &ref.name;
		f[3] = &ref.uid;
		f[4] = &ref.api_version;
		f[5] = &ref.resource_version;
		f[6] = &ref.field_path;
		io->src[0] = krg_source(f[0], &pod.kind, KRG_IN_KIND);
		io->src[1] = krg_source(f[1], &pod.namespace_, KRG_IN_NAMESPACE);
		io->src[2] = krg_source(f[2], &pod.name, KRG_IN_NAME);
		io->src[3] = krg_source(f[3], &pod.uid, KRG_IN_UID);
		io->src[4] = krg_source(f[4], &pod.api_version, KRG_IN_API_VERSION);
		io->src[5] = krg_source(f[5], &pod.resource_version, KRG_IN_RESOURCE_VERSION);
		io->src[6] = krg_source(f[6], NULL, KRG_COPIED);
		if (io->src[0] != KRG_COPIED && io->src[1] != KRG_COPIED && io->src[2] != KRG_COPIED &&
				io->src[3] != KRG_COPIED && io->src[4] != KRG_COPIED && io->src[5] != KRG_COPIED &&
				io->src[6] == KRG_COPIED) {
			// The usual case: only the field path is copied.
			copied = ref.field_path.len;
			io->len[6] = (uint32_t)copied;
			io->needed = copied;
			if (copied > io->out_len) {
				st = KUBEREF_BUFFER_TOO_SMALL;
			} else {
				memcpy(out, ref.field_path.ptr, copied);
				io->hash = krg_hash(out, copied);
			}
		} else {
			for (i = 0, copied = 0; i < 7; i++) {
				if (io->src[i] == KRG_COPIED) {
					io->len[i] = (uint32_t)f[i]->len;
					copied += f[i]->len;
				}
			}
			io->needed = copied;
			if (copied > io->out_len) {
				st = KUBEREF_BUFFER_TOO_SMALL;
			} else {
				for (i = 0, at = 0; i < 7; i++) {
					if (io->src[i] == KRG_COPIED) {
						memcpy(out + at, f[i]->ptr, f[i]->len);
						at += f[i]->len;
					}
				}
				io->hash = krg_hash(out, copied);
			}
		}
	}
	if (buf != local) free(buf);
	io->status = st;
}

// krg_parse returns each part as an offset into p and a length. Every part
// lies in p (an empty one at some byte of p); an empty part gets offset 0,
// the same empty string whichever byte the library points it at.
static krg_result krg_parse(const char *p, size_t n) {
	kuberef_container_id out;
	krg_result r = {0};
	r.status = kuberef_container_id_parse(krg_s(p, n), &out);
	if (r.status == KUBEREF_OK) {
		r.off[0] = out.type.len ? (size_t)(out.type.ptr - p) : 0;
		r.len[0] = out.type.len;
		r.off[1] = out.id.len ? (size_t)(out.id.ptr - p) : 0;
		r.len[1] = out.id.len;
	}
	return r;
}

*/
import "C"

import (
	"unsafe"

	v1 "k8s.io/api/core/v1"
)

// maxStrLen is the C library's KUBEREF_MAX_STR_LEN: the longest string it
// accepts, in bytes.
const maxStrLen = C.KUBEREF_MAX_STR_LEN

// overLimit reports whether any of ss is longer than the library accepts.
func overLimit(ss ...string) bool {
	for _, s := range ss {
		if len(s) > maxStrLen {
			return true
		}
	}
	return false
}

// Status codes of the C library (include/kuberef.h).
const (
	statusOK               = uint32(C.KUBEREF_OK)
	statusNotFound         = uint32(C.KUBEREF_NOT_FOUND)
	statusBufferTooSmall   = uint32(C.KUBEREF_BUFFER_TOO_SMALL)
	statusInvalidContainer = uint32(C.KUBEREF_INVALID_CONTAINER_ID)
	statusOutOfMemory      = uint32(^uint32(0)) // the generate helper's own malloc failed
)

type cManager = C.kuberef_manager

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
	res := C.krg_set(m, tp, tl, ip, il, k, kl, n, nl, nm, nml, u, ul, a, al, r, rl, f, fl)
	return uint32(res.status), uint64(res.stamp)
}

// cStamp returns the status and the stamp of the reference stored under the
// key, without copying it.
func cStamp(m *cManager, typ, id string) (uint32, uint64) {
	tp, tl := cstr(typ)
	ip, il := cstr(id)
	res := C.krg_stamp(m, tp, tl, ip, il)
	return uint32(res.status), uint64(res.stamp)
}

func cGet(m *cManager, typ, id string, buf *byte, bufLen int) result {
	tp, tl := cstr(typ)
	ip, il := cstr(id)
	return goResult(C.krg_get(m, tp, tl, ip, il, (*C.char)(unsafe.Pointer(buf)), C.size_t(bufLen)))
}

// cClear removes a reference; it returns the status and the removed
// reference's stamp.
func cClear(m *cManager, typ, id string) (uint32, uint64) {
	tp, tl := cstr(typ)
	ip, il := cstr(id)
	res := C.krg_clear(m, tp, tl, ip, il)
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
