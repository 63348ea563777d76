package kuberef

// This file is the only one that talks to the C library. Every exported
// operation is exactly one cgo call into one of the small static helpers
// below, which build the library's views on the C stack from the pointers and
// lengths Go passes as plain arguments, call the library, and return plain
// numbers (statuses, offsets, lengths) by value. The helpers keep no pointer
// after they return, Go passes only pointers to memory that holds no Go
// pointers (string bytes and byte buffers), and nothing Go-allocated is ever
// stored in C memory, so the cgo pointer rules hold without runtime.Pinner.

/*
#include <stdint.h>
#include <stdlib.h>
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

static uint32_t krg_clear(kuberef_manager *m, const char *tp, size_t tl, const char *ip, size_t il) {
	kuberef_container_id id = krg_id(tp, tl, ip, il);
	return kuberef_clear_ref(m, &id);
}

// names holds the container names of the three lists back to back (n_c, then
// n_i, then n_e of them); lens holds their lengths in the same order.
static krg_result krg_generate(
		const char *kind, size_t kindl, const char *av, size_t avl,
		const char *ns, size_t nsl, const char *name, size_t namel,
		const char *uid, size_t uidl, const char *rv, size_t rvl,
		const char *cname, size_t cnamel, uint32_t flags,
		const uint32_t *lens, const char *names, size_t n_c, size_t n_i, size_t n_e,
		char *buf, size_t buf_len) {
	kuberef_str stack[32];
	kuberef_str *views = stack;
	size_t n = n_c + n_i + n_e, i, at = 0;
	kuberef_pod pod;
	kuberef_object_reference out;
	krg_result r = {0};
	if (n > sizeof stack / sizeof stack[0]) {
		views = (kuberef_str *)malloc(n * sizeof *views);
		if (views == NULL) {
			r.status = UINT32_MAX;
			return r;
		}
	}
	for (i = 0; i < n; i++) {
		views[i] = krg_s(names + at, lens[i]);
		at += lens[i];
	}
	pod.kind = krg_s(kind, kindl);
	pod.api_version = krg_s(av, avl);
	pod.namespace_ = krg_s(ns, nsl);
	pod.name = krg_s(name, namel);
	pod.uid = krg_s(uid, uidl);
	pod.resource_version = krg_s(rv, rvl);
	pod.containers = n_c ? views : NULL;
	pod.containers_len = n_c;
	pod.init_containers = n_i ? views + n_c : NULL;
	pod.init_containers_len = n_i;
	pod.ephemeral_containers = n_e ? views + n_c + n_i : NULL;
	pod.ephemeral_containers_len = n_e;
	r.status = kuberef_generate_container_ref(&pod, krg_s(cname, cnamel), flags, &out, buf, buf_len, &r.needed);
	if (r.status == KUBEREF_OK) krg_offsets(&r, &out, buf);
	if (views != stack) free(views);
	return r;
}

static krg_result krg_parse(const char *p, size_t n) {
	kuberef_container_id out;
	krg_result r = {0};
	r.status = kuberef_container_id_parse(krg_s(p, n), &out);
	if (r.status == KUBEREF_OK) {
		r.off[0] = (size_t)(out.type.ptr - p);
		r.len[0] = out.type.len;
		r.off[1] = (size_t)(out.id.ptr - p);
		r.len[1] = out.id.len;
	}
	return r;
}

static uint32_t krg_format(const char *tp, size_t tl, const char *ip, size_t il, char *buf, size_t buf_len) {
	kuberef_container_id id = krg_id(tp, tl, ip, il);
	return kuberef_container_id_format(&id, buf, buf_len, NULL);
}
*/
import "C"

import (
	"unsafe"
)

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

func cClear(m *cManager, typ, id string) uint32 {
	tp, tl := cstr(typ)
	ip, il := cstr(id)
	return uint32(C.krg_clear(m, tp, tl, ip, il))
}

// podStrings are the pod fields kuberef_generate_container_ref reads.
type podStrings struct {
	kind, apiVersion, namespace, name, uid, resourceVersion string
}

func cGenerate(p *podStrings, container string, ephemeral bool, lens *uint32, names *byte,
	nc, ni, ne int, buf *byte, bufLen int) result {
	k, kl := cstr(p.kind)
	a, al := cstr(p.apiVersion)
	n, nl := cstr(p.namespace)
	nm, nml := cstr(p.name)
	u, ul := cstr(p.uid)
	r, rl := cstr(p.resourceVersion)
	c, cl := cstr(container)
	var flags C.uint32_t
	if ephemeral {
		flags = C.KUBEREF_GENERATE_EPHEMERAL_CONTAINERS
	}
	return goResult(C.krg_generate(k, kl, a, al, n, nl, nm, nml, u, ul, r, rl, c, cl, flags,
		(*C.uint32_t)(unsafe.Pointer(lens)), (*C.char)(unsafe.Pointer(names)),
		C.size_t(nc), C.size_t(ni), C.size_t(ne), (*C.char)(unsafe.Pointer(buf)), C.size_t(bufLen)))
}

func cParse(s string) result {
	p, n := cstr(s)
	return goResult(C.krg_parse(p, n))
}

func cFormat(typ, id string, buf []byte) uint32 {
	tp, tl := cstr(typ)
	ip, il := cstr(id)
	bp, bl := cbuf(buf)
	return uint32(C.krg_format(tp, tl, ip, il, bp, bl))
}
