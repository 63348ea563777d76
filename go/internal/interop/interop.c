/* C code that shares the process with the Go binding: it reads and writes
 * the global manager through the C ABI only. */
#include <string.h>

#include "interop.h"

static kuberef_str S(const char *s) {
	kuberef_str v;
	v.ptr = s;
	v.len = strlen(s);
	return v;
}

int interop_c_set(const char *runtime, const char *cid, const char *name, const char *field_path) {
	kuberef_container_id id;
	kuberef_object_reference ref;
	id.type = S(runtime);
	id.id = S(cid);
	ref.kind = S("Pod");
	ref.namespace_ = S("from-c");
	ref.name = S(name);
	ref.uid = S("c-uid");
	ref.api_version = S("v1");
	ref.resource_version = S("7");
	ref.field_path = S(field_path);
	return (int)kuberef_set_ref(kuberef_global(), &id, &ref);
}

int interop_c_get(const char *runtime, const char *cid, char *name, size_t name_len,
		char *field_path, size_t fp_len) {
	kuberef_container_id id;
	kuberef_object_reference ref;
	char buf[1024];
	size_t needed = 0;
	kuberef_status st;
	id.type = S(runtime);
	id.id = S(cid);
	st = kuberef_get_ref(kuberef_global(), &id, &ref, buf, sizeof buf, &needed);
	if (st != KUBEREF_OK) return (int)st;
	if (ref.name.len >= name_len || ref.field_path.len >= fp_len) return -1;
	memcpy(name, ref.name.ptr, ref.name.len + 1);
	memcpy(field_path, ref.field_path.ptr, ref.field_path.len + 1);
	return 0;
}

int interop_c_clear(const char *runtime, const char *cid) {
	kuberef_container_id id;
	id.type = S(runtime);
	id.id = S(cid);
	return (int)kuberef_clear_ref(kuberef_global(), &id);
}

size_t interop_c_len(void) { return kuberef_len(kuberef_global()); }

unsigned long long interop_c_lookups(void) {
	kuberef_stats st;
	memset(&st, 0, sizeof st);
	st.size = (uint32_t)sizeof st;
	if (kuberef_get_stats(kuberef_global(), &st) != KUBEREF_OK) return ~0ull;
	return (unsigned long long)st.gets;
}
