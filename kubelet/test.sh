#!/usr/bin/env bash
# The kit against upstream's own tests (make kubelet-fork-test, part of make
# test). Everything it keeps lives in build/kubelet-fork/:
#
#   k8s-prepared/  k8s.io/kubernetes v1.18.6 from the Go module proxy, made a
#                  buildable module tree: its staging modules (not in the
#                  module zip) replaced by their published v0.18.6, vbom.ml/util
#                  by its current home, and vendor/ (emptied by the zip format)
#                  removed; nothing else is changed
#   baseline/      a copy of it, where upstream's tests run unmodified
#   swap/          a copy of it with the kit applied by fork.sh
#   results/       the tests' go test -json events, the comparison and timings
#
# Steps: the kit's own tests (against the real v1.18.6 package, the
# EphemeralContainers gate set through Kubernetes' feature gate); fork.sh
# apply on swap/ (it builds cmd/kubelet statically and checks --version and
# ldd), again to show it changes nothing, and on trees it must refuse; go
# build ./cmd/kubelet/... in swap/; upstream's tests of pkg/kubelet/container,
# prober and kuberuntime in both trees (kuberuntime one process per test,
# container and prober also under -race); the comparison, which fails on a
# test that passes in the baseline and fails or does not run in the swap; and
# fork.sh remove, after which swap/ must equal k8s-prepared/ again.
#
# The baseline's results are kept and reused while the Go version, this
# script and k8s-prepared/ are unchanged.
set -euo pipefail

KIT=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$KIT")
W=$REPO/build/kubelet-fork
R=$W/results
K8S_MODULE=k8s.io/kubernetes@v1.18.6
STAGING_VERSION=v0.18.6
export PKG_CONFIG_PATH=$REPO/build/lib/pkgconfig
# Upstream ran its tests with Go 1.13/1.14; go test's vet checks of newer Go
# (e.g. stringintconv) reject some of them before they run.
GO_TEST=(go test -vet=off -count=1)
TAGS=(-tags kuberef_static)
PKGS=(./pkg/kubelet/container/... ./pkg/kubelet/prober/... ./pkg/kubelet/kuberuntime/...)
RACE_PKGS=(./pkg/kubelet/container/... ./pkg/kubelet/prober/...)
# kuberuntime registers its metrics once per process: one process per test.
PER_TEST_PKG=k8s.io/kubernetes/pkg/kubelet/kuberuntime

T0=$(date +%s)
phase_start=$T0
phase() {
  local now
  now=$(date +%s)
  printf 'kubelet-fork-test: %-48s %4ds (total %ds)\n' "$1" $((now - phase_start)) $((now - T0)) | tee -a "$R/timings.txt"
  phase_start=$now
}
die() { echo "kubelet-fork-test: $*" >&2; exit 1; }

mkdir -p "$R"
: > "$R/timings.txt"

# --- the kit's own code --------------------------------------------------------
# gofmt and the kit tool's vet and tests stop the run; a failure of the
# swapped package's tests is reported at the end, after the comparison.
kit_failed=
bad=$(gofmt -l "$KIT")
[ -z "$bad" ] || die "gofmt needed: $bad"
(cd "$KIT/kit" && go vet ./... && go test -count=1 ./...)
# Linked dynamically, found at run time through an rpath to kuberef.pc's libdir.
(cd "$KIT" && export CGO_LDFLAGS="-Wl,-rpath,$(pkg-config --variable=libdir kuberef)" &&
  go vet -race ./... && go test -count=1 -race ./...) || kit_failed=yes
phase "the kit's vet and tests (-race)"

# --- the tree ------------------------------------------------------------------
src=$(go mod download -json "$K8S_MODULE" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
[ -d "$src/pkg/kubelet/container" ] || die "go mod download $K8S_MODULE gave no tree ($src)"
stamp="$K8S_MODULE $STAGING_VERSION $(sha256sum "$0" | cut -c1-16)"
if [ "$(cat "$W/k8s-prepared/.prepared" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$W/k8s-prepared" "$W/k8s-prepared.tmp" "$W/baseline" "$W/swap"
  cp -r "$src" "$W/k8s-prepared.tmp"
  chmod -R u+w "$W/k8s-prepared.tmp"
  (cd "$W/k8s-prepared.tmp" &&
    sed -i -E "s#=> \./staging/src/(k8s\.io/[a-z-]+)\$#=> \1 $STAGING_VERSION#" go.mod &&
    sed -i -E 's#^(\s*vbom\.ml/util) => vbom\.ml/util (v[^ ]+)$#\1 => github.com/fvbommel/util \2#' go.mod &&
    ! grep -q '=> \./staging' go.mod &&
    rm -rf vendor &&
    GOFLAGS=-mod=mod go list -test -deps "${PKGS[@]}" ./cmd/kubelet/... > /dev/null)
  echo "$stamp" > "$W/k8s-prepared.tmp/.prepared"
  mv "$W/k8s-prepared.tmp" "$W/k8s-prepared"
fi
[ -d "$W/baseline" ] || cp -r "$W/k8s-prepared" "$W/baseline"
[ -d "$W/swap" ] || cp -r "$W/k8s-prepared" "$W/swap"
phase "fetch and prepare $K8S_MODULE"

# --- fork.sh ---------------------------------------------------------------------
KUBE_GIT_VERSION="v1.18.6+kuberef.$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -1)" \
  "$KIT/fork.sh" apply "$W/swap" 2>&1 | tee "$R/apply.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || die "fork.sh apply failed"
phase "fork.sh apply (swap, static kubelet build)"

snapshot() { (cd "$1" && find . -path ./_output -prune -o -type f -print0 | sort -z | xargs -0 sha256sum); }
snapshot "$W/swap" > "$R/swap-before.sha"
KUBEREF_BUILD=0 "$KIT/fork.sh" apply "$W/swap" > "$R/apply-again.txt" 2>&1 || die "fork.sh apply on an applied tree failed"
snapshot "$W/swap" > "$R/swap-after.sha"
cmp -s "$R/swap-before.sha" "$R/swap-after.sha" || die "a second fork.sh apply changed the tree: $(diff "$R/swap-before.sha" "$R/swap-after.sha" | head)"

# Trees it must refuse, unchanged: not Kubernetes, not v1.18, a v1.18
# pkg/kubelet/container whose ref.go declares something the kit would lose,
# and one with the kit's file but not the record of its application.
refuse() { # refuse NAME EXPECTED-MESSAGE
  local t=$W/refuse/$1 before out
  before=$(snapshot "$t")
  if out=$(KUBEREF_BUILD=0 "$KIT/fork.sh" apply "$t" 2>&1); then die "fork.sh applied the kit to $1"; fi
  grep -q "$2" <<< "$out" || die "fork.sh refused $1 without saying \"$2\": $out"
  [ "$(snapshot "$t")" = "$before" ] || die "fork.sh changed $1 while refusing it"
  echo "refused $1: $(grep -m1 "$2" <<< "$out")"
}
rm -rf "$W/refuse"
mkdir -p "$W/refuse/other-module" "$W/refuse/v1.19" "$W/refuse/changed-ref/pkg/kubelet" "$W/refuse/changed-ref/CHANGELOG"
printf 'module example.com/other\n\ngo 1.24\n' > "$W/refuse/other-module/go.mod"
cp "$W/k8s-prepared/go.mod" "$W/refuse/v1.19/" && mkdir -p "$W/refuse/v1.19/CHANGELOG" &&
  touch "$W/refuse/v1.19/CHANGELOG/CHANGELOG-1.18.md" "$W/refuse/v1.19/CHANGELOG/CHANGELOG-1.19.md"
cp "$W/k8s-prepared/go.mod" "$W/k8s-prepared/go.sum" "$W/refuse/changed-ref/"
cp "$W/k8s-prepared/CHANGELOG/CHANGELOG-1.18.md" "$W/refuse/changed-ref/CHANGELOG/"
cp -r "$W/k8s-prepared/pkg/kubelet/container" "$W/refuse/changed-ref/pkg/kubelet/"
printf '\nfunc ExtraHelper() {}\n' >> "$W/refuse/changed-ref/pkg/kubelet/container/ref.go"
cp -r "$W/refuse/changed-ref" "$W/refuse/no-record"
rm "$W/refuse/no-record/pkg/kubelet/container/"{ref.go,container_reference_manager.go}
cp "$KIT/container/kuberef.go" "$W/refuse/no-record/pkg/kubelet/container/"
# A v1.18 package whose apply fails half-way (go mod tidy cannot find the
# binding): the tree must be as it was, with no record of the kit.
mkdir -p "$W/refuse/failed-apply/pkg/kubelet" "$W/refuse/failed-apply/CHANGELOG"
cp "$W/k8s-prepared/go.mod" "$W/k8s-prepared/go.sum" "$W/refuse/failed-apply/"
cp "$W/k8s-prepared/CHANGELOG/CHANGELOG-1.18.md" "$W/refuse/failed-apply/CHANGELOG/"
cp -r "$W/k8s-prepared/pkg/kubelet/container" "$W/refuse/failed-apply/pkg/kubelet/"
{ refuse other-module "not a Kubernetes source tree"
  refuse v1.19 "not a Kubernetes v1.18 tree"
  refuse changed-ref "ref.go also declares ExtraHelper"
  refuse no-record "kuberef-kit/ is missing"
  KUBEREF_GO=$W/refuse/no-such-binding refuse failed-apply "apply failed: upstream's files are back"
} | tee "$R/refuse.txt"
phase "fork.sh apply again (no change) and on 5 trees it refuses"

(cd "$W/swap" && go build "${TAGS[@]}" ./cmd/kubelet/...)
phase "go build ./cmd/kubelet/... (swap)"

# --- upstream's tests ------------------------------------------------------------
# run_tests TREE OUT: every suite's go test -json events into OUT/*.json.
# Failures are results here, not errors: the comparison judges them.
run_tests() {
  local tree=$1 out=$2 pkgs t
  rm -rf "$out" && mkdir -p "$out"
  pkgs=$(cd "$tree" && go list "${PKGS[@]}" | grep -vx "$PER_TEST_PKG")
  (cd "$tree" && "${GO_TEST[@]}" "${TAGS[@]}" -json $pkgs > "$out/tests.json" 2>&1) || true
  (cd "$tree" && "${GO_TEST[@]}" "${TAGS[@]}" -race -json "${RACE_PKGS[@]}" > "$out/race.json" 2>&1) || true
  : > "$out/per-test.json"
  if (cd "$tree" && go test -vet=off "${TAGS[@]}" -c -o "$out/kuberuntime.test" "./${PER_TEST_PKG#k8s.io/kubernetes/}" 2>&1 |
      tee "$out/per-test-build.txt"); [ -x "$out/kuberuntime.test" ]; then
    for t in $("$out/kuberuntime.test" -test.list '.*'); do
      (cd "$tree/${PER_TEST_PKG#k8s.io/kubernetes/}" &&
        go tool test2json -p "$PER_TEST_PKG" "$out/kuberuntime.test" -test.v=test2json -test.run "^$t\$" >> "$out/per-test.json" 2>&1) || true
    done
  fi
  rm -f "$out/kuberuntime.test"
}

base_key="$(go version) $(sha256sum "$0" | cut -c1-16) $stamp"
if [ "$(cat "$R/baseline.key" 2>/dev/null)" = "$base_key" ] && [ -s "$R/baseline/tests.json" ]; then
  echo "kubelet-fork-test: baseline results of $(cat "$R/baseline.key") reused"
else
  rm -f "$R/baseline.key" # results of an interrupted run are never reused
  run_tests "$W/baseline" "$R/baseline"
  echo "$base_key" > "$R/baseline.key"
fi
phase "upstream's tests, baseline"
run_tests "$W/swap" "$R/swap"
phase "upstream's tests, swap"

set +e
(cd "$KIT/kit" && go run . compare "$R") | tee "$R/compare.txt"
compare_rc=${PIPESTATUS[0]}
set -e
phase "comparison"
[ "$compare_rc" -eq 0 ] || die "the kit fails upstream tests that pass without it (see $R/compare.txt)"
[ -z "$kit_failed" ] || die "the kit's own tests failed (above)"

# --- remove ----------------------------------------------------------------------
# An edit of runtime.go made after the kit was applied survives another apply:
# remove still refuses to overwrite it.
c=$W/swap/pkg/kubelet/container
cp -p "$c/runtime.go" "$R/runtime.go.applied"
printf '\nfunc ForkHelper() {}\n' >> "$c/runtime.go"
KUBEREF_BUILD=0 "$KIT/fork.sh" apply "$W/swap" > "$R/apply-after-edit.txt" 2>&1 || die "fork.sh apply after an edit failed"
if out=$("$KIT/fork.sh" remove "$W/swap" 2>&1); then die "fork.sh remove overwrote an edit made after apply"; fi
grep -q "runtime.go changed since the kit was applied" <<< "$out" || die "fork.sh remove refused an edited runtime.go without saying why: $out"
cp -p "$R/runtime.go.applied" "$c/runtime.go"
"$KIT/fork.sh" remove "$W/swap" | tee "$R/remove.txt"
diff -r -q -x _output -x .prepared "$W/k8s-prepared" "$W/swap" > "$R/remove-diff.txt" ||
  die "after fork.sh remove, swap/ differs from the prepared tree: $(head "$R/remove-diff.txt")"
phase "fork.sh remove (swap equals the prepared tree again)"
echo "kubelet-fork-test: passed ($(grep -c . "$R/refuse.txt") refusals, $(tail -1 "$R/compare.txt"))"
