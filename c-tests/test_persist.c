/* Persistence from C: kuberef_save and kuberef_load, every load status,
 * and a hostile or shared directory: links, FIFOs, devices, sockets and
 * directories planted where a save or load looks, and headers that lie about
 * their length. Each with the rule that a failed call changes nothing. Run
 * plain, static, under ASan+UBSan and valgrind; the heavier persistence
 * tests are programs of their own in c-tests/persist/. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "fixtures.h"
#include "memory.h"

static char dir[64];

static void path_in(char *out, const char *name) { sprintf(out, "%s/%s", dir, name); }

static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) { perror(path); exit(2); }
  if (n) fwrite(data, 1, n, f);
  fclose(f);
}

/* The number of names in dir other than keep1 and keep2 (either may be NULL). */
static int entries_other_than(const char *keep1, const char *keep2) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  if (d == NULL) return -1;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if ((keep1 && !strcmp(e->d_name, keep1)) || (keep2 && !strcmp(e->d_name, keep2))) continue;
    n++;
  }
  closedir(d);
  return n;
}

/* A call that should return at once but blocks (on a FIFO, a device, a
 * huge file) fails the test instead of hanging it: a watchdog, not a
 * timing check (the limit is far beyond any valgrind run of the call). */
static void on_watchdog(int sig) {
  static const char msg[] = "test_persist: FAIL: a call blocked (watchdog)\n";
  (void)sig;
  if (write(2, msg, sizeof msg - 1) < 0) _exit(1);
  _exit(1);
}

static void watchdog(unsigned seconds) { alarm(seconds); }

/* Bytes this process has read from files so far (/proc/self/io rchar). */
static long long bytes_read(void) {
  FILE *f = fopen("/proc/self/io", "r");
  char line[256];
  long long n = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "rchar: %lld", &n) == 1) break;
  if (f) fclose(f);
  return n;
}

static uint32_t crc32(const unsigned char *p, size_t n) {
  uint32_t c = 0xffffffffu;
  size_t i;
  int k;
  for (i = 0; i < n; i++) {
    c ^= p[i];
    for (k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

static void put32(unsigned char *p, uint32_t v) {
  int i;
  for (i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v) {
  int i;
  for (i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* A 40-byte header with a correct header checksum. */
static void header(unsigned char h[40], uint64_t count, uint64_t payload_len, uint32_t payload_crc) {
  memset(h, 0, 40);
  memcpy(h, "KUBEREF", 8);
  put32(h + 8, 1);
  put64(h + 16, count);
  put64(h + 24, payload_len);
  put32(h + 32, payload_crc);
  put32(h + 36, crc32(h, 36));
}

static void test_save_load(void) {
  kuberef_manager *a = kuberef_manager_new(), *b = kuberef_manager_new();
  char path[128], missing[128];
  struct stat st;
  size_t n = 555;
  kuberef_str bad = {NULL, 1};
  char with_nul[] = "a\0b";
  kuberef_str nul_path;
  nul_path.ptr = with_nul;
  nul_path.len = 3;
  path_in(path, "refs");
  path_in(missing, "no-such-dir/refs");
  fill(a, 1500, 7);

  /* Bad input. */
  CHECK_STATUS(kuberef_save(NULL, S(path), &n), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_save(a, bad, &n), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_save(a, S(""), &n), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_save(a, nul_path, &n), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_save(a, S(missing), &n), KUBEREF_IO_ERROR);
  CHECK(n == 555 && stat(path, &st) != 0);
  CHECK_STATUS(kuberef_load(NULL, S(path), 0, &n), KUBEREF_NULL_ARGUMENT);
  CHECK_STATUS(kuberef_load(b, bad, 0, &n), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_load(b, S(path), 2, &n), KUBEREF_INVALID_ARGUMENT);
  CHECK_STATUS(kuberef_load(b, S(path), 0, &n), KUBEREF_FILE_NOT_FOUND);
  CHECK_STATUS(kuberef_load(b, S(dir), 0, &n), KUBEREF_FILE_NOT_REGULAR); /* a directory */
  CHECK(n == 555 && kuberef_len(b) == 0);

  /* Round trip; mode 0600; no temporary file left. */
  CHECK_STATUS(kuberef_save(a, S(path), &n), KUBEREF_OK);
  CHECK(n == 1500);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  CHECK(entries_other_than("refs", NULL) == 0);
  CHECK_STATUS(kuberef_load(b, S(path), 0, &n), KUBEREF_OK);
  CHECK(n == 1500 && same_contents(a, b));

  /* Merge keeps other refs; replace does not. */
  {
    kuberef_container_id k = cid("containerd", "extra");
    kuberef_object_reference r = mkref("x", "y", "z");
    kuberef_set_ref(b, &k, &r);
    CHECK_STATUS(kuberef_load(b, S(path), 0, NULL), KUBEREF_OK);
    CHECK(kuberef_len(b) == 1501);
    CHECK_STATUS(kuberef_load(b, S(path), KUBEREF_LOAD_REPLACE, &n), KUBEREF_OK);
    CHECK(n == 1500 && kuberef_len(b) == 1500 && same_contents(a, b));
  }

  /* Every kind of bad file: its own status, and b is unchanged. */
  {
    FILE *f = fopen(path, "rb");
    long size;
    unsigned char *good;
    unsigned char *copy;
    char other[128];
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    good = (unsigned char *)malloc((size_t)size);
    copy = (unsigned char *)malloc((size_t)size + 1);
    CHECK(fread(good, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    path_in(other, "bad");

    write_bytes(other, "", 0);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_TRUNCATED);
    write_bytes(other, "{\"kind\":\"Pod\"} this is JSON, not ours", 37);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_FOREIGN);
    memcpy(copy, good, (size_t)size);
    copy[8] = 9; /* version 9 */
    write_bytes(other, copy, (size_t)size);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_VERSION);
    write_bytes(other, good, (size_t)size - 1);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_TRUNCATED);
    write_bytes(other, good, (size_t)size / 2);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_TRUNCATED);
    write_bytes(other, good, 20);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_TRUNCATED);
    memcpy(copy, good, (size_t)size);
    copy[size / 2] ^= 1; /* one bit in a record */
    write_bytes(other, copy, (size_t)size);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_CORRUPT);
    memcpy(copy, good, (size_t)size);
    copy[16] ^= 1; /* the count, in the header */
    write_bytes(other, copy, (size_t)size);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_CORRUPT);
    memcpy(copy, good, (size_t)size);
    copy[size] = 0; /* one byte too many */
    write_bytes(other, copy, (size_t)size + 1);
    CHECK_STATUS(kuberef_load(b, S(other), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_CORRUPT);
    CHECK(n == 1500 && same_contents(a, b));
    unlink(other);
    free(good);
    free(copy);
  }

  /* Saving over a file replaces it (still 0600, even if it was 0644). */
  chmod(path, 0644);
  kuberef_clear_pod(a, S("pod-0"), NULL);
  CHECK_STATUS(kuberef_save(a, S(path), &n), KUBEREF_OK);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  CHECK_STATUS(kuberef_load(b, S(path), KUBEREF_LOAD_REPLACE, &n), KUBEREF_OK);
  CHECK(n == kuberef_len(a) && same_contents(a, b));
  unlink(path);
  kuberef_manager_free(a);
  kuberef_manager_free(b);
}


/* A link planted at the old fixed temporary name, or at the target itself:
 * a save writes through neither, and changes neither the link's target's
 * bytes nor its mode. */
static void test_planted_links(void) {
  kuberef_manager *a = kuberef_manager_new(), *b = kuberef_manager_new();
  char path[128], fixed[160], victim[128], link_path[128];
  char got[16];
  struct stat st;
  FILE *f;
  size_t n = 0;
  path_in(path, "state");
  path_in(victim, "victim");
  path_in(link_path, "linked");
  sprintf(fixed, "%s.kuberef-tmp", path);
  write_bytes(victim, "precious\n", 9);
  chmod(victim, 0644);
  CHECK(symlink(victim, fixed) == 0);
  CHECK(symlink(victim, link_path) == 0);
  fill(a, 300, 3);

  CHECK_STATUS(kuberef_save(a, S(path), &n), KUBEREF_OK);
  CHECK(n == 300);
  CHECK_STATUS(kuberef_save(a, S(link_path), &n), KUBEREF_OK);
  memset(got, 0, sizeof got);
  f = fopen(victim, "rb");
  CHECK(f != NULL && fread(got, 1, sizeof got, f) == 9 && memcmp(got, "precious\n", 9) == 0);
  if (f) fclose(f);
  CHECK(stat(victim, &st) == 0 && (st.st_mode & 0777) == 0644);
  CHECK(lstat(fixed, &st) == 0 && S_ISLNK(st.st_mode)); /* left alone */
  CHECK(lstat(link_path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600);
  CHECK_STATUS(kuberef_load(b, S(path), 0, &n), KUBEREF_OK);
  CHECK(n == 300 && same_contents(a, b));
  CHECK(entries_other_than("state", "victim") == 2); /* the fixed-name link and "linked" */
  unlink(path);
  unlink(fixed);
  unlink(victim);
  unlink(link_path);
  kuberef_manager_free(a);
  kuberef_manager_free(b);
}

/* Loading a FIFO, a character device, a directory or a socket returns
 * KUBEREF_FILE_NOT_REGULAR at once, reads nothing and changes nothing. */
static void test_special_files(void) {
  kuberef_manager *m = kuberef_manager_new();
  char fifo[128], sock[128], sub[128];
  const char *paths[4];
  struct sockaddr_un addr;
  int fd, i;
  size_t n = 4321;
  path_in(fifo, "fifo");
  path_in(sock, "sock");
  path_in(sub, "sub");
  CHECK(mkfifo(fifo, 0600) == 0);
  CHECK(mkdir(sub, 0700) == 0);
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, sock, sizeof addr.sun_path - 1);
  CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(fd, 1) == 0);
  fill(m, 10, 2);
  paths[0] = fifo;
  paths[1] = "/dev/zero";
  paths[2] = sub;
  paths[3] = sock;
  for (i = 0; i < 4; i++) {
    watchdog(60);
    CHECK_STATUS(kuberef_load(m, S(paths[i]), KUBEREF_LOAD_REPLACE, &n), KUBEREF_FILE_NOT_REGULAR);
    watchdog(0);
  }
  CHECK(n == 4321 && kuberef_len(m) == 10);
  close(fd);
  unlink(fifo);
  unlink(sock);
  rmdir(sub);
  kuberef_manager_free(m);
}

/* Headers that lie about the file's length are refused before the records
 * are read: an 8 GiB sparse file whose header claims one record, a header
 * claiming more than the file has and less. RSS stays put. */
static void test_lying_headers(void) {
  kuberef_manager *m = kuberef_manager_new();
  char path[128];
  unsigned char h[40];
  const uint64_t big = (uint64_t)8 << 30;
  long before;
  long long read_before;
  size_t n = 99;
  int fd;
  path_in(path, "lies");
  fill(m, 10, 2);
  /* The peak so far is earlier tests': reset it (where that fails, the
   * check is weaker). */
  if (!reset_peak_rss()) printf("test_persist: the peak RSS was not reset\n");
  before = peak_rss_kib();

  header(h, 1, big - 40, 0);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0 && write(fd, h, 40) == 40 && ftruncate(fd, (off_t)big) == 0);
  close(fd);
  watchdog(60);
  read_before = bytes_read();
  CHECK_STATUS(kuberef_load(m, S(path), 0, &n), KUBEREF_FILE_CORRUPT);
  CHECK(read_before >= 0 && bytes_read() - read_before < (1 << 20)); /* the header, not 8 GiB */
  watchdog(0);

  header(h, 1, 1000, 0); /* claims 1040 bytes, has 40 */
  write_bytes(path, h, 40);
  CHECK_STATUS(kuberef_load(m, S(path), 0, &n), KUBEREF_FILE_TRUNCATED);
  {
    unsigned char f[100];
    memset(f, 0, sizeof f);
    header(f, 1, 36, crc32(f + 40, 36)); /* claims 76 bytes, has 100 */
    write_bytes(path, f, sizeof f);
    CHECK_STATUS(kuberef_load(m, S(path), 0, &n), KUBEREF_FILE_CORRUPT);
    write_bytes(path, f, 76); /* the same, whole: one empty record */
    CHECK_STATUS(kuberef_load(m, S(path), 0, &n), KUBEREF_OK);
    CHECK(n == 1 && kuberef_len(m) == 11);
  }
  /* Valgrind and ASan count their own memory: only report there. */
  printf("test_persist: peak RSS grew by %ld KiB over the lying headers\n", peak_rss_kib() - before);
  if (!instrumented()) CHECK(before > 0 && peak_rss_kib() - before < 16384);
  unlink(path);
  kuberef_manager_free(m);
}

/* A FIFO planted at one path's old fixed temporary name delays neither a
 * save to that path nor one to another. */
static void test_fifo_at_temp_name(void) {
  kuberef_manager *m = kuberef_manager_new();
  char one[128], two[128], fifo[160];
  path_in(one, "one");
  path_in(two, "two");
  sprintf(fifo, "%s.kuberef-tmp", one);
  CHECK(mkfifo(fifo, 0600) == 0);
  fill(m, 20, 2);
  watchdog(60);
  CHECK_STATUS(kuberef_save(m, S(one), NULL), KUBEREF_OK);
  CHECK_STATUS(kuberef_save(m, S(two), NULL), KUBEREF_OK);
  watchdog(0);
  CHECK(entries_other_than("one", "two") == 1); /* the FIFO */
  unlink(one);
  unlink(two);
  unlink(fifo);
  kuberef_manager_free(m);
}

/* A load the operating system refuses for a reason other than a missing
 * file (here a path through a regular file: ENOTDIR) returns
 * KUBEREF_IO_ERROR, writes no count and changes nothing. */
static void test_load_io_error(void) {
  kuberef_manager *m = kuberef_manager_new();
  char file[128], through[160];
  size_t n = 77;
  path_in(file, "plain");
  sprintf(through, "%s/refs", file);
  write_bytes(file, "x", 1);
  fill(m, 10, 2);
  CHECK_STATUS(kuberef_load(m, S(through), KUBEREF_LOAD_REPLACE, &n), KUBEREF_IO_ERROR);
  CHECK(n == 77 && kuberef_len(m) == 10);
  unlink(file);
  kuberef_manager_free(m);
}

static void test_status_codes(void) {
  kuberef_status codes[] = {KUBEREF_IO_ERROR,       KUBEREF_FILE_NOT_FOUND,   KUBEREF_FILE_FOREIGN,
                            KUBEREF_FILE_VERSION,   KUBEREF_FILE_TRUNCATED,   KUBEREF_FILE_CORRUPT,
                            KUBEREF_SAVE_NOT_DURABLE, KUBEREF_FILE_NOT_REGULAR};
  size_t i, j;
  CHECK(KUBEREF_IO_ERROR == 7 && KUBEREF_FILE_NOT_FOUND == 8 && KUBEREF_FILE_FOREIGN == 9 &&
        KUBEREF_FILE_VERSION == 10 && KUBEREF_FILE_TRUNCATED == 11 && KUBEREF_FILE_CORRUPT == 12 &&
        KUBEREF_SAVE_NOT_DURABLE == 13 && KUBEREF_FILE_NOT_REGULAR == 14);
  for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
    for (j = 0; j <= 15; j++)
      if (j != codes[i]) CHECK(strcmp(kuberef_status_message(codes[i]), kuberef_status_message((uint32_t)j)) != 0);
}

int main(void) {
  signal(SIGALRM, on_watchdog);
  sprintf(dir, "/tmp/kuberef-test-persist-XXXXXX");
  if (mkdtemp(dir) == NULL) { perror("mkdtemp"); return 2; }
  test_save_load();
  test_planted_links();
  test_special_files();
  test_lying_headers();
  test_fifo_at_temp_name();
  test_load_io_error();
  test_status_codes();
  CHECK(entries_other_than(NULL, NULL) == 0);
  rmdir(dir);
  return check_finish("test_persist");
}
