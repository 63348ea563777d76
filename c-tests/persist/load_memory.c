/* Memory of a load, measured in fresh processes (VmRSS and VmHWM from
 * /proc/self/status):
 *   - a file of RECORDS minimal records (40 bytes each: 2,500,000 make a
 *     100 MB file), loaded by merge and by replace into an empty manager:
 *     the peak must stay within the file's size plus what the stored
 *     references take afterwards (the bound; the figures show how
 *     far below it the load stays);
 *   - a sparse file of SPARSE_GIB GiB whose valid header claims that many
 *     empty records and whose payload checksum is wrong: every byte is read
 *     before it is refused, and the peak may not grow by more than 32 MiB.
 *
 *   load_memory DIR [RECORDS [SPARSE_GIB]]      (defaults 2500000 8) */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long status_kib(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  size_t n = strlen(field);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':') {
      kib = atol(line + n + 1);
      break;
    }
  if (f) fclose(f);
  return kib;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Runs f(arg) in a child process; returns its exit status (0: passed). */
static int in_child(int (*f)(const char *, long), const char *arg, long n) {
  pid_t p = fork();
  int st;
  if (p == 0) {
    int rc = f(arg, n);
    fflush(stdout);
    _exit(rc);
  }
  waitpid(p, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int make_file(const char *path, long records) {
  kuberef_manager *m = kuberef_manager_new();
  kuberef_object_reference r;
  unsigned char id[4];
  long i;
  size_t saved = 0;
  memset(&r, 0, sizeof r);
  for (i = 0; i < records; i++) {
    kuberef_container_id c;
    id[0] = (unsigned char)i;
    id[1] = (unsigned char)(i >> 8);
    id[2] = (unsigned char)(i >> 16);
    id[3] = (unsigned char)(i >> 24);
    c.type.ptr = NULL;
    c.type.len = 0;
    c.id.ptr = (const char *)id;
    c.id.len = 4;
    if (kuberef_set_ref(m, &c, &r) != KUBEREF_OK) return 3;
  }
  if (kuberef_save(m, S(path), &saved) != KUBEREF_OK || (long)saved != records) return 4;
  kuberef_manager_free(m);
  return 0;
}

static int measure(const char *path, long replace) {
  struct stat st;
  kuberef_manager *m = kuberef_manager_new();
  long before, after, peak, file_kib;
  size_t loaded = 0;
  double t;
  kuberef_status s;
  if (stat(path, &st) != 0) return 5;
  file_kib = (long)(st.st_size / 1024);
  before = status_kib("VmRSS");
  t = now();
  s = kuberef_load(m, S(path), replace ? KUBEREF_LOAD_REPLACE : 0, &loaded);
  t = now() - t;
  after = status_kib("VmRSS");
  peak = status_kib("VmHWM");
  printf("load_memory: %s of a %ld KiB file (%zu references) in %.2f s: RSS %ld -> %ld KiB, peak %ld KiB; "
         "the references take %ld KiB, the load's peak above them %ld KiB (bound: the file, %ld KiB)\n",
         replace ? "replace" : "merge", file_kib, loaded, t, before, after, peak, after - before, peak - after,
         file_kib);
  if (s != KUBEREF_OK || loaded != kuberef_len(m)) return 6;
  return peak - before <= (after - before) + file_kib ? 0 : 1;
}

static int sparse(const char *path, long gib) {
  unsigned char h[40];
  uint64_t size = (uint64_t)gib << 30, count = (size - 40) / 36, payload = count * 36;
  uint32_t c = 0xffffffffu;
  kuberef_manager *m = kuberef_manager_new();
  long before, peak;
  double t;
  int fd, i, k;
  kuberef_status s;
  memset(h, 0, sizeof h);
  memcpy(h, "KUBEREF", 8);
  h[8] = 1;
  for (i = 0; i < 8; i++) h[16 + i] = (unsigned char)(count >> (8 * i));
  for (i = 0; i < 8; i++) h[24 + i] = (unsigned char)(payload >> (8 * i));
  h[32] = 0x78; /* a payload checksum that does not match the zeros */
  for (i = 0; i < 36; i++) {
    c ^= h[i];
    for (k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  c = ~c;
  for (i = 0; i < 4; i++) h[36 + i] = (unsigned char)(c >> (8 * i));
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || write(fd, h, 40) != 40 || ftruncate(fd, (off_t)(40 + payload)) != 0) return 7;
  close(fd);
  before = status_kib("VmHWM");
  t = now();
  s = kuberef_load(m, S(path), 0, NULL);
  t = now() - t;
  peak = status_kib("VmHWM");
  printf("load_memory: a sparse %ld GiB file claiming %llu empty records, wrong checksum: %s after %.2f s; "
         "peak RSS %ld -> %ld KiB\n",
         gib, (unsigned long long)count, kuberef_status_message(s), t, before, peak);
  unlink(path);
  return s == KUBEREF_FILE_CORRUPT && kuberef_len(m) == 0 && peak - before < 32 * 1024 ? 0 : 1;
}

int main(int argc, char **argv) {
  char path[512], holes[512];
  long records = argc > 2 ? atol(argv[2]) : 2500000, gib = argc > 3 ? atol(argv[3]) : 8;
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR [RECORDS [SPARSE_GIB]]\n", argv[0]);
    return 2;
  }
  mkdir(argv[1], 0700);
  snprintf(path, sizeof path, "%s/big", argv[1]);
  snprintf(holes, sizeof holes, "%s/sparse", argv[1]);
  CHECK(in_child(make_file, path, records) == 0);
  CHECK(in_child(measure, path, 0) == 0);
  CHECK(in_child(measure, path, 1) == 0);
  CHECK(in_child(sparse, holes, gib) == 0);
  unlink(path);
  rmdir(argv[1]);
  return check_finish("load_memory");
}
