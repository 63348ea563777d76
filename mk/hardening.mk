# Hardening: the C-boundary fuzzer, panic injection and the export
# audit, the soak, and a canary that proves the sanitizer runs can fail.
#
#   make fuzz-test       corpus replay + a bounded run (FUZZ_SECONDS, 30)   [make test]
#   make panic-test      panic injection into every export + export audit    [make test]
#   make soak-test       short soak, plain (RSS checked) and ASan+UBSan      [make test]
#   make sanitizer-canary  ASan, UBSan, LSan and valgrind fail on planted bugs [make test]
#   make fuzz-long       a long fuzz run (FUZZ_LONG_SECONDS, 900), niced
#   make soak-long       a long soak (SOAK_LONG_ARGS), niced
#   make go-soak         the Go soak (go/soak_test.go), RSS checked           [make test]
#   make go-soak-long    a long Go soak (GO_SOAK_LONG_OPS per goroutine), niced
#   make fuzz-merge      minimise build/fuzz/corpus into the committed seed corpus

TESTS += fuzz-test panic-test soak-test go-soak sanitizer-canary

.PHONY: fuzz-build fuzz-test fuzz-long fuzz-merge panic-test soak-test soak-long go-soak go-soak-long \
        sanitizer-canary

# --- fuzzing -------------------------------------------------------------------
# libFuzzer from the libfuzzer-sys crate, on the stable toolchain: the flags
# cargo-fuzz passes (SanitizerCoverage through LLVM passes, which stable rustc
# accepts), plus -Zsanitizer=address, for which RUSTC_BOOTSTRAP=1 lets stable
# rustc take the one unstable flag (the ASan runtime ships with stable rust-std).
# --target keeps the flags off build scripts.
FUZZ_HOST := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
FUZZ_BIN := fuzz/target/$(FUZZ_HOST)/release/abi
FUZZ_CORPUS := fuzz/corpus/abi
FUZZ_WORK := $(B)/fuzz
FUZZ_SECONDS ?= 30
FUZZ_LONG_SECONDS ?= 900
FUZZ_RUSTFLAGS := -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cforce-frame-pointers=yes \
  -Zsanitizer=address
FUZZ_FLAGS := -rss_limit_mb=2048 -timeout=10 -max_len=4096 -print_final_stats=1 \
  -artifact_prefix=$(abspath $(FUZZ_WORK))/

fuzz-build: deps
	cd fuzz && RUSTC_BOOTSTRAP=1 RUSTFLAGS="$(FUZZ_RUSTFLAGS)" \
	  $(CARGO) build --release --locked --target $(FUZZ_HOST) --bin abi

# Replays every committed seed (a failure there is a regression), then fuzzes
# for FUZZ_SECONDS from them; new inputs go to build/fuzz/corpus, crashes to
# build/fuzz/crash-*. Any crash, leak or failed model check fails the target.
fuzz-test: fuzz-build
	cd fuzz && $(CARGO) fmt --check
	@mkdir -p $(FUZZ_WORK)/corpus
	ASAN_OPTIONS=detect_leaks=1 ./$(FUZZ_BIN) $(FUZZ_FLAGS) -runs=0 $(FUZZ_CORPUS)
	ASAN_OPTIONS=detect_leaks=1 ./$(FUZZ_BIN) $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
	  $(FUZZ_WORK)/corpus $(FUZZ_CORPUS) 2>&1 | grep -v '^#[0-9]' ; test $${PIPESTATUS[0]} -eq 0
	@echo "fuzz-test: 2 passed, 0 failed"

fuzz-long: fuzz-build
	@mkdir -p $(FUZZ_WORK)/corpus
	ASAN_OPTIONS=detect_leaks=1 nice ./$(FUZZ_BIN) $(FUZZ_FLAGS) -max_total_time=$(FUZZ_LONG_SECONDS) \
	  $(FUZZ_WORK)/corpus $(FUZZ_CORPUS)

# Keeps the committed corpus small: a set cover of what the seeds plus
# build/fuzz/corpus reach, inputs of at most 128 bytes.
fuzz-merge: fuzz-build
	rm -rf $(FUZZ_WORK)/merged && mkdir -p $(FUZZ_WORK)/merged
	./$(FUZZ_BIN) -set_cover_merge=1 -max_len=128 $(FUZZ_WORK)/merged $(FUZZ_CORPUS) $(FUZZ_WORK)/corpus
	rm -rf $(FUZZ_CORPUS) && mv $(FUZZ_WORK)/merged $(FUZZ_CORPUS)
	@echo "$(FUZZ_CORPUS): $$(ls $(FUZZ_CORPUS) | wc -l) files, $$(cat $(FUZZ_CORPUS)/* | wc -c) bytes"

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
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ./$(B)/c-tests/soak.asan $(SOAK_ASAN_ARGS)

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
# Planted bugs, built and run exactly as c-asan and c-valgrind build and run
# the real tests; each run must fail.
CANARIES := heap_overflow leak signed_overflow

$(B)/canary/%.asan: c-tests/canary/%.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(CWARN) -g -O0 $(SAN) -o $@ $<

$(B)/canary/%: c-tests/canary/%.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(CWARN) -g -O0 -o $@ $<

sanitizer-canary: $(foreach c,$(CANARIES),$(B)/canary/$(c) $(B)/canary/$(c).asan) deps
	@pass=0; fail=0; \
	for c in $(CANARIES); do \
	  if ( ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	       ./$(B)/canary/$$c.asan; exit $$? ) >/dev/null 2>&1; then \
	    echo "sanitizer-canary: ASan/UBSan run of $$c did not fail"; fail=$$((fail+1)); \
	  else pass=$$((pass+1)); fi; \
	done; \
	for c in heap_overflow leak; do \
	  if ( $(VALGRIND) ./$(B)/canary/$$c; exit $$? ) >/dev/null 2>&1; then \
	    echo "sanitizer-canary: valgrind run of $$c did not fail"; fail=$$((fail+1)); \
	  else pass=$$((pass+1)); fi; \
	done; \
	echo "sanitizer-canary: $$pass passed, $$fail failed"; test $$fail -eq 0
