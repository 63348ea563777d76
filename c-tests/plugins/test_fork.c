/* fork(): the child of a single-threaded parent may keep using the global
 * manager, and starts with a copy of the parent's references at the time
 * of the fork. The parent first uses the library from worker threads and
 * joins them, as a host that is single-threaded at the fork would have;
 * the child then reads, writes, clears and generates, and forks a
 * grandchild of its own. The two processes' managers are independent
 * after the fork. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static kuberef_container_id cid(const char *type, const char *id) {
  kuberef_container_id c;
  c.type = S(type);
  c.id = S(id);
  return c;
}

static kuberef_status put(const char *id, const char *pod_name) {
  kuberef_container_id c = cid("containerd", id);
  kuberef_object_reference r;
  memset(&r, 0, sizeof r);
  r.kind = S("Pod");
  r.name = S(pod_name);
  return kuberef_set_ref(kuberef_global(), &c, &r);
}

static int has(const char *id, const char *pod_name) {
  char buf[256];
  kuberef_container_id c = cid("containerd", id);
  kuberef_object_reference r;
  if (kuberef_get_ref(kuberef_global(), &c, &r, buf, sizeof buf, NULL) != KUBEREF_OK) return 0;
  return str_eq(r.name, pod_name);
}

static void *worker(void *arg) {
  char id[32];
  int i;
  for (i = 0; i < 200; i++) {
    snprintf(id, sizeof id, "w%ld-%d", (long)(size_t)arg, i);
    if (put(id, "worker") != KUBEREF_OK) return arg;
    if (i % 2 == 0) {
      kuberef_container_id c = cid("containerd", id);
      if (kuberef_clear_ref(kuberef_global(), &c) != KUBEREF_OK) return arg;
    }
  }
  return NULL;
}

/* What a forked child checks; returns its number of failures. */
static int child_checks(int depth) {
  kuberef_str containers[1];
  kuberef_pod pod;
  kuberef_object_reference r;
  kuberef_container_id c = cid("containerd", "before");
  char buf[512];
  size_t len0 = kuberef_len(kuberef_global());
  CHECK(len0 == 401 + (size_t)depth);
  CHECK(has("before", "parent"));
  CHECK(has("w1-1", "worker"));
  CHECK(!has("w1-0", "worker"));
  CHECK(!has("after", "parent"));
  CHECK(!has(depth ? "child-1" : "child-0", "child"));
  CHECK_STATUS(put(depth ? "child-1" : "child-0", "child"), KUBEREF_OK);
  CHECK(has(depth ? "child-1" : "child-0", "child"));
  CHECK_STATUS(kuberef_clear_ref(kuberef_global(), &c), KUBEREF_OK);
  CHECK(!has("before", "parent"));
  CHECK(kuberef_len(kuberef_global()) == len0);

  memset(&pod, 0, sizeof pod);
  containers[0] = S("app");
  pod.namespace_ = S("default");
  pod.name = S("web");
  pod.containers = containers;
  pod.containers_len = 1;
  CHECK_STATUS(kuberef_generate_container_ref(&pod, S("app"), 0, &r, buf, sizeof buf, NULL), KUBEREF_OK);
  CHECK_STR(r.field_path, "spec.containers{app}");

  if (depth == 0) {
    /* The child is single-threaded too: its own child may use the global. */
    int status = -1;
    pid_t pid;
    CHECK_STATUS(put("before", "parent"), KUBEREF_OK);
    pid = fork();
    if (pid == 0) _exit(child_checks(1) == 0 ? 0 : 1);
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  return (int)check_failed;
}

int main(void) {
  pthread_t t[4];
  long i;
  int status = -1;
  pid_t pid;

  CHECK_STATUS(put("before", "parent"), KUBEREF_OK);
  for (i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)(size_t)i) == 0);
  for (i = 0; i < 4; i++) {
    void *ret = &ret;
    CHECK(pthread_join(t[i], &ret) == 0 && ret == NULL);
  }
  CHECK(kuberef_len(kuberef_global()) == 401);

  /* Single-threaded again: fork. */
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    int failed = child_checks(0);
    printf("test_fork child: %lu passed, %lu failed\n", check_passed, check_failed);
    fflush(stdout);
    _exit(failed == 0 ? 0 : 1);
  }
  CHECK(pid > 0);
  CHECK_STATUS(put("after", "parent"), KUBEREF_OK);
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  /* The child's writes stayed in the child. */
  CHECK(!has("child-0", "child") && !has("child-1", "child"));
  CHECK(has("before", "parent"));
  CHECK(kuberef_len(kuberef_global()) == 402);
  return check_finish("test_fork");
}
