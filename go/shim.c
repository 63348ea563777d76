/* The C side of the Go binding (see shim.h). */
#include <stdlib.h>
#include <string.h>

#include "shim.h"

static kuberef_manager *krg_m(krg_manager m) {
	return (kuberef_manager *)m;
}

/* The status and stamp a helper returns. Built from values, not by the
 * library writing into the returned struct: the struct comes back in two
 * registers, and reading its first 8 bytes right after a 4-byte store of the
 * status stalls the load until the store is written (no store forwarding). */
static krg_stamped krg_stamped_of(kuberef_status st, uint64_t stamp) {
	krg_stamped r;
	r.status = st;
	r.stamp = stamp;
	return r;
}

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

/* A reference of the seven views (pointer and length each) Go passed. */
static kuberef_object_reference krg_ref(const char *kind, size_t kindl, const char *ns, size_t nsl,
		const char *name, size_t namel, const char *uid, size_t uidl,
		const char *av, size_t avl, const char *rv, size_t rvl,
		const char *fp, size_t fpl) {
	kuberef_object_reference ref;
	ref.kind = krg_s(kind, kindl);
	ref.namespace_ = krg_s(ns, nsl);
	ref.name = krg_s(name, namel);
	ref.uid = krg_s(uid, uidl);
	ref.api_version = krg_s(av, avl);
	ref.resource_version = krg_s(rv, rvl);
	ref.field_path = krg_s(fp, fpl);
	return ref;
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

krg_stamped krg_set(krg_manager m,
		const char *tp, size_t tl, const char *ip, size_t il,
		const char *kind, size_t kindl, const char *ns, size_t nsl,
		const char *name, size_t namel, const char *uid, size_t uidl,
		const char *av, size_t avl, const char *rv, size_t rvl,
		const char *fp, size_t fpl) {
	kuberef_container_id id = krg_id(tp, tl, ip, il);
	kuberef_object_reference ref = krg_ref(kind, kindl, ns, nsl, name, namel, uid, uidl, av, avl, rv, rvl, fp, fpl);
	uint64_t stamp = 0;
	kuberef_status st = kuberef_set_ref_stamped(krg_m(m), &id, &ref, &stamp);
	return krg_stamped_of(st, stamp);
}

krg_stamped krg_stamp(krg_manager m, const char *tp, size_t tl, const char *ip, size_t il) {
	kuberef_container_id id = krg_id(tp, tl, ip, il);
	uint64_t stamp = 0;
	kuberef_status st = kuberef_get_stamp(krg_m(m), &id, &stamp);
	return krg_stamped_of(st, stamp);
}

krg_result krg_get(krg_manager m,
		const char *tp, size_t tl, const char *ip, size_t il,
		char *buf, size_t buf_len) {
	kuberef_container_id id = krg_id(tp, tl, ip, il);
	kuberef_object_reference out;
	krg_result r = {0};
	r.status = kuberef_get_ref_stamped(krg_m(m), &id, &out, buf, buf_len, &r.needed, &r.stamp);
	if (r.status == KUBEREF_OK) krg_offsets(&r, &out, buf);
	return r;
}

krg_stamped krg_clear(krg_manager m, const char *tp, size_t tl, const char *ip, size_t il) {
	kuberef_container_id id = krg_id(tp, tl, ip, il);
	uint64_t stamp = 0;
	kuberef_status st = kuberef_clear_ref_stamped(krg_m(m), &id, &stamp);
	return krg_stamped_of(st, stamp);
}

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

void krg_generate(const char *kind, const char *av, const char *ns, const char *name,
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

krg_result krg_parse(const char *p, size_t n) {
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

krg_count krg_clear_pod(krg_manager m, const char *uid, size_t uidl) {
	krg_count r = {0, 0};
	r.status = kuberef_clear_pod(krg_m(m), krg_s(uid, uidl), &r.n);
	return r;
}

krg_count krg_retain(krg_manager m, const char *bytes, const size_t *lens, size_t n) {
	krg_count r = {0, 0};
	kuberef_container_id *ids = n ? malloc(n * sizeof *ids) : NULL;
	size_t i, at = 0;
	if (n && ids == NULL) {
		r.status = UINT32_MAX;
		return r;
	}
	for (i = 0; i < n; i++) {
		ids[i].type = krg_s(bytes + at, lens[2 * i]);
		at += lens[2 * i];
		ids[i].id = krg_s(bytes + at, lens[2 * i + 1]);
		at += lens[2 * i + 1];
	}
	r.status = kuberef_retain(krg_m(m), ids, n, &r.n);
	free(ids);
	return r;
}

static int krg_put(krg_snap *s, const void *p, size_t n) {
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

static int krg_visit(void *ctx, const kuberef_container_id *id, const kuberef_object_reference *r) {
	krg_snap *s = (krg_snap *)ctx;
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
	if (!krg_put(s, lens, sizeof lens)) return 1;
	for (i = 0; i < 9; i++)
		if (!krg_put(s, parts[i].ptr, parts[i].len)) return 1;
	s->count++;
	return 0;
}

krg_snap krg_snapshot(krg_manager m) {
	krg_snap s;
	memset(&s, 0, sizeof s);
	s.status = kuberef_for_each(krg_m(m), krg_visit, &s, NULL);
	if (s.oom) s.status = UINT32_MAX;
	return s;
}

krg_count krg_save(krg_manager m, const char *p, size_t n) {
	krg_count r = {0, 0};
	r.status = kuberef_save(krg_m(m), krg_s(p, n), &r.n);
	return r;
}

krg_count krg_load(krg_manager m, const char *p, size_t n, uint32_t flags) {
	krg_count r = {0, 0};
	r.status = kuberef_load(krg_m(m), krg_s(p, n), flags, &r.n);
	return r;
}

krg_count krg_json(const char *kind, size_t kindl, const char *ns, size_t nsl,
		const char *name, size_t namel, const char *uid, size_t uidl,
		const char *av, size_t avl, const char *rv, size_t rvl,
		const char *fp, size_t fpl, char *buf, size_t buf_len) {
	kuberef_object_reference ref = krg_ref(kind, kindl, ns, nsl, name, namel, uid, uidl, av, avl, rv, rvl, fp, fpl);
	krg_count r = {0, 0};
	r.status = kuberef_ref_to_json(&ref, buf, buf_len, &r.n);
	return r;
}

krg_stats krg_get_stats(krg_manager m) {
	krg_stats r;
	memset(&r, 0, sizeof r);
	r.s.size = sizeof r.s;
	r.status = kuberef_get_stats(krg_m(m), &r.s);
	return r;
}
