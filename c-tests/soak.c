/* Soak: several threads run millions of mixed operations (set, get with the
 * size-query protocol, clear, len, generate, parse/format, private managers
 * created and freed) on one shared manager with a bounded set of shared
 * keys. Every read must be one whole reference written for that key (each
 * field encodes the key and the writer's serial number, with a length that
 * varies with it). RSS is read from /proc/self/statm after each round; after
 * the warm-up rounds it must stay flat: no sample may exceed the warm-up
 * RSS by more than RSS_SLACK_PCT percent plus RSS_SLACK_KIB.
 *
 *   soak [-t THREADS] [-n OPS_PER_THREAD] [-k KEYS] [-r ROUNDS] [-w WARMUP_ROUNDS] [-R 0|1]
 *
 * -R 0 reports RSS without checking it (under ASan, whose quarantine holds
 * freed memory on purpose). Rounds end at a barrier, so the samples are
 * taken at fixed operation counts, not at times. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "check.h"

#define RSS_SLACK_PCT 10
#define RSS_SLACK_KIB 4096
#define MAX_PAD 96
#define FIELD_MAX (32 + MAX_PAD)

static unsigned long threads = 4, ops = 500000, keys = 4096, rounds = 10, warmup = 3;
static int check_rss = 1;
static kuberef_manager *shared;
static pthread_barrier_t round_start, round_end;
static pthread_mutex_t report = PTHREAD_MUTEX_INITIALIZER;
static unsigned long total_bad, total_reads, total_hits;

static unsigned long rss_kib(void) {
  unsigned long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return 0;
  if (fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
  fclose(f);
  return resident * (unsigned long)sysconf(_SC_PAGESIZE) / 1024;
}

/* Bytes the C heap has handed out and not got back (glibc, all arenas);
 * 0 where unknown. Unlike RSS it does not count fragmentation. */
static unsigned long heap_kib(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  return (unsigned long)((mi.uordblks + mi.hblkhd) / 1024);
#else
  return 0;
#endif
}

/* Field i of the reference the writer with serial n stores under key k:
 * "i:k:n:" and a padding whose length depends on n and i. */
static size_t field(char *out, int i, unsigned long k, unsigned long n) {
  size_t len = (size_t)sprintf(out, "%d:%lu:%lu:", i, k, n);
  size_t pad = (size_t)((n * 7 + (unsigned long)i * 13) % MAX_PAD);
  memset(out + len, 'a' + i, pad);
  return len + pad;
}

static void fill(kuberef_object_reference *r, char f[7][FIELD_MAX], unsigned long k, unsigned long n) {
  kuberef_str *v = (kuberef_str *)r;
  int i;
  for (i = 0; i < 7; i++) {
    v[i].len = field(f[i], i, k, n);
    v[i].ptr = f[i];
  }
}

/* Whether r is one whole reference written for key k. */
static int whole(const kuberef_object_reference *r, unsigned long k) {
  const kuberef_str *v = (const kuberef_str *)r;
  char want[FIELD_MAX];
  unsigned long rk, n;
  int i;
  if (v[0].len >= FIELD_MAX || sscanf(v[0].ptr, "0:%lu:%lu:", &rk, &n) != 2 || rk != k) return 0;
  for (i = 0; i < 7; i++) {
    size_t len = field(want, i, k, n);
    if (v[i].len != len || memcmp(v[i].ptr, want, len) != 0 || v[i].ptr[len] != '\0') return 0;
  }
  return 1;
}

static unsigned long next(unsigned long long *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (unsigned long)(*s >> 33);
}

static void *worker(void *arg) {
  unsigned long t = (unsigned long)(size_t)arg, r, i, bad = 0, reads = 0, hits = 0;
  unsigned long long seed = t * 0x9E3779B97F4A7C15ull + 1;
  unsigned long per_round = ops / rounds;
  char f[7][FIELD_MAX], key[32], text[64], small[64], *big = malloc(7 * FIELD_MAX);
  kuberef_object_reference ref, out;
  kuberef_container_id id, parsed;
  kuberef_str names[2];
  kuberef_pod pod;
  size_t needed;

  names[0] = S("app");
  names[1] = S("");
  memset(&pod, 0, sizeof pod);
  pod.namespace_ = S("soak");
  pod.name = S("web");
  pod.uid = S("uid");
  pod.containers = names;
  pod.containers_len = 2;
  id.type = S("containerd");
  for (r = 0; r < rounds; r++) {
    pthread_barrier_wait(&round_start);
    for (i = 0; i < per_round; i++) {
      unsigned long k = next(&seed) % keys, op = next(&seed) % 100, serial = (t << 40) | (r * per_round + i);
      kuberef_status s;
      id.id.len = (size_t)sprintf(key, "soak-%05lu", k);
      id.id.ptr = key;
      if (op < 30) {
        fill(&ref, f, k, serial);
        if (kuberef_set_ref(shared, &id, &ref) != KUBEREF_OK) bad++;
      } else if (op < 75) {
        /* The size-query protocol: a small buffer first, then *needed. */
        reads++;
        s = kuberef_get_ref(shared, &id, &out, small, sizeof small, &needed);
        if (s == KUBEREF_BUFFER_TOO_SMALL) {
          if (needed > 7 * FIELD_MAX) {
            bad++;
            continue;
          }
          s = kuberef_get_ref(shared, &id, &out, big, needed, &needed);
          /* Cleared or replaced by a longer one in between: both fine. */
          if (s == KUBEREF_NOT_FOUND || s == KUBEREF_BUFFER_TOO_SMALL) continue;
        }
        if (s == KUBEREF_OK) {
          hits++;
          if (!whole(&out, k)) bad++;
        } else if (s != KUBEREF_NOT_FOUND) {
          bad++;
        }
      } else if (op < 90) {
        s = kuberef_clear_ref(shared, &id);
        if (s != KUBEREF_OK && s != KUBEREF_NOT_FOUND) bad++;
      } else if (op < 94) {
        if (kuberef_len(shared) > keys) bad++;
      } else if (op < 97) {
        s = kuberef_generate_container_ref(&pod, S(op & 1 ? "app" : ""), 0, &out, big, 7 * FIELD_MAX, NULL);
        if (s != KUBEREF_OK || !str_eq(out.kind, "Pod") || !str_eq(out.api_version, "v1") ||
            !str_eq(out.field_path, op & 1 ? "spec.containers{app}" : "spec.containers[1]"))
          bad++;
      } else if (op < 99) {
        s = kuberef_container_id_format(&id, text, sizeof text, NULL);
        if (s != KUBEREF_OK || kuberef_container_id_parse(S(text), &parsed) != KUBEREF_OK ||
            parsed.id.len != id.id.len || memcmp(parsed.id.ptr, key, id.id.len) != 0)
          bad++;
      } else {
        /* A private manager, filled and freed. */
        kuberef_manager *m = kuberef_manager_new();
        unsigned long j;
        if (m == NULL) {
          bad++;
          continue;
        }
        for (j = 0; j < 16; j++) {
          id.id.len = (size_t)sprintf(key, "private-%lu", j);
          fill(&ref, f, j, serial + j);
          if (kuberef_set_ref(m, &id, &ref) != KUBEREF_OK) bad++;
        }
        if (kuberef_len(m) != 16) bad++;
        kuberef_manager_free(m);
      }
    }
    pthread_barrier_wait(&round_end);
  }
  free(big);
  pthread_mutex_lock(&report);
  total_bad += bad;
  total_reads += reads;
  total_hits += hits;
  pthread_mutex_unlock(&report);
  return NULL;
}

int main(int argc, char **argv) {
  pthread_t th[64];
  unsigned long t, r, base = 0, max_after = 0, first = 0, limit = 0;
  int c;
  while ((c = getopt(argc, argv, "t:n:k:r:w:R:")) != -1) {
    switch (c) {
      case 't': threads = strtoul(optarg, NULL, 10); break;
      case 'n': ops = strtoul(optarg, NULL, 10); break;
      case 'k': keys = strtoul(optarg, NULL, 10); break;
      case 'r': rounds = strtoul(optarg, NULL, 10); break;
      case 'w': warmup = strtoul(optarg, NULL, 10); break;
      case 'R': check_rss = atoi(optarg); break;
      default:
        fprintf(stderr, "usage: soak [-t THREADS] [-n OPS_PER_THREAD] [-k KEYS] [-r ROUNDS] [-w WARMUP] [-R 0|1]\n");
        return 2;
    }
  }
  if (threads < 1 || threads > 64 || keys < 1 || rounds < 1 || warmup >= rounds || ops < rounds) {
    fprintf(stderr, "soak: bad arguments\n");
    return 2;
  }
  shared = kuberef_manager_new();
  pthread_barrier_init(&round_start, NULL, (unsigned)threads + 1);
  pthread_barrier_init(&round_end, NULL, (unsigned)threads + 1);
  first = rss_kib();
  printf("soak: %lu threads x %lu ops, %lu shared keys, %lu rounds (%lu warm-up); rss at start %lu KiB\n",
         threads, ops / rounds * rounds, keys, rounds, warmup, first);
  for (t = 0; t < threads; t++) CHECK(pthread_create(&th[t], NULL, worker, (void *)(size_t)t) == 0);
  for (r = 0; r < rounds; r++) {
    unsigned long rss;
    pthread_barrier_wait(&round_start);
    pthread_barrier_wait(&round_end);
    rss = rss_kib();
    printf("soak: round %lu/%lu: %lu ops, %lu references, rss %lu KiB, heap in use %lu KiB\n", r + 1,
           rounds, (r + 1) * (ops / rounds) * threads, (unsigned long)kuberef_len(shared), rss, heap_kib());
    fflush(stdout);
    if (r + 1 == warmup) base = rss;
    if (r + 1 > warmup && rss > max_after) max_after = rss;
  }
  for (t = 0; t < threads; t++) CHECK(pthread_join(th[t], NULL) == 0);
  limit = base + base * RSS_SLACK_PCT / 100 + RSS_SLACK_KIB;
  printf("soak: %lu ops in all, %lu reads (%lu hits), %lu bad; rss after warm-up %lu KiB, max after %lu KiB (limit %lu KiB)\n",
         threads * (ops / rounds * rounds), total_reads, total_hits, total_bad, base, max_after, limit);
  CHECK(total_bad == 0);
  CHECK(total_hits > 0);
  CHECK(kuberef_len(shared) <= keys);
  if (check_rss) CHECK(max_after <= limit);
  kuberef_manager_free(shared);
  pthread_barrier_destroy(&round_start);
  pthread_barrier_destroy(&round_end);
  return check_finish("soak");
}
