# The Go binding (go/) and its upstream differential tests (go/upstreamtest/).
#
#   make go-test    vet + tests of the binding, dynamically and statically linked,
#                   under -race and with cgo pointer checks (cgocheck=1 and cgocheck2)
#   make go-bench   the benchmarks: the binding beside upstream's pure Go, one run
#
# Both build the library first and point cgo at the in-tree build through
# pkg-config (build/lib/pkgconfig/kuberef.pc); the dynamic test binaries find
# libkuberef.so through an rpath.

GO ?= go
GO_ENV := PKG_CONFIG_PATH=$(abspath $(BLIB))/pkgconfig CGO_LDFLAGS="-Wl,-rpath,$(abspath $(BLIB))"
GO_STATIC := -tags kuberef_static
GO_BENCH_TIME ?= 1s

.PHONY: go-test go-bench

go-test: lib
	cd go && $(GO_ENV) $(GO) vet ./... && $(GO_ENV) $(GO) vet $(GO_STATIC) ./...
	cd go && $(GO_ENV) $(GO) test -count=1 -race ./...
	cd go && $(GO_ENV) $(GO) test -count=1 -race $(GO_STATIC) ./...
	cd go && GODEBUG=cgocheck=1 $(GO_ENV) $(GO) test -count=1 ./...
	cd go && GOEXPERIMENT=cgocheck2 $(GO_ENV) $(GO) test -count=1 $(GO_STATIC) ./...
	cd go && $(GO_ENV) $(GO) test -c $(GO_STATIC) -o $(abspath $(B))/go-static.test .
	@! ldd $(B)/go-static.test | grep kuberef || { echo "go-test: the kuberef_static binary links libkuberef.so"; exit 1; }
	@echo "go-test: passed (vet; -race dynamic and static; cgocheck=1; cgocheck2)"

go-bench: lib
	cd go && $(GO_ENV) $(GO) test -run '^$$' -bench . -benchmem -benchtime $(GO_BENCH_TIME) ./...

TESTS += go-test
