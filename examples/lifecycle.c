/* The life of one container's reference, as the kubelet drives it:
 * start (GenerateContainerRef + SetRef), a probe failure (GetRef to report
 * an event), kill (ClearRef). Uses the process-wide manager. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kuberef.h"

static kuberef_str S(const char *s) {
  kuberef_str v;
  v.ptr = s;
  v.len = strlen(s);
  return v;
}

static int fail(const char *what, kuberef_status s) {
  fprintf(stderr, "%s: %s (%u)\n", what, kuberef_status_message(s), (unsigned)s);
  return 1;
}

int main(void) {
  kuberef_manager *m = kuberef_global();
  kuberef_str containers[2];
  kuberef_pod pod;
  kuberef_object_reference ref;
  kuberef_container_id id;
  char *buf;
  char probe_buf[512];
  size_t needed = 0;
  kuberef_status s;

  printf("kuberef %s (ABI %u)\n", kuberef_version(), (unsigned)kuberef_abi_version());
  if (kuberef_abi_version() != KUBEREF_ABI_VERSION) return fail("ABI mismatch", KUBEREF_INVALID_ARGUMENT);

  /* 1. The kubelet starts container "app" of pod default/web. */
  memset(&pod, 0, sizeof pod);
  pod.kind = S("Pod");
  pod.api_version = S("v1");
  pod.namespace_ = S("default");
  pod.name = S("web");
  pod.uid = S("5f1c2a9e-8d7b-4c3a-9e1f-0a2b3c4d5e6f");
  pod.resource_version = S("1207");
  containers[0] = S("app");
  containers[1] = S("log-shipper");
  pod.containers = containers;
  pod.containers_len = 2;

  /* Ask for the size, then generate into a buffer of exactly that size. */
  s = kuberef_generate_container_ref(&pod, S("app"), 0, &ref, NULL, 0, &needed);
  if (s != KUBEREF_BUFFER_TOO_SMALL) return fail("size query", s);
  buf = (char *)malloc(needed);
  if (buf == NULL) return 1;
  s = kuberef_generate_container_ref(&pod, S("app"), 0, &ref, buf, needed, NULL);
  if (s != KUBEREF_OK) return fail("generate", s);

  s = kuberef_container_id_parse(S("containerd://9b1e4c7d2a3f"), &id);
  if (s != KUBEREF_OK) return fail("parse", s);
  s = kuberef_set_ref(m, &id, &ref); /* copies: buf can go now */
  free(buf);
  if (s != KUBEREF_OK) return fail("set", s);
  printf("started   containerd://9b1e4c7d2a3f  refs=%zu\n", kuberef_len(m));

  /* 2. A liveness probe fails: the prober looks the reference up. */
  s = kuberef_get_ref(m, &id, &ref, probe_buf, sizeof probe_buf, NULL);
  if (s != KUBEREF_OK) return fail("get", s);
  printf("event     Warning Unhealthy on %s %s/%s (uid %s, apiVersion %s, rv %s) %s\n", ref.kind.ptr,
         ref.namespace_.ptr, ref.name.ptr, ref.uid.ptr, ref.api_version.ptr, ref.resource_version.ptr,
         ref.field_path.ptr);

  /* 3. The kubelet kills the container and forgets the reference. */
  s = kuberef_clear_ref(m, &id);
  if (s != KUBEREF_OK) return fail("clear", s);
  s = kuberef_get_ref(m, &id, &ref, probe_buf, sizeof probe_buf, NULL);
  printf("killed    containerd://9b1e4c7d2a3f  refs=%zu  get -> %s\n", kuberef_len(m),
         kuberef_status_message(s));
  return s == KUBEREF_NOT_FOUND ? 0 : 1;
}
