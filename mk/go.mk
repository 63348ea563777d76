# The Go binding (go/) and its upstream differential tests (go/upstreamtest/).
#
#   make go-test    gofmt, vet and the tests of the binding and of the upstream
#                   differential module, all under -race (cgo pointer checks
#                   cgocheck=1 on), dynamically and statically linked, plus the
#                   binding built without pkg-config and with GOEXPERIMENT=cgocheck2
#   make go-bench   the benchmarks: the binding beside upstream's pure Go, one run
#
# Both build the library first and point cgo at the in-tree build through
# pkg-config (build/lib/pkgconfig/kuberef.pc); the dynamic test binaries find
# libkuberef.so through an rpath. Every step builds with -race so that the
# large Kubernetes dependencies are compiled in one flavour only (vet too).

GO ?= go
GO_ENV := PKG_CONFIG_PATH=$(abspath $(BLIB))/pkgconfig CGO_LDFLAGS="-Wl,-rpath,$(abspath $(BLIB))" GODEBUG=cgocheck=1
GO_NOPC_ENV := PKG_CONFIG=false CGO_CFLAGS=-I$(abspath include) CGO_LDFLAGS="-L$(abspath $(BLIB)) -Wl,-rpath,$(abspath $(BLIB))" GODEBUG=cgocheck=1
GO_STATIC := -tags kuberef_static
# Static without pkg-config, as docs/go.md gives it: the archive's native
# libraries in CGO_LDFLAGS, without -lkuberef. Expanded when the recipe runs
# (=, not :=): STATIC_LIBS reads a file that `lib` writes.
GO_NOPC_STATIC_ENV = PKG_CONFIG=false CGO_CFLAGS=-I$(abspath include) \
  CGO_LDFLAGS="-L$(abspath $(BLIB)) $(STATIC_LIBS)" GODEBUG=cgocheck=1
GO_BENCH_TIME ?= 1s
GO_BENCH_COUNT ?= 1
# GO_CGOCHECK2=no skips the GOEXPERIMENT=cgocheck2 run (it rebuilds the
# standard library and k8s.io/api: about 100 s of a cold go-test). That run
# is also the only one without -race, where the tests that count
# allocations run (make test runs it).
GO_CGOCHECK2 ?= yes

.PHONY: go-build go-test go-bench

# The binding and its packages, linked dynamically and statically (part of
# make example: what a fork imports compiles against this library).
go-build: lib
	cd go && $(GO_ENV) $(GO) build ./... && $(GO_ENV) $(GO) build $(GO_STATIC) ./...

go-test: lib
	@test -z "$$(gofmt -l go)" || { gofmt -l go; echo "go-test: gofmt needed"; exit 1; }
	cd go && $(GO_ENV) $(GO) vet -race ./... && $(GO_ENV) $(GO) vet -race $(GO_STATIC) ./...
	cd go && $(GO_ENV) $(GO) test -count=1 -race ./...
	cd go && $(GO_ENV) $(GO) test -count=1 -race $(GO_STATIC) ./...
	cd go && $(GO_NOPC_ENV) $(GO) test -count=1 -race -tags kuberef_nopkgconfig . ./internal/interop
	cd go && $(GO_ENV) $(GO) test -c -race $(GO_STATIC) -o $(abspath $(B))/go-static.test .
	cd go && $(GO_ENV) $(GO) test -c -race $(GO_STATIC) -o $(abspath $(B))/go-interop-static.test ./internal/interop
	cd go && $(GO_NOPC_STATIC_ENV) $(GO) test -c -race -tags kuberef_static,kuberef_nopkgconfig \
	  -o $(abspath $(B))/go-nopc-static.test ./internal/interop
	./$(B)/go-nopc-static.test -test.count=1 > /dev/null
	@deps=$$(ldd $(B)/go-static.test $(B)/go-interop-static.test $(B)/go-nopc-static.test) && ! grep kuberef <<< "$$deps" || \
	  { echo "go-test: ldd failed, or a kuberef_static binary links libkuberef.so"; exit 1; }
	@# TestSaveNotDurable needs a user bound by directory permissions: as root,
	@# a copy of the static test binary runs as nobody (setpriv, util-linux).
	@d=$$(mktemp -d /tmp/kuberef-go-durable-XXXXXX); chmod 755 $$d; cp $(B)/go-static.test $$d/; \
	  if [ "$$(id -u)" = 0 ]; then run="setpriv --reuid=65534 --regid=65534 --clear-groups --"; else run=; fi; \
	  out=$$(cd $$d && $$run ./go-static.test -test.run '^TestSaveNotDurable$$' -test.v -test.count=1 2>&1); rc=$$?; \
	  rm -rf $$d; echo "$$out" | grep -E '^(---|ok|FAIL|PASS)'; \
	  [ $$rc -eq 0 ] && echo "$$out" | grep -q -- '--- PASS: TestSaveNotDurable' || \
	    { echo "go-test: TestSaveNotDurable did not pass as an unprivileged user"; echo "$$out" | tail -20; exit 1; }
	cd go/upstreamtest && $(GO_ENV) $(GO) vet -race ./...
	cd go/upstreamtest && $(GO_ENV) $(GO) test -count=1 -race ./...
	cd go/upstreamtest && $(GO_ENV) $(GO) test -count=1 -race $(GO_STATIC) ./...
	if [ "$(GO_CGOCHECK2)" != no ]; then cd go && GOEXPERIMENT=cgocheck2 $(GO_ENV) $(GO) test -count=1 $(GO_STATIC) ./...; fi
	@if [ "$(GO_CGOCHECK2)" != no ]; then last="with cgocheck2, where the allocation counts are checked"; \
	  else last="NOT with cgocheck2 (GO_CGOCHECK2=no), so the allocation counts were not checked"; fi; \
	  echo "go-test: passed (gofmt; vet; binding and upstream differential tests under -race, dynamic and static; binding without pkg-config; $$last)"

go-bench: lib
	cd go && $(GO_ENV) $(GO) test -run '^$$' -bench . -benchmem -benchtime $(GO_BENCH_TIME) -count $(GO_BENCH_COUNT) .
	cd go/upstreamtest && $(GO_ENV) $(GO) test -run '^$$' -bench . -benchmem -benchtime $(GO_BENCH_TIME) -count $(GO_BENCH_COUNT) .

TESTS += go-test
