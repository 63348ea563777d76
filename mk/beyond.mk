# Beyond upstream (issue 6): leak control, enumeration, persistence, event
# JSON and counters. See the README section "Beyond upstream".
#
#   make beyond-json-diff        differential test of kuberef_ref_to_json against Go's json.Marshal
#   make beyond-bench            leak-control timings at 1,000,000 refs and the stats overhead

# test_beyond runs plain, static, under ASan+UBSan and under valgrind with
# the other C tests (c-test, c-asan, c-valgrind loop over C_TESTS).
C_TESTS += test_beyond test_persist
all: $(foreach v,$(B)/c-tests/test_beyond $(B)/c-tests/test_persist,$(v) $(v).asan $(v).static)

JSON_DIFF_CASES ?= 200000

TESTS += beyond-json-diff

.PHONY: beyond-json-diff beyond-bench

beyond-json-diff: lib
	cd tests/json-diff && CGO_ENABLED=1 go test -count=1 -cases=$(JSON_DIFF_CASES) .

$(B)/beyond/bench_get: c-tests/beyond/bench_get.c include/kuberef.h $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(CWARN) -O2 -Iinclude -o $@ $< $(DYN_LINK)

beyond-bench: $(B)/beyond/bench_get
	./$(B)/beyond/bench_get 1000
	$(CARGO) run --release --example beyond_bench -- leak 1000000
