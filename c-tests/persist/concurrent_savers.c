/* Concurrent savers: PROCS processes each save their own snapshot (process
 * k: 300 + 200k references, every field tagged with k) SAVES times to one
 * path, while this process loads that path again and again. Every load must
 * be whole and equal to one of the snapshots (never a mix, never corrupt),
 * every save must succeed, and no temporary file may be left. ROUNDS rounds,
 * each with a fresh path.
 *
 *   concurrent_savers DIR [PROCS ROUNDS SAVES]     (defaults 4 5 40) */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int refs_of(int k) { return 300 + 200 * k; }

static kuberef_manager *snapshot(int k) {
  kuberef_manager *m = kuberef_manager_new();
  char id[32], name[48], fp[64], rv[16];
  int i;
  sprintf(rv, "%d", 1000 + k);
  for (i = 0; i < refs_of(k); i++) {
    kuberef_container_id c;
    kuberef_object_reference r;
    sprintf(id, "c%d", i);
    sprintf(name, "%d-name-%d", k, i);
    sprintf(fp, "spec.containers{%d-%d}", k, i);
    c.type = S("containerd");
    c.id = S(id);
    r.kind = S("Pod");
    r.namespace_ = S("savers");
    r.name = S(name);
    r.uid = S("uid");
    r.api_version = S("v1");
    r.resource_version = S(rv);
    r.field_path = S(fp);
    if (kuberef_set_ref(m, &c, &r) != KUBEREF_OK) abort();
  }
  return m;
}

static int saver(int k, const char *path, int saves) {
  kuberef_manager *m = snapshot(k);
  int i;
  for (i = 0; i < saves; i++) {
    kuberef_status s = kuberef_save(m, S(path), NULL);
    if (s != KUBEREF_OK) {
      fprintf(stderr, "saver %d: kuberef_save: %s\n", k, kuberef_status_message(s));
      return 3;
    }
  }
  return 0;
}

struct verdict {
  int tag, count, bad;
};

static int check_ref(void *ctx, const kuberef_container_id *id, const kuberef_object_reference *r) {
  struct verdict *v = (struct verdict *)ctx;
  char want[64];
  int i, k;
  if (sscanf(id->id.ptr, "c%d", &i) != 1 || sscanf(r->name.ptr, "%d-", &k) != 1) {
    v->bad++;
    return 0;
  }
  if (v->tag < 0) v->tag = k;
  sprintf(want, "%d-name-%d", v->tag, i);
  if (!str_eq(r->name, want)) v->bad++;
  sprintf(want, "spec.containers{%d-%d}", v->tag, i);
  if (!str_eq(r->field_path, want)) v->bad++;
  sprintf(want, "%d", 1000 + v->tag);
  if (!str_eq(r->resource_version, want)) v->bad++;
  v->count++;
  return 0;
}

static int entries(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  if (d) closedir(d);
  return n;
}

int main(int argc, char **argv) {
  int procs = 4, rounds = 5, saves = 40, round, loads = 0, whole = 0;
  char path[512];
  if (argc == 5 && strcmp(argv[1], "--saver") == 0) return saver(atoi(argv[2]), argv[3], atoi(argv[4]));
  if (argc != 2 && argc != 5) {
    fprintf(stderr, "usage: %s DIR [PROCS ROUNDS SAVES]\n", argv[0]);
    return 2;
  }
  if (argc == 5) {
    procs = atoi(argv[2]);
    rounds = atoi(argv[3]);
    saves = atoi(argv[4]);
  }
  mkdir(argv[1], 0700);
  for (round = 0; round < rounds; round++) {
    pid_t kids[64];
    int k, running = procs, status;
    kuberef_manager *m = kuberef_manager_new();
    sprintf(path, "%s/state-%d", argv[1], round);
    for (k = 0; k < procs && k < 64; k++) {
      char ks[16], ns[16];
      sprintf(ks, "%d", k);
      sprintf(ns, "%d", saves);
      if ((kids[k] = fork()) == 0) {
        execl(argv[0], argv[0], "--saver", ks, path, ns, (char *)NULL);
        _exit(127);
      }
    }
    while (running > 0) {
      struct verdict v;
      kuberef_status s = kuberef_load(m, S(path), KUBEREF_LOAD_REPLACE, NULL);
      for (k = 0; k < procs; k++)
        if (kids[k] > 0 && waitpid(kids[k], &status, WNOHANG) == kids[k]) {
          CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
          kids[k] = 0;
          running--;
        }
      if (s == KUBEREF_FILE_NOT_FOUND) continue; /* before the first rename */
      loads++;
      CHECK_STATUS(s, KUBEREF_OK);
      if (s != KUBEREF_OK) continue;
      v.tag = -1;
      v.count = v.bad = 0;
      CHECK_STATUS(kuberef_for_each(m, check_ref, &v, NULL), KUBEREF_OK);
      CHECK(v.bad == 0 && v.tag >= 0 && v.count == refs_of(v.tag) && (size_t)v.count == kuberef_len(m));
      whole += v.bad == 0 && v.tag >= 0 && v.count == refs_of(v.tag);
    }
    CHECK(entries(argv[1]) == 1); /* the file, and no temporary file left */
    unlink(path);
    kuberef_manager_free(m);
  }
  printf("concurrent_savers: %d processes x %d saves, %d rounds: %d loads during the saves, %d whole\n", procs,
         saves, rounds, loads, whole);
  CHECK(loads > 0 && whole == loads);
  rmdir(argv[1]);
  return check_finish("concurrent_savers");
}
