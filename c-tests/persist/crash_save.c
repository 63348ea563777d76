/* Crash test of kuberef_save: a writer process saves two different
 * snapshots (A: 4000 refs, B: 3000 refs) to one path, alternately and
 * without pause; the test SIGKILLs it after a random delay, then loads the
 * file and checks that it is exactly snapshot A or exactly snapshot B -
 * never a mix, never truncated or corrupt - and that it has mode 0600. It
 * repeats that RUNS times and reports how many kills hit a save in progress
 * (a new temporary file was left) and how many files were A or B. Then it
 * waits until the killed saves' leftovers are stale and checks that the next
 * save removes every one of them.
 *
 *   crash_save RUNS DIR        the test (the short run in `make test` uses 200)
 *   crash_save --writer PATH   the writer (started by the test) */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define A_REFS 4000
#define B_REFS 3000

/* Snapshot `tag` ('A' or 'B'): refs c<i> whose fields all encode tag and i. */
static kuberef_manager *snapshot(char tag, int n) {
  kuberef_manager *m = kuberef_manager_new();
  char id[32], name[48], uid[48], fp[64];
  int i;
  for (i = 0; i < n; i++) {
    kuberef_container_id k;
    kuberef_object_reference r;
    sprintf(id, "c%d", i);
    sprintf(name, "%c-name-%d", tag, i);
    sprintf(uid, "%c-uid-%d-0123456789abcdef", tag, i % 97);
    sprintf(fp, "spec.containers{%c-%d}", tag, i);
    k.type = S("containerd");
    k.id = S(id);
    r.kind = S("Pod");
    r.namespace_ = S("crash");
    r.name = S(name);
    r.uid = S(uid);
    r.api_version = S("v1");
    r.resource_version = S(tag == 'A' ? "100" : "200");
    r.field_path = S(fp);
    if (kuberef_set_ref(m, &k, &r) != KUBEREF_OK) abort();
  }
  return m;
}

static int writer(const char *path) {
  kuberef_manager *a = snapshot('A', A_REFS), *b = snapshot('B', B_REFS);
  for (;;) {
    kuberef_status s;
    if ((s = kuberef_save(a, S(path), NULL)) != KUBEREF_OK || (s = kuberef_save(b, S(path), NULL)) != KUBEREF_OK) {
      fprintf(stderr, "writer: kuberef_save: %s\n", kuberef_status_message(s));
      return 3;
    }
  }
}

/* The leftover temporary files of DIR/refs. */
static int temps(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir(d)) != NULL)
    if (strncmp(e->d_name, "refs.kuberef-tmp.", 17) == 0) n++;
  if (d) closedir(d);
  return n;
}

/* Removes the leftover temporary files of DIR/refs. */
static void remove_temps(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char p[1024];
  while (d && (e = readdir(d)) != NULL)
    if (strncmp(e->d_name, "refs.kuberef-tmp.", 17) == 0) {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
  if (d) closedir(d);
}

struct verdict {
  char tag;
  int count, bad;
};

static int check_ref(void *ctx, const kuberef_container_id *id, const kuberef_object_reference *r) {
  struct verdict *v = (struct verdict *)ctx;
  char want[64];
  int i;
  if (sscanf(id->id.ptr, "c%d", &i) != 1) { v->bad++; return 0; }
  if (v->tag == 0) v->tag = r->name.ptr[0];
  sprintf(want, "%c-name-%d", v->tag, i);
  if (!str_eq(r->name, want)) v->bad++;
  sprintf(want, "spec.containers{%c-%d}", v->tag, i);
  if (!str_eq(r->field_path, want)) v->bad++;
  if (!str_eq(r->resource_version, v->tag == 'A' ? "100" : "200")) v->bad++;
  v->count++;
  return 0;
}

int main(int argc, char **argv) {
  char path[512];
  int runs, run, in_flight = 0, seen_a = 0, seen_b = 0, missing = 0, left;
  struct stat st;
  if (argc == 3 && strcmp(argv[1], "--writer") == 0) return writer(argv[2]);
  if (argc != 3 || (runs = atoi(argv[1])) <= 0) {
    fprintf(stderr, "usage: %s RUNS DIR | --writer PATH\n", argv[0]);
    return 2;
  }
  mkdir(argv[2], 0700);
  sprintf(path, "%s/refs", argv[2]);
  unlink(path);
  remove_temps(argv[2]);
  srand((unsigned)time(NULL) ^ (unsigned)getpid());

  for (run = 0; run < runs; run++) {
    int status, before = temps(argv[2]);
    pid_t pid = fork();
    struct timespec delay;
    kuberef_manager *m;
    struct verdict v;
    kuberef_status s;
    if (pid < 0) { perror("fork"); return 2; }
    if (pid == 0) {
      execl(argv[0], argv[0], "--writer", path, (char *)NULL);
      _exit(127);
    }
    /* Kill anywhere from before the first save to a few saves in. */
    delay.tv_sec = 0;
    delay.tv_nsec = (long)(rand() % 40000) * 1000L;
    nanosleep(&delay, NULL);
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
      fprintf(stderr, "run %d: the writer %s %d (3: a save failed; 127: exec failed)\n", run,
              WIFSIGNALED(status) ? "died of signal" : "exited with", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    if (temps(argv[2]) > before) in_flight++;

    m = kuberef_manager_new();
    memset(&v, 0, sizeof v);
    s = kuberef_load(m, S(path), 0, NULL);
    if (s == KUBEREF_FILE_NOT_FOUND && seen_a + seen_b == 0) {
      missing++; /* killed before the very first save finished */
    } else {
      CHECK_STATUS(s, KUBEREF_OK);
      CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
      CHECK_STATUS(kuberef_for_each(m, check_ref, &v, NULL), KUBEREF_OK);
      CHECK(v.bad == 0);
      CHECK((v.tag == 'A' && v.count == A_REFS) || (v.tag == 'B' && v.count == B_REFS));
      if (v.tag == 'A') seen_a++;
      if (v.tag == 'B') seen_b++;
    }
    kuberef_manager_free(m);
  }
  printf("crash_save: %d SIGKILLs, %d while a save was in progress; file was A %d times, "
         "B %d times, not yet written %d times\n",
         runs, in_flight, seen_a, seen_b, missing);
  /* Both snapshots must have been seen, or the test proved little. */
  CHECK(runs < 20 || (seen_a > 0 && seen_b > 0 && in_flight > 0));
  /* Every kill during a save left its temporary file; once they are stale
   * (5 s unchanged, and nobody holds them), the next save removes them all. */
  left = temps(argv[2]);
  CHECK(runs < 20 || left > 0);
  sleep(6);
  {
    kuberef_manager *m = kuberef_manager_new();
    CHECK_STATUS(kuberef_save(m, S(path), NULL), KUBEREF_OK);
    kuberef_manager_free(m);
  }
  printf("crash_save: %d leftover temporary files; %d after the next save\n", left, temps(argv[2]));
  CHECK(temps(argv[2]) == 0);
  unlink(path);
  remove_temps(argv[2]);
  rmdir(argv[2]);
  return check_finish("crash_save");
}
