/**
 * kuberef: the Kubernetes v1.18.6 kubelet's container reference manager
 * (RefManager, GenerateContainerRef, ContainerID) behind a stable C ABI.
 *
 * ABI 1. Every symbol declared here is part of ABI 1 and never changes
 * meaning; later versions only add symbols (the list and the versioning
 * rule are at KUBEREF_ABI_VERSION). Link with -lkuberef (pkg-config:
 * kuberef); the shared library's SONAME is libkuberef.so.1.
 *
 * Rules for every function:
 * - Inputs are borrowed for the duration of the call only; the library
 *   keeps no pointer into caller memory and the caller never frees
 *   anything the library returns except managers from kuberef_manager_new.
 * - A NULL required pointer gets KUBEREF_NULL_ARGUMENT; a view or array
 *   with a NULL pointer and a non-zero length, a buffer or array length over
 *   PTRDIFF_MAX, or a string longer than KUBEREF_MAX_STR_LEN, gets
 *   KUBEREF_INVALID_ARGUMENT; a panic inside the library gets KUBEREF_PANIC
 *   (and Rust's panic hook prints its message on standard error; the
 *   library installs no hook of its own). Running out of memory aborts the
 *   process, as Rust's allocator does: it is not a status. On every error, stored state is unchanged
 *   and outputs are untouched (except *needed, see below, and *saved on
 *   KUBEREF_SAVE_NOT_DURABLE); the exceptions are a panic midway through a
 *   bulk removal (kuberef_clear_pod, kuberef_retain, kuberef_load with
 *   KUBEREF_LOAD_REPLACE), which may leave part of the removal done, and a
 *   kuberef_load whose file is rewritten in place while it reads it.
 * - Output buffers: strings are copied into the caller's buf, each followed
 *   by a NUL, and output views point into buf (an empty one at its NUL).
 *   The exceptions: kuberef_generate_container_ref_borrowed copies only what
 *   is not in the pod (the field path) and returns views of the pod's own
 *   strings for the rest; kuberef_container_id_parse returns views into
 *   text; kuberef_for_each's views point into the library's own copy, each
 *   followed by a NUL. Views into caller input are not NUL-terminated.
 *   *needed (when needed is not NULL) receives the exact size on KUBEREF_OK
 *   and on KUBEREF_BUFFER_TOO_SMALL. buf may be NULL when buf_len is 0.
 * - Output views point at readable memory, also when empty (ptr is never
 *   NULL). A view lies in buf, in the caller's input, in the library's copy
 *   (kuberef_for_each), in a static constant ("Pod" and "v1" of the borrowed
 *   generate), or, if it is empty and none of those, at the library's
 *   static empty string: one NUL byte at one fixed address, never freed.
 *   An empty view of a caller's input field is the caller's own pointer
 *   when that is not NULL (as readable as the caller made it); one given as
 *   {NULL, 0}, and an apiVersion that parses to nothing, is the static empty
 *   string. An empty part of kuberef_container_id_parse points at a byte of
 *   text. So every output view may go to memcpy or memcmp with any length
 *   up to len.
 * - Every function is thread-safe. Status codes are returned by value:
 *   there is no thread-local "last error".
 *
 * What the library cannot detect (undefined behaviour, as in any C API; the
 * library trusts every non-NULL pointer):
 * - a manager that was freed (use after kuberef_manager_free), that another
 *   thread frees during the call (kuberef_manager_free must not race with
 *   any other call on that manager), that no kuberef_manager_new or
 *   kuberef_global returned, or that came from another copy of the library
 *   in the same process (see the static-copy rule below);
 * - a view or array whose ptr is not NULL but points at fewer than len
 *   readable bytes or elements (freed, too short, unmapped). Only lengths
 *   no valid view can have are caught: over KUBEREF_MAX_STR_LEN, or an
 *   array larger than the address space;
 * - a buf with fewer than buf_len writable bytes, and out or needed
 *   pointers that are not NULL but not writable;
 * - outputs (buf, *out, *needed) that overlap any input (an id's or ref's
 *   views, the pod, the text): the result is unspecified;
 * - output views used after buf (get_ref, generate_container_ref), text
 *   (container_id_parse) or the pod's strings
 *   (generate_container_ref_borrowed) are freed or reused: they point into
 *   that memory;
 * - input memory that another thread changes during the call;
 * - a manager freed from inside a kuberef_for_each callback running on it
 *   (the callback may call every other function on that manager).
 * Use after fork() of a multithreaded process is unsupported (a lock held
 * by another thread stays held in the child); a single-threaded process's
 * child may keep using it.
 * The library is load-once: libkuberef.so is marked NODELETE, so dlclose
 * never unloads it and the global manager lives as long as the process.
 * Plugins that link it share one global manager; a plugin that links its
 * own static copy (libkuberef.a) has its own, separate one.
 */


/* Generated by cbindgen from src/ffi; do not edit. Run `make header` after changing the Rust source. */

#include <stddef.h>
#include <stdint.h>
#ifndef KUBEREF_H
#define KUBEREF_H

#ifdef __cplusplus
extern "C" {
#endif

/* =========================================================================
 * Types and general constants: the ABI version and the functions it
 * comprises, the string limit, the views every function takes and returns,
 * and the manager handle.
 * ======================================================================== */

/**
 * The version of the C ABI this header describes.
 *
 * ABI 1 is every function, type and constant this header declares. Its
 * functions, by the library version that added them:
 * 1.0.0: `kuberef_global`, `kuberef_manager_new`, `kuberef_manager_free`,
 * `kuberef_len`, `kuberef_set_ref`, `kuberef_get_ref`, `kuberef_clear_ref`,
 * `kuberef_generate_container_ref`, `kuberef_container_id_parse`,
 * `kuberef_container_id_format`, `kuberef_version`, `kuberef_abi_version`,
 * `kuberef_status_message`;
 * 1.1.0: `kuberef_clear_pod`, `kuberef_retain`, `kuberef_for_each`,
 * `kuberef_save`, `kuberef_load`, `kuberef_ref_to_json`, `kuberef_get_stats`;
 * 1.2.0: `kuberef_set_ref_stamped`, `kuberef_get_stamp`,
 * `kuberef_get_ref_stamped`, `kuberef_clear_ref_stamped`;
 * 1.3.0: `kuberef_change_counter`, `kuberef_generate_container_ref_borrowed`.
 *
 * None of them ever changes meaning (signature, layout, numbers or
 * behaviour). The rule: this number, and with it the SONAME
 * `libkuberef.so.N`, changes only if an ABI 1 symbol would have to change
 * meaning. Additions (new functions, new flags, new status codes, new
 * types) keep both, so a program built against ABI 1 runs unchanged on
 * every later ABI 1 library. On an older library, a program that calls an
 * added function gets an undefined-symbol error (at `dlopen(RTLD_NOW)`, at
 * start with `-z now`, else at the first call), and a new flag gets
 * `KUBEREF_INVALID_ARGUMENT`: never a silent misbehaviour.
 *
 * A plugin checks at load time that `kuberef_abi_version()` (the library
 * the dynamic linker found) equals this compile-time number, and refuses
 * to start otherwise.
 */
#define KUBEREF_ABI_VERSION 1

/**
 * The largest string the library accepts in any view, in bytes (64 MiB).
 * Longer views get `KUBEREF_INVALID_ARGUMENT`.
 */
#define KUBEREF_MAX_STR_LEN 67108864

/**
 * `kuberef_generate_container_ref` flag: search the pod's ephemeral
 * containers too, as with the EphemeralContainers feature gate on
 * (off by default in Kubernetes v1.18).
 */
#define KUBEREF_GENERATE_EPHEMERAL_CONTAINERS 1u

/**
 * `kuberef_load` flag: afterwards the manager holds exactly the file's
 * references (without it, the file's references are merged in: same IDs
 * overwritten, others kept).
 */
#define KUBEREF_LOAD_REPLACE 1u

/**
 * The version of `kuberef_stats` this header describes.
 */
#define KUBEREF_STATS_VERSION 1

/**
 * A container reference manager (upstream `RefManager`): a thread-safe map
 * from container ID to object reference. Opaque: use it only through
 * pointers the library returns.
 */
typedef struct kuberef_manager kuberef_manager;

/**
 * The status every fallible function returns. The numbers are stable:
 * a code is never renumbered or reused.
 */
typedef uint32_t kuberef_status;

/**
 * A view of bytes: `len` bytes at `ptr`, any values (embedded NULs count;
 * no NUL terminator is needed on input). `ptr` may be NULL only when `len`
 * is 0. The library never keeps an input view after the call returns. An
 * output view's `ptr` is never NULL, even when `len` is 0 (see the rules on
 * output views at the top of this header).
 */
typedef struct kuberef_str {
  /**
   * The first byte.
   */
  const char *ptr;
  /**
   * The number of bytes.
   */
  size_t len;
} kuberef_str;

/**
 * A container ID (upstream `ContainerID`): the runtime's name, such as
 * `containerd`, and the runtime's container ID. As a key it compares byte
 * for byte on both fields.
 */
typedef struct kuberef_container_id {
  /**
   * The runtime name (upstream `Type`).
   */
  struct kuberef_str type;
  /**
   * The runtime's container ID (upstream `ID`).
   */
  struct kuberef_str id;
} kuberef_container_id;

/**
 * A `v1.ObjectReference`, fields in upstream order. As an output of the
 * get and copying generate functions, every view points into the caller's
 * buffer and is followed there by a NUL byte;
 * `kuberef_generate_container_ref_borrowed` and `kuberef_for_each` say
 * where theirs point.
 */
typedef struct kuberef_object_reference {
  /**
   * `kind`, for example `Pod`.
   */
  struct kuberef_str kind;
  /**
   * `namespace` (named with a trailing underscore for C++).
   */
  struct kuberef_str namespace_;
  /**
   * `name`: the pod's name.
   */
  struct kuberef_str name;
  /**
   * `uid`: the pod's UID.
   */
  struct kuberef_str uid;
  /**
   * `apiVersion`, for example `v1`.
   */
  struct kuberef_str api_version;
  /**
   * `resourceVersion`: the pod's resource version.
   */
  struct kuberef_str resource_version;
  /**
   * `fieldPath`, for example `spec.containers{app}`.
   */
  struct kuberef_str field_path;
} kuberef_object_reference;

/**
 * What `kuberef_generate_container_ref` reads from a `v1.Pod`: TypeMeta,
 * ObjectMeta and the names of the containers in each spec list.
 */
typedef struct kuberef_pod {
  /**
   * TypeMeta.Kind
   */
  struct kuberef_str kind;
  /**
   * TypeMeta.APIVersion
   */
  struct kuberef_str api_version;
  /**
   * ObjectMeta.Namespace
   */
  struct kuberef_str namespace_;
  /**
   * ObjectMeta.Name
   */
  struct kuberef_str name;
  /**
   * ObjectMeta.UID
   */
  struct kuberef_str uid;
  /**
   * ObjectMeta.ResourceVersion
   */
  struct kuberef_str resource_version;
  /**
   * Spec.Containers[*].Name (NULL only if `containers_len` is 0).
   */
  const struct kuberef_str *containers;
  /**
   * The number of `containers`.
   */
  size_t containers_len;
  /**
   * Spec.InitContainers[*].Name (NULL only if `init_containers_len` is 0).
   */
  const struct kuberef_str *init_containers;
  /**
   * The number of `init_containers`.
   */
  size_t init_containers_len;
  /**
   * Spec.EphemeralContainers[*].Name (NULL only if
   * `ephemeral_containers_len` is 0).
   */
  const struct kuberef_str *ephemeral_containers;
  /**
   * The number of `ephemeral_containers`.
   */
  size_t ephemeral_containers_len;
} kuberef_pod;

/**
 * The visitor `kuberef_for_each` calls with each (container ID, reference)
 * pair. The views point into a copy owned by the library, each followed by
 * a NUL byte (an empty view points at its NUL), and are valid only until
 * the callback returns. Return 0 to go on, anything else to stop. The
 * callback must return normally (no longjmp, no C++ exception through the
 * library).
 */
typedef int (*kuberef_visit_fn)(void *ctx,
                                const struct kuberef_container_id *id,
                                const struct kuberef_object_reference *ref);

/**
 * A manager's counters, filled by `kuberef_get_stats`. Grows only at the end: the
 * caller sets `size` to `sizeof(kuberef_stats)` before the call and the
 * library writes only what fits in `size` bytes, so a program built against
 * this header keeps working with later libraries. The counters are read
 * without stopping writers: `count` and each counter that only grows
 * (`sets` to `pruned`) is a value it had during the call; `bytes`, summed
 * over the manager's shards one after another, may be off by what writers
 * changed meanwhile; and they may disagree slightly with each other.
 */
typedef struct kuberef_stats {
  /**
   * In: `sizeof(kuberef_stats)` as the caller knows it. Left as is.
   */
  uint32_t size;
  /**
   * Out: the version of the filled struct (`KUBEREF_STATS_VERSION`).
   */
  uint32_t version;
  /**
   * References stored by `kuberef_set_ref` and `kuberef_set_ref_stamped`
   * (overwrites included) and by `kuberef_load`.
   */
  uint64_t sets;
  /**
   * Lookups by `kuberef_get_ref`, `kuberef_get_ref_stamped` and
   * `kuberef_get_stamp`: `hits + misses`.
   */
  uint64_t gets;
  /**
   * Lookups that found a reference.
   */
  uint64_t hits;
  /**
   * Lookups that found none.
   */
  uint64_t misses;
  /**
   * References removed by `kuberef_clear_ref` and
   * `kuberef_clear_ref_stamped` (calls that found none are not counted).
   */
  uint64_t clears;
  /**
   * References removed in bulk by `kuberef_clear_pod`, `kuberef_retain`
   * and `kuberef_load` with `KUBEREF_LOAD_REPLACE`.
   */
  uint64_t pruned;
  /**
   * References stored now.
   */
  uint64_t count;
  /**
   * Approximate bytes the stored references use: entries and hash-table
   * slots, without allocator overhead.
   */
  uint64_t bytes;
} kuberef_stats;

/* =========================================================================
 * Status codes: every fallible function returns one, by value. The numbers
 * are stable: a code is never renumbered or reused, and later versions only
 * add codes after the last one.
 * ======================================================================== */

/**
 * Success; outputs were written.
 */
#define KUBEREF_OK 0

/**
 * No reference is stored under that container ID.
 */
#define KUBEREF_NOT_FOUND 1

/**
 * A required pointer argument was NULL.
 */
#define KUBEREF_NULL_ARGUMENT 2

/**
 * A view or array with a NULL pointer and a non-zero length, a buffer or
 * array length over `PTRDIFF_MAX`, a string over `KUBEREF_MAX_STR_LEN`, an
 * empty path or one with a NUL byte (`kuberef_save`, `kuberef_load`), or
 * an unknown flag.
 */
#define KUBEREF_INVALID_ARGUMENT 3

/**
 * The output buffer is too small; `*needed` (when given) holds the size that
 * suffices, and nothing else was written.
 */
#define KUBEREF_BUFFER_TOO_SMALL 4

/**
 * The text is not `type://id`.
 */
#define KUBEREF_INVALID_CONTAINER_ID 5

/**
 * The library panicked inside the call. A call that stores or clears one
 * reference changed nothing; a bulk removal (`kuberef_clear_pod`,
 * `kuberef_retain`, `kuberef_load` with `KUBEREF_LOAD_REPLACE`) may have
 * removed part of what it would have. Every stored reference stays whole.
 */
#define KUBEREF_PANIC 6

/**
 * `kuberef_save`: the save failed before replacing the file (for example a
 * missing directory, no permission, a full disk), and no temporary file is
 * left; `kuberef_load`: the operating system refused to open or read the
 * file. The file at the path and the manager are unchanged.
 */
#define KUBEREF_IO_ERROR 7

/**
 * `kuberef_load`: there is no file at that path; the manager is unchanged.
 */
#define KUBEREF_FILE_NOT_FOUND 8

/**
 * `kuberef_load`: the file is not a kuberef references file (wrong magic);
 * the manager is unchanged.
 */
#define KUBEREF_FILE_FOREIGN 9

/**
 * `kuberef_load`: a references file of a format version this library does
 * not read; the manager is unchanged.
 */
#define KUBEREF_FILE_VERSION 10

/**
 * `kuberef_load`: the file ends before its header says it does; the
 * manager is unchanged.
 */
#define KUBEREF_FILE_TRUNCATED 11

/**
 * `kuberef_load`: a checksum does not match or the contents are
 * inconsistent; the manager is unchanged (except in the case
 * `kuberef_load` describes: the file rewritten in place during the load).
 */
#define KUBEREF_FILE_CORRUPT 12

/**
 * `kuberef_save`: the file at the path was replaced and holds the new
 * snapshot (`*saved` is written), but its directory could not be synced
 * (for example a directory the caller may write but not read), so after a
 * crash or power loss the previous file may be back.
 */
#define KUBEREF_SAVE_NOT_DURABLE 13

/**
 * `kuberef_load`: the path is a directory, FIFO, socket or device, not a
 * regular file; nothing was read and the manager is unchanged.
 */
#define KUBEREF_FILE_NOT_REGULAR 14

/**
 * A static, NUL-terminated English description of `status`, never freed;
 * unknown codes get a generic text.
 */
const char *kuberef_status_message(uint32_t status);

/* =========================================================================
 * Managers: the process-wide one, and independent ones a caller owns.
 * ======================================================================== */

/**
 * The process-wide manager, shared by every caller in the process that uses
 * the same loaded copy of the library (the Go binding's `Global()`, C code
 * and plugins). Never NULL; never freed (`kuberef_manager_free` ignores it).
 */
struct kuberef_manager *kuberef_global(void);

/**
 * A new, empty manager, independent of every other (upstream
 * `NewRefManager`). The caller owns it and frees it with
 * `kuberef_manager_free`. NULL only if the library panicked.
 */
struct kuberef_manager *kuberef_manager_new(void);

/**
 * Frees a manager from `kuberef_manager_new` and every reference it holds.
 * NULL and the global manager are ignored. No other call may use `m`
 * during or after this one.
 *
 * # Safety
 * `m` is NULL, the global manager, or a live manager from `kuberef_manager_new`.
 */
void kuberef_manager_free(struct kuberef_manager *m);

/**
 * The number of references stored in `m`; 0 for NULL. With concurrent
 * writers it is a count the manager had during the call.
 *
 * # Safety
 * `m` is NULL or a live manager.
 */
size_t kuberef_len(const struct kuberef_manager *m);

/* =========================================================================
 * Storing, copying out and forgetting references (upstream `SetRef`,
 * `GetRef`, `ClearRef`).
 * ======================================================================== */

/**
 * Stores a copy of `*ref` under `*id`, replacing any earlier reference
 * silently (upstream `SetRef`). The library keeps no pointer into the
 * arguments.
 * Returns `KUBEREF_OK`, `KUBEREF_NULL_ARGUMENT`, `KUBEREF_INVALID_ARGUMENT`
 * or `KUBEREF_PANIC`; on any error the manager is unchanged.
 *
 * # Safety
 * Non-NULL pointers and views point to valid memory for the call.
 */
kuberef_status kuberef_set_ref(struct kuberef_manager *m,
                               const struct kuberef_container_id *id,
                               const struct kuberef_object_reference *ref);

/**
 * Copies the reference stored under `*id` into `buf` (upstream `GetRef`):
 * each of the seven fields followed by a NUL byte, with `*out`'s views
 * pointing into `buf` (an empty field gets a non-NULL pointer to its NUL).
 * `*needed`, when `needed` is not NULL, receives the byte count the output
 * needs on `KUBEREF_OK` and `KUBEREF_BUFFER_TOO_SMALL`; repeat the call with
 * that many bytes. `buf` may be NULL when `buf_len` is 0. `*out` is written
 * only on `KUBEREF_OK`; it stays valid as long as `buf` does.
 * Returns `KUBEREF_OK`, `KUBEREF_NOT_FOUND`, `KUBEREF_BUFFER_TOO_SMALL`,
 * `KUBEREF_NULL_ARGUMENT` (`m`, `id` or `out`), `KUBEREF_INVALID_ARGUMENT`
 * or `KUBEREF_PANIC`.
 *
 * # Safety
 * Non-NULL pointers and views point to valid memory for the call; `buf`
 * has `buf_len` writable bytes.
 */
kuberef_status kuberef_get_ref(const struct kuberef_manager *m,
                               const struct kuberef_container_id *id,
                               struct kuberef_object_reference *out,
                               char *buf,
                               size_t buf_len,
                               size_t *needed);

/**
 * Forgets the reference stored under `*id` (upstream `ClearRef`).
 * Returns `KUBEREF_OK` if one was removed, `KUBEREF_NOT_FOUND` if there was
 * none (upstream ignores that case; so may the caller), or an argument error.
 *
 * # Safety
 * Non-NULL pointers and views point to valid memory for the call.
 */
kuberef_status kuberef_clear_ref(struct kuberef_manager *m, const struct kuberef_container_id *id);

/* =========================================================================
 * Upstream `GenerateContainerRef` (Kubernetes v1.18.6): a pod argument,
 * checked, and the reference generated into the caller's buffer.
 * ======================================================================== */

/**
 * Builds the reference the kubelet stores for container `container_name` of
 * `*pod` (upstream `GenerateContainerRef`, Kubernetes v1.18.6), into `buf`
 * with the same buffer protocol as `kuberef_get_ref`. `flags` is 0 or
 * `KUBEREF_GENERATE_EPHEMERAL_CONTAINERS`; other bits get
 * `KUBEREF_INVALID_ARGUMENT`. A container that is not in the pod is not an
 * error: its field path is `implicitly required container NAME`.
 * Returns `KUBEREF_OK`, `KUBEREF_BUFFER_TOO_SMALL`, `KUBEREF_NULL_ARGUMENT`
 * (`pod` or `out`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
 *
 * # Safety
 * Non-NULL pointers, views and arrays point to valid memory for the call;
 * `buf` has `buf_len` writable bytes.
 */
kuberef_status kuberef_generate_container_ref(const struct kuberef_pod *pod,
                                              struct kuberef_str container_name,
                                              uint32_t flags,
                                              struct kuberef_object_reference *out,
                                              char *buf,
                                              size_t buf_len,
                                              size_t *needed);

/* =========================================================================
 * Container IDs as text: upstream `ParseString` and `String`.
 * ======================================================================== */

/**
 * Parses `type://id` (upstream `ParseString`): every leading and trailing
 * `"` is trimmed, then the text must contain `://` exactly once. On
 * `KUBEREF_OK`, `*out`'s views point into `text` (valid as long as it is;
 * not NUL-terminated), each at its part's offset in `text`, except an
 * empty part at the very end (the id of `docker://`), which points at the
 * last byte of `text`: never one past its end.
 * Returns `KUBEREF_OK`, `KUBEREF_INVALID_CONTAINER_ID`,
 * `KUBEREF_NULL_ARGUMENT` (`out`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
 *
 * # Safety
 * `text` is a valid view; `out` is NULL or writable.
 */
kuberef_status kuberef_container_id_parse(struct kuberef_str text,
                                          struct kuberef_container_id *out);

/**
 * Writes `type://id` followed by a NUL into `buf` (upstream `String`).
 * `*needed`, when not NULL, receives the length plus one on `KUBEREF_OK`
 * and `KUBEREF_BUFFER_TOO_SMALL`. `buf` may be NULL when `buf_len` is 0.
 * Returns `KUBEREF_OK`, `KUBEREF_BUFFER_TOO_SMALL`, `KUBEREF_NULL_ARGUMENT`
 * (`id`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
 *
 * # Safety
 * `id` is NULL or valid; `buf` has `buf_len` writable bytes.
 */
kuberef_status kuberef_container_id_format(const struct kuberef_container_id *id,
                                           char *buf,
                                           size_t buf_len,
                                           size_t *needed);

/* =========================================================================
 * The library's version and ABI version, for the load-time check.
 * ======================================================================== */

/**
 * The library's version, such as `1.3.0`: a static NUL-terminated string,
 * never freed.
 */
const char *kuberef_version(void);

/**
 * The ABI version of the loaded library; equal to `KUBEREF_ABI_VERSION`
 * when header and library match. A plugin compares the two at load time
 * (see `KUBEREF_ABI_VERSION` for the rule).
 */
uint32_t kuberef_abi_version(void);

/* =========================================================================
 * Leak control: removing the references of a pod, or of every container
 * that is no longer alive, in bulk.
 * ======================================================================== */

/**
 * Removes every reference whose `uid` equals `pod_uid` byte for byte (for
 * example when the kubelet forgets a pod), and writes how many it removed
 * to `*removed` when `removed` is not NULL. Scales with the number of
 * stored references; writers wait for one shard's scan or one batch of
 * removals at a time, and a get waits for one removal at most (each is a
 * change of its own, see `kuberef_change_counter`), as for a clear.
 * Returns `KUBEREF_OK` (also when nothing matched), `KUBEREF_NULL_ARGUMENT`
 * (`m`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
 *
 * # Safety
 * `m` is NULL or a live manager; `pod_uid` is a valid view; `removed` is
 * NULL or writable.
 */
kuberef_status kuberef_clear_pod(struct kuberef_manager *m,
                                 struct kuberef_str pod_uid,
                                 size_t *removed);

/**
 * Keeps only the references stored under the `n` container IDs in
 * `live_ids` (for example the containers the runtime still reports),
 * removes every other one, and writes how many it removed to `*removed`
 * when `removed` is not NULL. IDs without a reference are ignored;
 * `live_ids` may be NULL when `n` is 0 (which removes everything). Runs in
 * O(stored + n): the live IDs are hashed once. Every view is checked
 * before anything is removed.
 * Returns `KUBEREF_OK`, `KUBEREF_NULL_ARGUMENT` (`m`),
 * `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
 *
 * # Safety
 * `m` is NULL or a live manager; `live_ids` is NULL or points to `n` valid
 * container IDs; `removed` is NULL or writable.
 */
kuberef_status kuberef_retain(struct kuberef_manager *m,
                              const struct kuberef_container_id *live_ids,
                              size_t n,
                              size_t *removed);

/* =========================================================================
 * Enumeration: every stored pair, shown to a caller's callback with no
 * lock held.
 * ======================================================================== */

/**
 * Calls `visit(ctx, &id, &ref)` for every stored pair, and writes the
 * number of calls made to `*visited` when `visited` is not NULL. The
 * manager is copied one shard at a time (1/32 of it) and no lock is held
 * while `visit` runs, so `visit` may call any kuberef function, on this
 * manager too. Consistency is per shard: a reference stored for the whole
 * call is visited exactly once; one set or cleared during the call is
 * visited at most once. The order is unspecified. A non-zero return from
 * `visit` stops the enumeration (still `KUBEREF_OK`).
 * Returns `KUBEREF_OK`, `KUBEREF_NULL_ARGUMENT` (`m` or `visit`) or
 * `KUBEREF_PANIC`.
 *
 * # Safety
 * `m` is NULL or a live manager; `visit` is NULL or a function as
 * described by `kuberef_visit_fn`; `visited` is NULL or writable.
 */
kuberef_status kuberef_for_each(const struct kuberef_manager *m,
                                kuberef_visit_fn visit,
                                void *ctx,
                                size_t *visited);

/* =========================================================================
 * Persistence: saving every reference to a snapshot file atomically, and
 * loading it back after a restart.
 * ======================================================================== */

/**
 * Writes every reference in `m` to the file at `path` atomically: into a
 * new temporary file in the same directory, named
 * `<file name>.kuberef-tmp.<16 random hex digits>` (with the file name cut
 * to its first 200 bytes, so that the name fits) and created exclusively
 * (never through a symbolic link, never over an existing file), mode 0600,
 * then fsync, rename over `path`, fsync of the directory. The file at
 * `path` is therefore always either the previous complete file or the new
 * one, even if the process is killed; a symbolic link at `path` is
 * replaced, never written through. Saves share no lock: any number of
 * threads and processes may save, to the same path or others, at once,
 * and the last rename wins. A save that fails removes its temporary file;
 * one killed midway leaves it, and a later successful save to the same
 * path (or to one whose name has the same first 200 bytes) removes such
 * leftovers once they are 5 seconds old and no save holds them (they are
 * safe to delete by hand when no save is running).
 * `path` is a view of the path's bytes (no NUL needed; an embedded NUL or
 * an empty path gets `KUBEREF_INVALID_ARGUMENT`); a relative path is
 * relative to the current directory. The manager is copied shard by shard
 * (the same consistency as `kuberef_for_each`) and no lock is held during
 * I/O. `*saved`, when `saved` is not NULL, receives the number of
 * references written, on `KUBEREF_OK` and `KUBEREF_SAVE_NOT_DURABLE`.
 * Returns `KUBEREF_OK`, `KUBEREF_SAVE_NOT_DURABLE` (the file was
 * replaced), `KUBEREF_IO_ERROR` (the file at `path` is untouched),
 * `KUBEREF_NULL_ARGUMENT` (`m`), `KUBEREF_INVALID_ARGUMENT` or
 * `KUBEREF_PANIC`.
 *
 * # Safety
 * `m` is NULL or a live manager; `path` is a valid view; `saved` is NULL
 * or writable.
 */
kuberef_status kuberef_save(const struct kuberef_manager *m,
                            struct kuberef_str path,
                            size_t *saved);

/**
 * Restores the references saved by `kuberef_save` in the file at `path`
 * (a view of the path's bytes, as for `kuberef_save`; a symbolic link is
 * followed). With `flags` 0 they are merged in (same IDs overwritten,
 * others kept); with `KUBEREF_LOAD_REPLACE` they are set, then every
 * reference stored before the load began and not set by it is removed, so
 * concurrent readers never miss a reference that is in both, and without
 * concurrent writers the manager ends up holding exactly the file's
 * references (references others set during the load are kept).
 * Anything but a regular file is refused without being opened (a symbolic
 * link is followed), also when the path changes during the call, on Linux
 * with `/proc` mounted (elsewhere such a change can have a special file
 * opened, without blocking, then refused), and the file is opened without
 * blocking. Its header
 * is checked against its real size and against what its record count can
 * need, then the whole file is checked (every record and the checksum)
 * before anything changes, in memory that does not depend on the file's
 * size: on every error the manager is unchanged. The one exception: if the file is rewritten in
 * place while it is read (which `kuberef_save` never does), the load
 * returns `KUBEREF_FILE_CORRUPT` (or `KUBEREF_IO_ERROR` for a failed read)
 * and may have applied part of it. `*loaded`, when `loaded` is not NULL,
 * receives the number of references in the file.
 * Returns `KUBEREF_OK`, `KUBEREF_FILE_NOT_FOUND`,
 * `KUBEREF_FILE_NOT_REGULAR`, `KUBEREF_FILE_FOREIGN`,
 * `KUBEREF_FILE_VERSION`, `KUBEREF_FILE_TRUNCATED`, `KUBEREF_FILE_CORRUPT`,
 * `KUBEREF_IO_ERROR`, `KUBEREF_NULL_ARGUMENT` (`m`),
 * `KUBEREF_INVALID_ARGUMENT` (bad view, path or unknown flag) or
 * `KUBEREF_PANIC`.
 *
 * # Safety
 * `m` is NULL or a live manager; `path` is a valid view; `loaded` is NULL
 * or writable.
 */
kuberef_status kuberef_load(struct kuberef_manager *m,
                            struct kuberef_str path,
                            uint32_t flags,
                            size_t *loaded);

/* =========================================================================
 * Event JSON: a reference exactly as Go's `json.Marshal` (Go 1.22 and
 * later) writes it.
 * ======================================================================== */

/**
 * Writes `*ref` as JSON into `buf`, followed by a NUL: exactly the bytes
 * Go's `json.Marshal` produces for a `v1.ObjectReference` with these
 * fields (field order `kind, namespace, name, uid, apiVersion,
 * resourceVersion, fieldPath`; empty fields omitted; `<`, `>`, `&`,
 * U+2028, U+2029 and control characters escaped as Go does; each byte of
 * invalid UTF-8 as `\ufffd`), ready for an event's `involvedObject`. Go
 * 1.22 and later, that is: older Go and the json-iterator of Kubernetes
 * v1.18's API client write backspace and form feed as `\u0008` and
 * `\u000c`, not `\b` and `\f` (the same string once decoded).
 * `*needed`, when not NULL, receives the JSON's length plus one on
 * `KUBEREF_OK` and `KUBEREF_BUFFER_TOO_SMALL`. `buf` may be NULL when
 * `buf_len` is 0; such a size query allocates nothing, and a call with room
 * writes the JSON straight into `buf`.
 * Returns `KUBEREF_OK`, `KUBEREF_BUFFER_TOO_SMALL`, `KUBEREF_NULL_ARGUMENT`
 * (`ref`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
 *
 * # Safety
 * `ref` is NULL or valid with valid views; `buf` has `buf_len` writable
 * bytes; `needed` is NULL or writable.
 */
kuberef_status kuberef_ref_to_json(const struct kuberef_object_reference *ref,
                                   char *buf,
                                   size_t buf_len,
                                   size_t *needed);

/* =========================================================================
 * Counters a kubelet can export as metrics.
 * ======================================================================== */

/**
 * Fills `*out` with `m`'s counters (see `kuberef_stats`). Set
 * `out->size = sizeof(kuberef_stats)` first; a size smaller than version
 * 1's struct (72 bytes) gets `KUBEREF_INVALID_ARGUMENT`, and only `size`
 * bytes are written. Cheap: the counters are
 * always on (relaxed atomics, per shard and per reading thread) and summed
 * here; no lock is taken.
 * Returns `KUBEREF_OK`, `KUBEREF_NULL_ARGUMENT` (`m` or `out`),
 * `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
 *
 * # Safety
 * `m` is NULL or a live manager; `out` is NULL or points to `out->size`
 * writable bytes.
 */
kuberef_status kuberef_get_stats(const struct kuberef_manager *m, struct kuberef_stats *out);

/* =========================================================================
 * Binding support: exports that exist so that a binding in another
 * language (the Go binding) can keep what it built from a stored reference
 * and answer from it without calling the library, and can generate a
 * reference that shares the pod's own strings, as upstream's does. C
 * callers may use them too; they are part of ABI 1 and frozen like every
 * other symbol. A future need extends an existing function's contract
 * (for example an optional out-parameter that accepts NULL) rather than
 * adding another variant of it.
 * ======================================================================== */

/**
 * Like `kuberef_set_ref`, and writes the new reference's stamp to
 * `*stamp`: a nonzero number that no other reference stored in `m` has had
 * or will have (every store, even of an equal reference, gets a new one).
 * While this reference stays stored, `kuberef_get_stamp` returns the same
 * number, so a caller can keep what it built from it and skip copying it
 * again. `*stamp` is written only on `KUBEREF_OK`.
 * Returns what `kuberef_set_ref` returns (`KUBEREF_NULL_ARGUMENT` also for
 * `stamp`); on any error the manager is unchanged.
 *
 * # Safety
 * Non-NULL pointers and views point to valid memory for the call.
 */
kuberef_status kuberef_set_ref_stamped(struct kuberef_manager *m,
                                       const struct kuberef_container_id *id,
                                       const struct kuberef_object_reference *ref,
                                       uint64_t *stamp);

/**
 * Writes the stamp of the reference stored under `*id` to `*stamp`
 * without copying the reference (see `kuberef_set_ref_stamped`): equal to
 * a stamp seen earlier exactly when that same stored reference is still
 * the one under `*id`. `*stamp` is written only on `KUBEREF_OK`.
 * Returns `KUBEREF_OK`, `KUBEREF_NOT_FOUND`, `KUBEREF_NULL_ARGUMENT` (`m`,
 * `id` or `stamp`), `KUBEREF_INVALID_ARGUMENT` or `KUBEREF_PANIC`.
 *
 * # Safety
 * Non-NULL pointers and views point to valid memory for the call.
 */
kuberef_status kuberef_get_stamp(const struct kuberef_manager *m,
                                 const struct kuberef_container_id *id,
                                 uint64_t *stamp);

/**
 * Like `kuberef_get_ref`, and writes the stamp of the reference it copied
 * to `*stamp` (see `kuberef_set_ref_stamped`), taken in the same lookup as
 * the copy. `*stamp` is written only on `KUBEREF_OK`.
 * Returns what `kuberef_get_ref` returns (`KUBEREF_NULL_ARGUMENT` also for
 * `stamp`).
 *
 * # Safety
 * Non-NULL pointers and views point to valid memory for the call; `buf`
 * has `buf_len` writable bytes.
 */
kuberef_status kuberef_get_ref_stamped(const struct kuberef_manager *m,
                                       const struct kuberef_container_id *id,
                                       struct kuberef_object_reference *out,
                                       char *buf,
                                       size_t buf_len,
                                       size_t *needed,
                                       uint64_t *stamp);

/**
 * Like `kuberef_clear_ref`, and writes the stamp of the reference it
 * removed to `*stamp` (see `kuberef_set_ref_stamped`), so that a caller can
 * drop what it kept for that reference. `*stamp` is written only on
 * `KUBEREF_OK`.
 * Returns what `kuberef_clear_ref` returns (`KUBEREF_NULL_ARGUMENT` also
 * for `stamp`).
 *
 * # Safety
 * Non-NULL pointers and views point to valid memory for the call.
 */
kuberef_status kuberef_clear_ref_stamped(struct kuberef_manager *m,
                                         const struct kuberef_container_id *id,
                                         uint64_t *stamp);

/**
 * The change counter of `m`: the address of a 64-bit count that grows by
 * at least one with every change to the references stored in `m` (each
 * set (a load's too), each clear, and each removal of a bulk removal
 * (`kuberef_clear_pod`, `kuberef_retain`, a replacing load); a clear of an
 * absent key, or a bulk removal finding a key replaced since its scan, may
 * count too) before any get can see that change (it moves by
 * two per change, and is odd while one is in progress). Gets and
 * other reads never change it. If a caller loads the same value before and
 * after a get, nothing that get could see changed in between, so what the
 * caller copied stays current for as long as the counter keeps that value:
 * a cache can answer without calling the library.
 * Load it atomically and never write it: C11
 * `atomic_load_explicit((const _Atomic uint64_t *)p, memory_order_acquire)`,
 * or `__atomic_load_n(p, __ATOMIC_ACQUIRE)` in GCC and Clang. The address
 * stays valid until `m` is freed (for ever for the global manager); the
 * caller owns nothing. NULL for a NULL `m` or if the library panicked.
 *
 * # Safety
 * `m` is NULL or a live manager.
 */
const uint64_t *kuberef_change_counter(const struct kuberef_manager *m);

/**
 * Like `kuberef_generate_container_ref`, but the result borrows, as
 * upstream's does: each field of `*out` that upstream takes from the pod
 * (namespace, name, uid, resourceVersion, and kind and apiVersion when the
 * pod has them) is a view of the pod's own bytes, the constants `Pod` and
 * `v1` of the scheme fallback are views of static strings, and only the rest
 * (the field path; an apiVersion that is not one slice of the pod's, which
 * never happens with upstream's parsing) is written to `buf`, each followed
 * by a NUL: the exception to the header's rule that output strings are
 * copied into `buf`. Views into the pod are not NUL-terminated and are
 * valid as long as the pod's strings are; views into `buf` as long as
 * `buf` is. An empty field is the pod's own view of that field when it is
 * empty too and its pointer is not NULL (kind, namespace, name, uid,
 * apiVersion, resourceVersion); otherwise (the pod gave `{NULL, 0}`, or an
 * apiVersion that parses to nothing, such as `/` or `a/b/c`) it is the
 * library's static empty string. The field path is never empty.
 * `*needed` (when not NULL) is the room the written fields take in `buf`,
 * NULs included, and is written on `KUBEREF_OK` and
 * `KUBEREF_BUFFER_TOO_SMALL`; `*out` and `buf` only on `KUBEREF_OK`.
 * No byte of the pod's strings is copied, and only the apiVersion (parsed)
 * and the container names (compared) are read.
 * Returns what `kuberef_generate_container_ref` returns.
 *
 * # Safety
 * Non-NULL pointers, views and arrays point to valid memory for the call;
 * `buf` has `buf_len` writable bytes.
 */
kuberef_status kuberef_generate_container_ref_borrowed(const struct kuberef_pod *pod,
                                                       struct kuberef_str container_name,
                                                       uint32_t flags,
                                                       struct kuberef_object_reference *out,
                                                       char *buf,
                                                       size_t buf_len,
                                                       size_t *needed);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* KUBEREF_H */
