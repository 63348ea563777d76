#ifndef KUBEREF_GO_INTEROP_H
#define KUBEREF_GO_INTEROP_H
#include <stddef.h>
#include "kuberef.h"
int interop_c_set(const char *runtime, const char *cid, const char *name, const char *field_path);
int interop_c_get(const char *runtime, const char *cid, char *name, size_t name_len, char *field_path, size_t fp_len);
int interop_c_clear(const char *runtime, const char *cid);
size_t interop_c_len(void);
unsigned long long interop_c_lookups(void);
#endif
