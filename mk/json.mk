# Event JSON: kuberef_ref_to_json against Go's json.Marshal, through cgo
# (tests/json-diff, standard library only).
#
#   make json-diff                         200,000 random references and every short string (in make test)
#   make json-diff JSON_DIFF_CASES=5000000 a longer run

JSON_DIFF_CASES ?= 200000

TESTS += json-diff
.PHONY: json-diff

json-diff: lib
	cd tests/json-diff && CGO_ENABLED=1 go test -count=1 -cases=$(JSON_DIFF_CASES) .
