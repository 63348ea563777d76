# Benchmarks (docs/performance.md). Everything lives in bench/: bench/c (the C
# ABI), bench/go (the binding and upstream's real code, a module of its own),
# bench/rust (the floor, the GetRef bound and the bulk operations).
#
#   make bench         release build of everything, then BENCH_ROUNDS rounds of
#                      every benchmark program, then one table (medians, ratios
#                      against upstream Go, targets met or missed) on stdout and
#                      in build/bench/table.md
#   make bench-smoke   (part of make test) each program once with tiny sizes and
#                      samples, checking that every value is there and positive;
#                      never a timing assertion
#   bench/ab.sh        one operation against several builds of the library,
#                      interleaved (build/bench/loop_c; see docs/performance.md)
#
# BENCH_ROUNDS (default 9) process runs per program, each with BENCH_REPS samples
# per cell (default 1: many short rounds, so that a noisy phase of the machine
# falls on every implementation alike; BENCH_FLAGS passes more options, e.g.
# --sample-ms 20); BENCH_MEM refs for the memory benchmark (default 1,000,000).

BENCH_OUT := $(B)/bench
BENCH_ROUNDS ?= 9
BENCH_REPS ?= 1
BENCH_MEM ?= 1000000
BENCH_FLAGS ?=
BENCH_CFLAGS := -std=c11 $(CWARN) -O2 -Iinclude -Ibench/c
BENCH_GO_PROGRAMS := upstream-go kuberef-go table
# cgo finds the in-tree library through its pkg-config file; an rpath finds it at run time.
BENCH_GO_ENV := PKG_CONFIG_PATH=$(abspath $(BLIB))/pkgconfig CGO_LDFLAGS="-Wl,-rpath,$(abspath $(BLIB))"
BENCH_BINS := $(BENCH_OUT)/bench_c $(BENCH_OUT)/glib_c $(BENCH_OUT)/mem_c $(BENCH_OUT)/loop_c $(addprefix $(BENCH_OUT)/,$(BENCH_GO_PROGRAMS))
# GLib (scripts/deps.d/bench-glib.sh), its headers as system headers so that
# -pedantic -Werror judges only our code.
GLIB_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags glib-2.0))
GLIB_LIBS = $(shell pkg-config --libs glib-2.0)

TESTS += bench-smoke

.PHONY: bench bench-build bench-smoke bench-floor-build bench-bulk bench-get-cpu FORCE_GO

$(BENCH_OUT)/%_c: bench/c/%.c bench/c/workload.h bench/c/harness.h include/kuberef.h $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(DYN_LINK)

$(BENCH_OUT)/glib_c: bench/c/glib.c bench/c/workload.h bench/c/harness.h include/kuberef.h $(BLIB)/$(SO_REAL)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(GLIB_CFLAGS) -o $@ $< $(DYN_LINK) $(GLIB_LIBS)

# Go decides itself what to rebuild; the module lives in bench/go so its heavy
# dependencies (k8s.io/kubernetes v1.18.6) never reach the binding's module.
$(BENCH_OUT)/upstream-go: FORCE_GO
	@mkdir -p $(@D)
	cd bench/go && go build -o $(abspath $@) ./upstream

# The binding, linked dynamically against build/lib/libkuberef.so (its default mode).
$(BENCH_OUT)/kuberef-go: $(BLIB)/$(SO_REAL) $(BLIB)/pkgconfig/kuberef.pc FORCE_GO
	@mkdir -p $(@D)
	cd bench/go && $(BENCH_GO_ENV) go build -o $(abspath $@) ./binding

$(BENCH_OUT)/table: FORCE_GO
	@mkdir -p $(@D)
	cd bench/go && go build -o $(abspath $@) ./table

FORCE_GO:

bench-floor-build: deps
	$(CARGO) bench --bench floor --no-run

bench-build: lib bench-floor-build $(BENCH_BINS)

bench: bench-build
	@bash bench/run.sh $(BENCH_OUT) $(BENCH_ROUNDS) $(BENCH_MEM) --reps $(BENCH_REPS) $(BENCH_FLAGS)

bench-smoke: bench-build
	cd bench/go && $(GO) vet ./table && $(GO) test -count=1 ./table
	@bash bench/run.sh $(BENCH_OUT)/smoke 1 10000 --quick --check
	@bash bench/ab.sh --runs 1 setclear 2000 1000 3 $(BLIB) | grep -q 'setclear: min [0-9]'
	@bash bench/ab.sh --runs 1 get 2000 1000 0 $(BLIB) | grep -q 'get: min [0-9]'
	@bash bench/ab.sh --runs 1 --live 20 setclear 2000 1000 0 $(BLIB) | grep -q 'setclear: min [0-9]'

bench-bulk: deps
	$(CARGO) bench --bench bulk -- leak 1000000

bench-get-cpu: $(BENCH_OUT)/get_cpu_time_c
	./$< 1000
