/* The C side of the Go binding: one helper per operation, called by
 * shim.go through cgo. Each takes the Go strings as pointer and length
 * arguments, builds the library's views on the C stack, calls the library,
 * and returns plain numbers (statuses, counts, offsets and lengths) by value,
 * or for krg_generate in a struct of numbers in the caller's memory. No
 * helper keeps a pointer after it returns or calls back into Go, so every
 * one may be declared #cgo noescape and nocallback; Go passes only pointers
 * to memory that holds no Go pointers (string bytes, byte buffers, structs of
 * numbers). krg_snapshot returns C memory the caller frees with free(). */
#ifndef KUBEREF_GO_SHIM_H
#define KUBEREF_GO_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include "kuberef.h"

// A manager's address (a kuberef_manager *, C memory) as a number. cgo
// checks at run time every pointer argument whose type may hold Go pointers,
// which an opaque struct may; an integer it passes as is.
typedef uintptr_t krg_manager;

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

typedef struct {
	uint32_t status;
	size_t n;
} krg_count;

// A snapshot in C memory: per pair, 9 lengths (size_t) then the 9 strings.
typedef struct {
	uint32_t status;
	char *data;
	size_t len, cap, count;
	int oom;
} krg_snap;

typedef struct {
	uint32_t status;
	kuberef_stats s;
} krg_stats;

krg_stamped krg_set(krg_manager m,
		const char *tp, size_t tl, const char *ip, size_t il,
		const char *kind, size_t kindl, const char *ns, size_t nsl,
		const char *name, size_t namel, const char *uid, size_t uidl,
		const char *av, size_t avl, const char *rv, size_t rvl,
		const char *fp, size_t fpl);

krg_stamped krg_stamp(krg_manager m, const char *tp, size_t tl, const char *ip, size_t il);

krg_result krg_get(krg_manager m,
		const char *tp, size_t tl, const char *ip, size_t il,
		char *buf, size_t buf_len);

krg_stamped krg_clear(krg_manager m, const char *tp, size_t tl, const char *ip, size_t il);

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
void krg_generate(const char *kind, const char *av, const char *ns, const char *name,
		const char *uid, const char *rv, const char *cname,
		const char *n0, const char *n1, const char *n2, const char *n3,
		const uint32_t *lens, const char *names, char *out, krg_gen_io *io);

// krg_parse returns each part as an offset into p and a length. Every part
// lies in p (an empty one at some byte of p); an empty part gets offset 0,
// the same empty string whichever byte the library points it at.
krg_result krg_parse(const char *p, size_t n);

krg_count krg_clear_pod(krg_manager m, const char *uid, size_t uidl);

// bytes holds the n IDs' types and IDs back to back (type 0, id 0, type 1,
// ...); lens their 2n lengths in the same order.
krg_count krg_retain(krg_manager m, const char *bytes, const size_t *lens, size_t n);

krg_snap krg_snapshot(krg_manager m);

krg_count krg_save(krg_manager m, const char *p, size_t n);

krg_count krg_load(krg_manager m, const char *p, size_t n, uint32_t flags);

krg_count krg_json(const char *kind, size_t kindl, const char *ns, size_t nsl,
		const char *name, size_t namel, const char *uid, size_t uidl,
		const char *av, size_t avl, const char *rv, size_t rvl,
		const char *fp, size_t fpl, char *buf, size_t buf_len);

krg_stats krg_get_stats(krg_manager m);

#endif
