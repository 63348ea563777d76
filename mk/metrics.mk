# Prometheus metrics for the Go binding (go/metrics, a module of its own;
# docs/operating.md, "Prometheus metrics"). GO_ENV comes from mk/go.mk.
#
#   make metrics-test   gofmt, vet and the collector's tests under -race
#                       (client_golang's testutil against known operations,
#                       with the oldest client_golang it requires, v0.9.2), and
#                       go/metrics/k8s118: a scrape of component-base v0.18.6's
#                       legacy registry, as a v1.18 kubelet serves /metrics
#                       (client_golang v1.0.0)                            [make test]

TESTS += metrics-test
.PHONY: metrics-test

metrics-test: lib
	@test -z "$$(gofmt -l go/metrics)" || { gofmt -l go/metrics; echo "metrics-test: gofmt needed"; exit 1; }
	cd go/metrics && $(GO_ENV) $(GO) vet ./... && $(GO_ENV) $(GO) test -count=1 -race -v ./... | grep -E '^(---|ok|FAIL|PASS)'; \
	  test $${PIPESTATUS[0]} -eq 0
	cd go/metrics/k8s118 && $(GO_ENV) $(GO) vet ./... && $(GO_ENV) $(GO) test -count=1 -v ./... | grep -E '^(---|ok|FAIL|PASS)'; \
	  test $${PIPESTATUS[0]} -eq 0
	@echo "metrics-test: passed (collector with client_golang v0.9.2 under -race; legacy registry scrape with v1.0.0)"
