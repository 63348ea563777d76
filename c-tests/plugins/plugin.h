/* The interface between the test hosts and the test plugins in this
 * directory. A plugin exports one function, refplugin_init (found with
 * dlsym); everything else goes through the table it returns, so a plugin
 * can keep every other symbol hidden.
 *
 * The types come from kuberef.h, but a host that includes this header does
 * not have to link libkuberef: it never calls a kuberef_* function itself. */
#ifndef KUBEREF_TEST_PLUGIN_H
#define KUBEREF_TEST_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "kuberef.h"

typedef struct refplugin {
  const char *name;
  /* The KUBEREF_ABI_VERSION the plugin was compiled against, and the
   * kuberef_abi_version() of the library it found at load time. */
  uint32_t built_abi;
  uint32_t runtime_abi;
  /* The manager the plugin sees as kuberef_global(): hosts compare it with
   * their own to tell a shared instance from a separate copy. */
  kuberef_manager *(*global)(void);
  /* SetRef/GetRef/ClearRef/Len on that manager. The reference stored is a
   * Pod reference whose name is pod_name; get copies that name out. */
  kuberef_status (*set)(const char *type, const char *id, const char *pod_name);
  kuberef_status (*get)(const char *type, const char *id, char *pod_name, size_t pod_name_len);
  kuberef_status (*clear)(const char *type, const char *id);
  size_t (*len)(void);
} refplugin;

/* Returns 0 and sets *out, or returns -1 with a message in err (the ABI
 * check failed). */
typedef int (*refplugin_init_fn)(const refplugin **out, char *err, size_t err_len);
#define REFPLUGIN_INIT_SYMBOL "refplugin_init"

#endif
