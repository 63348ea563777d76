/* The library where the operating system gives no random bytes (run under
 * shim.c): the global manager is not NULL, new managers are created, and
 * storing, reading, saving and loading work. Before the library drew its
 * seeds itself, std's hash keys panicked there: kuberef_global() returned
 * NULL, despite its "never NULL". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

#include "check.h"
#include "fixtures.h"

int main(void) {
  char buf[512], path[128];
  unsigned char r;
  kuberef_object_reference ref = mkref("web-0", "u-1", "spec.containers{app}"), out;
  kuberef_container_id id;
  kuberef_manager *g, *m;
  size_t needed = 0, n = 0;

  /* The shim is in place: no random bytes, no /dev/urandom. */
  CHECK(getrandom(&r, 1, 0) == -1 && errno == ENOSYS);
  CHECK(open("/dev/urandom", O_RDONLY) == -1 && errno == EACCES);

  g = kuberef_global();
  m = kuberef_manager_new();
  CHECK(g != NULL && m != NULL);
  if (g == NULL || m == NULL) return check_finish("test_no_random");
  CHECK_STATUS(kuberef_container_id_parse(S("containerd://abc"), &id), KUBEREF_OK);
  CHECK_STATUS(kuberef_set_ref(g, &id, &ref), KUBEREF_OK);
  CHECK_STATUS(kuberef_set_ref(m, &id, &ref), KUBEREF_OK);
  CHECK_STATUS(kuberef_get_ref(g, &id, &out, buf, sizeof buf, &needed), KUBEREF_OK);
  CHECK_STR(out.name, "web-0");

  /* (A path that names "random" is one the shim denies.) */
  snprintf(path, sizeof path, "/tmp/kuberef-norand-%ld.refs", (long)getpid());
  CHECK_STATUS(kuberef_save(m, S(path), &n), KUBEREF_OK);
  CHECK(n == 1);
  CHECK_STATUS(kuberef_clear_ref(m, &id), KUBEREF_OK);
  CHECK_STATUS(kuberef_load(m, S(path), KUBEREF_LOAD_REPLACE, &n), KUBEREF_OK);
  CHECK(n == 1 && kuberef_len(m) == 1);
  unlink(path);
  kuberef_manager_free(m);
  return check_finish("test_no_random");
}
