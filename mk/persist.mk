# Persistence on a hostile or shared file system (kuberef_save, kuberef_load).
# c-tests/test_persist.c runs with the other C tests (plain, static, ASan+UBSan,
# valgrind); these heavier programs run here (all in make test):
#
#   make persist-crash                  SIGKILL a saving process 200 times (CRASH_RUNS); the file is
#                                       always snapshot A or B, whole; leftovers are removed by the next save
#   make persist-concurrent             4 processes save their own snapshots to one path while loads check
#                                       every file is whole and one of them (SAVERS, SAVER_ROUNDS, SAVES)
#   make persist-memory                 peak RSS of loading a 100 MB file (merge, replace) and of refusing
#                                       a sparse 2 GiB file that claims 60 million records (LOAD_RECORDS, SPARSE_GIB)
#   make persist-not-durable            as an unprivileged user: KUBEREF_SAVE_NOT_DURABLE in a mode-0300
#                                       directory, KUBEREF_IO_ERROR in a mode-0500 one, each matching the disk
#   make persist-test                   all four

CRASH_RUNS ?= 200
SAVERS ?= 4
SAVER_ROUNDS ?= 5
SAVES ?= 40
LOAD_RECORDS ?= 2500000
SPARSE_GIB ?= 2
PERSIST_CFLAGS := $(TEST_CFLAGS) -O2
PERSIST_DEPS := c-tests/check.h c-tests/fixtures.h include/kuberef.h

TESTS += persist-test
.PHONY: persist-test persist-crash persist-concurrent persist-memory persist-not-durable

$(B)/persist/%: c-tests/persist/%.c $(PERSIST_DEPS) $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(PERSIST_CFLAGS) -o $@ $< $(DYN_LINK)

# Static, so that an unprivileged user can run a copy outside the build tree.
$(B)/persist/%.static: c-tests/persist/%.c $(PERSIST_DEPS) $(BLIB)/libkuberef.a
	@mkdir -p $(@D)
	$(CC) $(PERSIST_CFLAGS) -o $@ $< $(STATIC_LINK)

persist-crash: $(B)/persist/crash_save
	./$< $(CRASH_RUNS) $$(mktemp -d /tmp/kuberef-crash-XXXXXX)

persist-concurrent: $(B)/persist/concurrent_savers
	./$< $$(mktemp -d /tmp/kuberef-savers-XXXXXX) $(SAVERS) $(SAVER_ROUNDS) $(SAVES)

persist-memory: $(B)/persist/load_memory
	./$< $$(mktemp -d /tmp/kuberef-memory-XXXXXX) $(LOAD_RECORDS) $(SPARSE_GIB)

# Root ignores directory permissions: as root, a copy of the static program
# runs as nobody (setpriv, util-linux) in a scratch directory it owns.
persist-not-durable: $(B)/persist/not_durable.static
	@d=$$(mktemp -d /tmp/kuberef-durable-XXXXXX); chmod 755 $$d; cp $< $$d/not_durable; \
	  if [ "$$(id -u)" = 0 ]; then chown 65534:65534 $$d; \
	    run="setpriv --reuid=65534 --regid=65534 --clear-groups --"; else run=; fi; \
	  $$run $$d/not_durable $$d; rc=$$?; rm -rf $$d; exit $$rc

persist-test: persist-crash persist-concurrent persist-memory persist-not-durable
	@echo "persist-test: passed"
