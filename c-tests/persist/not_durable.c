/* The status of a save tells the truth about the disk, as a user without
 * privileges sees it (root bypasses the permissions this test needs; the
 * make target runs it as an unprivileged user):
 *   - in a directory the user may write and search but not read (mode 0300)
 *     the rename succeeds and the directory fsync cannot be done: the save
 *     returns KUBEREF_SAVE_NOT_DURABLE, *saved is written, and the file holds
 *     the new snapshot;
 *   - in a directory the user may not write (mode 0500) the save returns
 *     KUBEREF_IO_ERROR and the file still holds the old snapshot.
 *
 *   not_durable DIR      (DIR: an existing directory the user owns) */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fixtures.h"

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
  char sub[512], path[600];
  kuberef_manager *old = kuberef_manager_new(), *next = kuberef_manager_new(), *third = kuberef_manager_new();
  kuberef_manager *got = kuberef_manager_new();
  size_t n = 0;
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  if (geteuid() == 0) {
    fprintf(stderr, "not_durable: run as a user without privileges (root ignores directory permissions)\n");
    return 2;
  }
  fill(old, 100, 2);
  fill(next, 250, 5);
  fill(third, 40, 1);
  snprintf(sub, sizeof sub, "%s/state-dir", argv[1]);
  snprintf(path, sizeof path, "%s/state", sub);
  CHECK(mkdir(sub, 0700) == 0);
  CHECK_STATUS(kuberef_save(old, S(path), &n), KUBEREF_OK);

  /* Write and search, no read: replaced, but not durable. */
  CHECK(chmod(sub, 0300) == 0);
  n = 0;
  CHECK_STATUS(kuberef_save(next, S(path), &n), KUBEREF_SAVE_NOT_DURABLE);
  CHECK(n == 250);
  CHECK(chmod(sub, 0700) == 0);
  CHECK_STATUS(kuberef_load(got, S(path), KUBEREF_LOAD_REPLACE, &n), KUBEREF_OK);
  CHECK(n == 250 && same_contents(got, next)); /* what the status said */
  CHECK(entries(sub) == 1);

  /* No write: nothing changes, and nothing is left behind. */
  CHECK(chmod(sub, 0500) == 0);
  n = 7;
  CHECK_STATUS(kuberef_save(third, S(path), &n), KUBEREF_IO_ERROR);
  CHECK(n == 7);
  CHECK_STATUS(kuberef_load(got, S(path), KUBEREF_LOAD_REPLACE, &n), KUBEREF_OK);
  CHECK(n == 250 && same_contents(got, next));
  CHECK(chmod(sub, 0700) == 0);
  CHECK(entries(sub) == 1);

  unlink(path);
  rmdir(sub);
  kuberef_manager_free(old);
  kuberef_manager_free(next);
  kuberef_manager_free(third);
  kuberef_manager_free(got);
  return check_finish("not_durable");
}
