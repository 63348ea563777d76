# Hardening: the C-boundary fuzzer, panic injection and the export
# audit, the soak, and a canary that proves the sanitizer runs can fail.
#
#   make fuzz-test       seed replay + a bounded run of each target         [make test]
#                        (abi: the C boundary, FUZZ_SECONDS 30; snapshot: the
#                        snapshot file reader, FUZZ_SNAPSHOT_SECONDS 15; cli:
#                        the kuberef tool's commands, FUZZ_CLI_SECONDS 15)
#   make panic-test      panic injection into every export + export audit    [make test]
#   make soak-test       short soak, plain (RSS checked) and ASan+UBSan      [make test]
#   make sanitizer-canary  ASan, UBSan, LSan and valgrind fail on planted bugs [make test]
#   make no-random-test  the C API where the OS gives no random bytes (an     [make test]
#                        LD_PRELOAD shim denies getrandom and /dev/urandom)
#   make fuzz-long       a long run of FUZZ_TARGET (abi; FUZZ_LONG_SECONDS, 900), niced
#   make soak-long       a long soak (SOAK_LONG_ARGS), niced
#   make go-soak         the Go soak (go/soak_test.go), RSS checked           [make test]
#   make go-soak-long    a long Go soak (GO_SOAK_LONG_OPS per goroutine), niced
#   make fuzz-merge      minimise FUZZ_TARGET's seeds plus build/fuzz/corpus into fuzz/seeds/

TESTS += fuzz-test panic-test soak-test go-soak sanitizer-canary no-random-test

.PHONY: fuzz-build fuzz-test fuzz-long fuzz-merge panic-test soak-test soak-long go-soak go-soak-long \
        sanitizer-canary no-random-test

# --- fuzzing -------------------------------------------------------------------
# libFuzzer from the libfuzzer-sys crate, on the stable toolchain: the flags
# cargo-fuzz passes (SanitizerCoverage through LLVM passes, which stable rustc
# accepts), plus -Zsanitizer=address, for which RUSTC_BOOTSTRAP=1 lets stable
# rustc take the one unstable flag (the ASan runtime ships with stable rust-std).
# --target keeps the flags off build scripts.
FUZZ_HOST := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
FUZZ_BIN_DIR := fuzz/target/$(FUZZ_HOST)/release
FUZZ_BIN := $(FUZZ_BIN_DIR)/abi
# The targets, and the seconds each fuzzes in make test.
FUZZ_TARGETS := abi snapshot cli
FUZZ_SECONDS ?= 30
FUZZ_SNAPSHOT_SECONDS ?= 15
FUZZ_CLI_SECONDS ?= 15
FUZZ_LONG_SECONDS ?= 900
# The target fuzz-long and fuzz-merge work on, and fuzz-merge's input limit:
# short for abi (a program of calls), the fuzzing limit for snapshot and cli,
# whose seeds are whole files of several records (a shorter limit would cut
# every one of them).
FUZZ_TARGET ?= abi
FUZZ_MERGE_MAX_LEN ?= $(if $(filter abi,$(FUZZ_TARGET)),128,4096)
# Each target's committed seeds are one archive, fuzz/seeds/TARGET.tar.gz,
# unpacked into build/fuzz/seeds/TARGET; new inputs go to
# build/fuzz/corpus/TARGET, crashes to build/fuzz/crash-*.
FUZZ_SEEDS := fuzz/seeds
FUZZ_WORK := $(B)/fuzz
FUZZ_RUSTFLAGS := -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cforce-frame-pointers=yes \
  -Zsanitizer=address
FUZZ_FLAGS := -rss_limit_mb=2048 -timeout=10 -max_len=4096 -print_final_stats=1 \
  -artifact_prefix=$(abspath $(FUZZ_WORK))/
FUZZ_ENV := ASAN_OPTIONS=detect_leaks=1

fuzz-build: deps
	cd fuzz && RUSTC_BOOTSTRAP=1 RUSTFLAGS="$(FUZZ_RUSTFLAGS)" \
	  $(CARGO) build --release --locked --target $(FUZZ_HOST) $(addprefix --bin ,$(FUZZ_TARGETS))

# fuzz-unpack-T: T's committed seeds, fresh in build/fuzz/seeds/T.
fuzz-unpack-%:
	rm -rf $(FUZZ_WORK)/seeds/$* && mkdir -p $(FUZZ_WORK)/seeds/$* $(FUZZ_WORK)/corpus/$*
	tar -xzf $(FUZZ_SEEDS)/$*.tar.gz -C $(FUZZ_WORK)/seeds/$*

# Replays every committed seed of each target (a failure there is a
# regression), then fuzzes it from them. Any crash, leak or failed check
# fails the target.
fuzz-test: fuzz-build $(addprefix fuzz-unpack-,$(FUZZ_TARGETS))
	cd fuzz && $(CARGO) fmt --check
	@for t in $(FUZZ_TARGETS); do \
	  secs=$(FUZZ_SECONDS); [ $$t = snapshot ] && secs=$(FUZZ_SNAPSHOT_SECONDS); \
	  [ $$t = cli ] && secs=$(FUZZ_CLI_SECONDS); \
	  echo "fuzz-test: $$t: $$(ls $(FUZZ_WORK)/seeds/$$t | wc -l) seeds, then $$secs s"; \
	  $(FUZZ_ENV) ./$(FUZZ_BIN_DIR)/$$t $(FUZZ_FLAGS) -runs=0 $(FUZZ_WORK)/seeds/$$t 2>&1 | grep -E '^(INFO: seed|stat::|==)' ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	  $(FUZZ_ENV) ./$(FUZZ_BIN_DIR)/$$t $(FUZZ_FLAGS) -max_total_time=$$secs \
	    $(FUZZ_WORK)/corpus/$$t $(FUZZ_WORK)/seeds/$$t 2>&1 | grep -v '^#[0-9]' ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done
	@echo "fuzz-test: $(words $(FUZZ_TARGETS)) targets, seeds replayed and fuzzed"

fuzz-long: fuzz-build fuzz-unpack-$(FUZZ_TARGET)
	$(FUZZ_ENV) nice ./$(FUZZ_BIN_DIR)/$(FUZZ_TARGET) $(FUZZ_FLAGS) -max_total_time=$(FUZZ_LONG_SECONDS) \
	  $(FUZZ_WORK)/corpus/$(FUZZ_TARGET) $(FUZZ_WORK)/seeds/$(FUZZ_TARGET)

# Keeps a target's committed seeds small: a set cover of what its seeds plus
# build/fuzz/corpus/TARGET reach, inputs of at most FUZZ_MERGE_MAX_LEN bytes,
# packed into fuzz/seeds/TARGET.tar.gz (byte-reproducible: sorted names,
# fixed times and owners, gzip without a timestamp).
fuzz-merge: fuzz-build fuzz-unpack-$(FUZZ_TARGET)
	rm -rf $(FUZZ_WORK)/merged && mkdir -p $(FUZZ_WORK)/merged
	./$(FUZZ_BIN_DIR)/$(FUZZ_TARGET) -set_cover_merge=1 -max_len=$(FUZZ_MERGE_MAX_LEN) $(FUZZ_WORK)/merged \
	  $(FUZZ_WORK)/seeds/$(FUZZ_TARGET) $(FUZZ_WORK)/corpus/$(FUZZ_TARGET)
	mkdir -p $(FUZZ_SEEDS)
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C $(FUZZ_WORK)/merged -cf - . \
	  | gzip -9n > $(FUZZ_SEEDS)/$(FUZZ_TARGET).tar.gz
	@echo "$(FUZZ_SEEDS)/$(FUZZ_TARGET).tar.gz: $$(ls $(FUZZ_WORK)/merged | wc -l) inputs, $$(cat $(FUZZ_WORK)/merged/* | wc -c) bytes"

# --- panic injection and the export audit --------------------------------------
# A separate (debug) build with the panic-injection feature; the audit lists
# the exports of the release artifact build/lib/libkuberef.so.
panic-test: lib
	$(CARGO) clippy --all-targets --features panic-injection -- -D warnings
	KUBEREF_SO=$(abspath $(BLIB)/$(SO_REAL)) $(CARGO) test --features panic-injection --test panic_injection

# --- soak ------------------------------------------------------------------------
SOAK_ARGS ?= -t 4 -n 500000 -k 4096 -r 10 -w 3
SOAK_ASAN_ARGS ?= -t 4 -n 100000 -k 4096 -r 5 -w 2 -R 0
SOAK_LONG_ARGS ?= -t 4 -n 50000000 -k 65536 -r 50 -w 5

soak-test: $(B)/c-tests/soak $(B)/c-tests/soak.asan
	./$(B)/c-tests/soak $(SOAK_ARGS)
	$(SAN_ENV) ./$(B)/c-tests/soak.asan $(SOAK_ASAN_ARGS)

soak-long: $(B)/c-tests/soak
	nice ./$(B)/c-tests/soak $(SOAK_LONG_ARGS)

# The Go binding under goroutines (go/soak_test.go; GO_ENV comes from mk/go.mk).
# A small TestSoak also runs in every go-test mode, -race included.
GO_SOAK_ENV := KUBEREF_SOAK_GOROUTINES=8 KUBEREF_SOAK_KEYS=4096 KUBEREF_SOAK_ROUNDS=10 KUBEREF_SOAK_RSS=1
GO_SOAK_LONG_OPS ?= 10000000

go-soak: lib
	cd go && $(GO_ENV) $(GO_SOAK_ENV) KUBEREF_SOAK_OPS=50000 $(GO) test -count=1 -run '^TestSoak$$' -v . \
	  | grep -E 'soak:|^(---|ok|FAIL|PASS)'; test $${PIPESTATUS[0]} -eq 0

go-soak-long: lib
	cd go && $(GO_ENV) KUBEREF_SOAK_GOROUTINES=8 KUBEREF_SOAK_KEYS=65536 KUBEREF_SOAK_ROUNDS=40 KUBEREF_SOAK_RSS=1 \
	  KUBEREF_SOAK_OPS=$(GO_SOAK_LONG_OPS) nice $(GO) test -count=1 -timeout 0 -run '^TestSoak$$' -v .

# --- the sanitizer runs can fail ---------------------------------------------------
# Planted bugs, built with the real tests' flags (TEST_CFLAGS, SAN; -O0 last,
# so that the compiler keeps each bug) and run with the same options (SAN_ENV,
# VALGRIND): each run must fail, and fail with the tool's own report (an ASan,
# LSan or UBSan error; valgrind's --error-exitcode), not merely exit non-zero.
CANARIES := heap_overflow leak signed_overflow

$(B)/canary/%.asan: c-tests/canary/%.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -O0 $(SAN) -o $@ $<

$(B)/canary/%: c-tests/canary/%.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -O0 -o $@ $<

sanitizer-canary: $(foreach c,$(CANARIES),$(B)/canary/$(c) $(B)/canary/$(c).asan) deps
	@pass=0; fail=0; \
	for c in $(CANARIES); do \
	  out=$$( $(SAN_ENV) ./$(B)/canary/$$c.asan 2>&1 ); rc=$$?; \
	  if [ $$rc -ne 0 ] && grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' <<< "$$out"; then \
	    pass=$$((pass+1)); \
	  else echo "sanitizer-canary: ASan/UBSan run of $$c did not report it (status $$rc)"; fail=$$((fail+1)); fi; \
	done; \
	for c in heap_overflow leak; do \
	  ( $(VALGRIND) ./$(B)/canary/$$c ) >/dev/null 2>&1; rc=$$?; \
	  if [ $$rc -eq 99 ]; then pass=$$((pass+1)); \
	  else echo "sanitizer-canary: valgrind run of $$c did not report it (status $$rc, not 99)"; fail=$$((fail+1)); fi; \
	done; \
	echo "sanitizer-canary: $$pass passed, $$fail failed"; test $$fail -eq 0

# --- no random bytes -------------------------------------------------------------
# c-tests/norandom: the shim takes getrandom(2) and /dev/urandom away; the test
# checks that it did, then that managers (the global one first) still work.
$(B)/norandom/shim.so: c-tests/norandom/shim.c
	@mkdir -p $(@D)
	$(CC) -std=c99 $(CWARN) -Wno-pedantic -fPIC -shared -o $@ $< -ldl

$(B)/norandom/test_no_random: c-tests/norandom/test_no_random.c c-tests/check.h c-tests/fixtures.h include/kuberef.h $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(DYN_LINK)

no-random-test: $(B)/norandom/shim.so $(B)/norandom/test_no_random
	LD_PRELOAD=$(abspath $(B)/norandom/shim.so) ./$(B)/norandom/test_no_random
