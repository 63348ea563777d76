/* Many threads on one manager: shared keys overwritten and cleared while
 * others read them (every read must be one whole reference, never a mix of
 * two), private keys checked exactly, and managers created and freed
 * concurrently. Then the change counter's promise under a writer: two gets
 * of a key, each with the same counter value loaded before and after it,
 * return the same reference, and the counter never goes down. Then readers
 * that come and go (short-lived threads, generation after generation, as
 * thread pools make them) while a writer replaces and clears what they
 * read: the library takes back the reader slots of exited threads, and no
 * reader may see a freed or half-written reference (ASan and valgrind run
 * this program too). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define THREADS 4
#define ITERS 20000
#define SHARED_KEYS 8

static kuberef_manager *shared;
static pthread_mutex_t report = PTHREAD_MUTEX_INITIALIZER;

/* A reference whose every field encodes the same number n. */
static void fill(kuberef_object_reference *r, char fields[7][32], unsigned long n) {
  kuberef_str *f = (kuberef_str *)r;
  int i;
  for (i = 0; i < 7; i++) {
    f[i].len = (size_t)sprintf(fields[i], "%d-%lu", i, n);
    f[i].ptr = fields[i];
  }
}

/* The container ID "<prefix>-<k>", its digits written to key. */
static kuberef_container_id key_id(char *key, const char *prefix, unsigned long k) {
  kuberef_container_id id;
  id.type = S("containerd");
  id.id.len = (size_t)sprintf(key, "%s-%lu", prefix, k);
  id.id.ptr = key;
  return id;
}

/* Whether every field of r encodes the same number. */
static int whole(const kuberef_object_reference *r) {
  const kuberef_str *f = (const kuberef_str *)r;
  char want[32];
  unsigned long n;
  int i;
  if (sscanf(f[0].ptr, "0-%lu", &n) != 1) return 0;
  for (i = 0; i < 7; i++) {
    size_t len = (size_t)sprintf(want, "%d-%lu", i, n);
    if (f[i].len != len || memcmp(f[i].ptr, want, len) != 0 || f[i].ptr[len] != '\0') return 0;
  }
  return 1;
}

static void *worker(void *arg) {
  unsigned long t = (unsigned long)(size_t)arg, i, bad = 0, hits = 0, seed = t * 2654435761u + 1;
  char fields[7][32], key[32], buf[512];
  kuberef_object_reference r, out;
  kuberef_container_id id;
  id.type = S("containerd");
  for (i = 0; i < ITERS; i++) {
    unsigned long op;
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    op = (seed >> 33) % 10;
    id.id.len = (size_t)sprintf(key, "shared-%lu", (seed >> 40) % SHARED_KEYS);
    id.id.ptr = key;
    if (op < 3) {
      fill(&r, fields, t * ITERS + i);
      if (kuberef_set_ref(shared, &id, &r) != KUBEREF_OK) bad++;
    } else if (op < 4) {
      kuberef_status s = kuberef_clear_ref(shared, &id);
      if (s != KUBEREF_OK && s != KUBEREF_NOT_FOUND) bad++;
    } else {
      kuberef_status s = kuberef_get_ref(shared, &id, &out, buf, sizeof buf, NULL);
      if (s == KUBEREF_OK) {
        hits++;
        if (!whole(&out)) bad++;
      } else if (s != KUBEREF_NOT_FOUND) {
        bad++;
      }
    }
    /* A private key: exact read-your-writes. */
    id.id.len = (size_t)sprintf(key, "private-%lu-%lu", t, i % 64);
    fill(&r, fields, i);
    if (kuberef_set_ref(shared, &id, &r) != KUBEREF_OK) bad++;
    if (kuberef_get_ref(shared, &id, &out, buf, sizeof buf, NULL) != KUBEREF_OK || !whole(&out) ||
        strcmp(out.kind.ptr, fields[0]) != 0)
      bad++;
    if (i % 97 == 0) {
      kuberef_manager *m = kuberef_manager_new();
      if (m == NULL || kuberef_set_ref(m, &id, &r) != KUBEREF_OK || kuberef_len(m) != 1) bad++;
      kuberef_manager_free(m);
    }
  }
  pthread_mutex_lock(&report);
  CHECK(bad == 0);
  CHECK(hits > 0);
  pthread_mutex_unlock(&report);
  return NULL;
}

/* --- the change counter ---------------------------------------------------- */

#define COUNTER_WRITES 20000
#define COUNTER_READERS 3

static kuberef_manager *counted;
static int writer_done, readers_ready;

/* Rewrites key 0 (and sometimes clears it, or writes key 1) in bursts. */
static void *counter_writer(void *arg) {
  char fields[7][32], key[32];
  kuberef_object_reference r;
  kuberef_container_id id;
  unsigned long i;
  unsigned long bad = 0;
  (void)arg;
  /* Writes start once every reader has read: on a busy machine, or with
   * threads taking turns (valgrind), the readers could otherwise start after
   * the last write and never see a window. */
  while (__atomic_load_n(&readers_ready, __ATOMIC_ACQUIRE) < COUNTER_READERS) sched_yield();
  for (i = 1; i <= COUNTER_WRITES; i++) {
    id = key_id(key, "counted", i % 5 == 0);
    fill(&r, fields, i);
    if (i % 7 == 0) {
      kuberef_status s = kuberef_clear_ref(counted, &id);
      if (s != KUBEREF_OK && s != KUBEREF_NOT_FOUND) bad++;
    } else if (kuberef_set_ref(counted, &id, &r) != KUBEREF_OK) {
      bad++;
    }
    if (i % 16 == 0) {
      volatile unsigned long spin; /* a quiet spell, so that readers see stable windows */
      for (spin = 0; spin < 20000; spin++) {
      }
    }
  }
  __atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
  pthread_mutex_lock(&report);
  CHECK(bad == 0);
  pthread_mutex_unlock(&report);
  return NULL;
}

/* Reads key 0 as a cache would: a get bracketed by two equal counter loads
 * is current for as long as the counter keeps that value. */
static void *counter_reader(void *arg) {
  const uint64_t *c = kuberef_change_counter(counted);
  char key[32], buf[512];
  kuberef_container_id id = key_id(key, "counted", 0);
  kuberef_object_reference out;
  unsigned long stable = 0, bad = 0, cached_n = 0;
  uint64_t last = 0, cached_at = 0;
  int cached = 0; /* 0: nothing; 1: cached_n; 2: cached absence */
  (void)arg;
  while (!__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE)) {
    uint64_t c1 = __atomic_load_n(c, __ATOMIC_ACQUIRE), c2;
    kuberef_status s = kuberef_get_ref(counted, &id, &out, buf, sizeof buf, NULL);
    unsigned long n = 0;
    c2 = __atomic_load_n(c, __ATOMIC_ACQUIRE);
    if (c1 < last || c2 < c1) bad++;
    last = c2;
    if (s == KUBEREF_OK) {
      if (!whole(&out) || sscanf(out.kind.ptr, "0-%lu", &n) != 1) bad++;
    } else if (s != KUBEREF_NOT_FOUND) {
      bad++;
    }
    if (c1 != c2) continue;
    stable++;
    if (cached && cached_at == c1 && (s == KUBEREF_OK ? cached != 1 || cached_n != n : cached != 2)) bad++;
    cached = s == KUBEREF_OK ? 1 : 2;
    cached_n = n;
    cached_at = c1;
    if (stable == 1) __atomic_add_fetch(&readers_ready, 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_lock(&report);
  CHECK(bad == 0);
  CHECK(stable > 0);
  pthread_mutex_unlock(&report);
  return NULL;
}

static void test_change_counter_under_a_writer(void) {
  pthread_t w, rd[COUNTER_READERS];
  unsigned long t;
  counted = kuberef_manager_new();
  CHECK(counted != NULL && kuberef_change_counter(counted) != NULL);
  for (t = 0; t < COUNTER_READERS; t++) CHECK(pthread_create(&rd[t], NULL, counter_reader, NULL) == 0);
  CHECK(pthread_create(&w, NULL, counter_writer, NULL) == 0);
  CHECK(pthread_join(w, NULL) == 0);
  for (t = 0; t < COUNTER_READERS; t++) CHECK(pthread_join(rd[t], NULL) == 0);
  kuberef_manager_free(counted);
}

/* --- readers that come and go ---------------------------------------------- */

#define CHURN_GENERATIONS 100
#define CHURN_READERS 3
#define CHURN_GETS 100
#define CHURN_KEYS 4

static kuberef_manager *churned;
static int churn_done, churn_started;
static pthread_mutex_t churn_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long churn_bad, churn_hits;

/* Replaces and clears the keys until the readers are done. */
static void *churn_writer(void *arg) {
  char fields[7][32], key[32];
  kuberef_object_reference r;
  unsigned long n = 0;
  (void)arg;
  while (!__atomic_load_n(&churn_done, __ATOMIC_ACQUIRE)) {
    kuberef_container_id id = key_id(key, "churn", n % CHURN_KEYS);
    fill(&r, fields, n);
    if (n % 5 == 4) {
      kuberef_status s = kuberef_clear_ref(churned, &id);
      if (s != KUBEREF_OK && s != KUBEREF_NOT_FOUND) __atomic_add_fetch(&churn_bad, 1, __ATOMIC_RELAXED);
    } else if (kuberef_set_ref(churned, &id, &r) != KUBEREF_OK) {
      __atomic_add_fetch(&churn_bad, 1, __ATOMIC_RELAXED);
    }
    /* Every key has been stored once: the readers may start (they then
     * find most keys stored whenever the writer runs). */
    if (++n == CHURN_KEYS) __atomic_store_n(&churn_started, 1, __ATOMIC_RELEASE);
    /* Gives the readers their turn when threads take turns (valgrind). */
    if (n % 16 == 0) sched_yield();
  }
  return NULL;
}

/* A short life: a few hundred gets, each a whole reference or none. */
static void *churn_reader(void *arg) {
  char key[32], buf[512];
  kuberef_object_reference out;
  unsigned long i, bad = 0, hits = 0, t = (unsigned long)(size_t)arg;
  for (i = 0; i < CHURN_GETS; i++) {
    kuberef_container_id id = key_id(key, "churn", (t + i) % CHURN_KEYS);
    kuberef_status s = kuberef_get_ref(churned, &id, &out, buf, sizeof buf, NULL);
    if (s == KUBEREF_OK) {
      hits++;
      if (!whole(&out)) bad++;
    } else if (s != KUBEREF_NOT_FOUND) {
      bad++;
    }
  }
  pthread_mutex_lock(&churn_lock);
  churn_bad += bad;
  churn_hits += hits;
  pthread_mutex_unlock(&churn_lock);
  return NULL;
}

static void test_readers_that_come_and_go(void) {
  pthread_t w, rd[CHURN_READERS];
  unsigned long g, t;
  churned = kuberef_manager_new();
  CHECK(churned != NULL);
  CHECK(pthread_create(&w, NULL, churn_writer, NULL) == 0);
  /* Without this, a busy machine could run every reader before the writer
   * stored anything, and the hit check below would fail for no fault. */
  while (!__atomic_load_n(&churn_started, __ATOMIC_ACQUIRE)) sched_yield();
  for (g = 0; g < CHURN_GENERATIONS; g++) {
    for (t = 0; t < CHURN_READERS; t++) CHECK(pthread_create(&rd[t], NULL, churn_reader, (void *)(size_t)(g + t)) == 0);
    for (t = 0; t < CHURN_READERS; t++) CHECK(pthread_join(rd[t], NULL) == 0);
  }
  __atomic_store_n(&churn_done, 1, __ATOMIC_RELEASE);
  CHECK(pthread_join(w, NULL) == 0);
  CHECK(churn_bad == 0);
  CHECK(churn_hits > 0);
  kuberef_manager_free(churned);
}

int main(void) {
  pthread_t th[THREADS];
  unsigned long t;
  shared = kuberef_manager_new();
  for (t = 0; t < THREADS; t++) CHECK(pthread_create(&th[t], NULL, worker, (void *)(size_t)t) == 0);
  for (t = 0; t < THREADS; t++) CHECK(pthread_join(th[t], NULL) == 0);
  /* THREADS x 64 private keys, plus whatever shared keys are left. */
  CHECK(kuberef_len(shared) >= THREADS * 64 && kuberef_len(shared) <= THREADS * 64 + SHARED_KEYS);
  kuberef_manager_free(shared);
  test_change_counter_under_a_writer();
  test_readers_that_come_and_go();
  return check_finish("test_threads");
}
