#!/usr/bin/env bash
# The kuberef kubelet fork kit (docs/kubelet-fork.md).
#
#   fork.sh apply  K8S   swap kuberef into the Kubernetes v1.18 source tree K8S
#                        (idempotent), then build cmd/kubelet with kuberef linked
#                        statically, run its --version and check that its ldd
#                        lists no libkuberef
#   fork.sh remove K8S   undo apply: upstream's files and go.mod come back
#
# Environment:
#   PKG_CONFIG_PATH   where kuberef.pc is (default: this repository's
#                     build/lib/pkgconfig, which `make lib` writes)
#   KUBEREF_GO        the binding's directory, for the fork's replace line
#                     (default: this repository's go/)
#   KUBE_GIT_VERSION  the version the kubelet reports, e.g. v1.18.6+kuberef
#                     (default: none is stamped, and the kubelet reports
#                     component-base's placeholder, v0.0.0-master+$Format:%h$,
#                     as any go build of cmd/kubelet outside Kubernetes' own
#                     build scripts does)
#   KUBELET_OUT       the kubelet binary (default: K8S/_output/kuberef/kubelet)
#   KUBEREF_BUILD     0: apply the swap without building the kubelet
set -euo pipefail

KIT=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$KIT")
# The files the kit installs in pkg/kubelet/container.
KIT_FILES=(kuberef.go kuberef_fieldpath_test.go)
# The files apply changes or deletes, which remove puts back.
UPSTREAM_FILES=(pkg/kubelet/container/runtime.go pkg/kubelet/container/ref.go
  pkg/kubelet/container/container_reference_manager.go go.mod go.sum)
BINDING=github.com/kuberef/kuberef/go
GO_MIN=1.24 # the binding's go directive: it declares its C helpers #cgo noescape/nocallback

say() { echo "kubelet-fork: $*"; }
die() { echo "kubelet-fork: $*" >&2; exit 1; }

kit() { (cd "$KIT/kit" && go run . "$@"); }

sum() { sha256sum "$1" | cut -d' ' -f1; }

# recognise K8S: a Kubernetes v1.18 module tree, or one the kit was applied to.
recognise() {
  [ -f "$K8S/go.mod" ] && grep -q '^module k8s.io/kubernetes$' "$K8S/go.mod" ||
    die "$K8S is not a Kubernetes source tree (no go.mod of module k8s.io/kubernetes); nothing changed"
  [ -f "$K8S/CHANGELOG/CHANGELOG-1.18.md" ] && [ ! -e "$K8S/CHANGELOG/CHANGELOG-1.19.md" ] ||
    die "$K8S is not a Kubernetes v1.18 tree (the kit is for v1.18.x: CHANGELOG/CHANGELOG-1.18.md is the newest changelog there); nothing changed"
}

# The checksum applied records for FILE (a path under K8S), or nothing.
recorded() { grep " $1\$" "$K8S/.kuberef-kit/applied" 2>/dev/null | cut -d' ' -f1; }

# undo_failed_apply: the EXIT trap of a first apply, until it has recorded
# itself: a failure (go mod tidy without the network, a bad KUBEREF_GO)
# puts upstream's files back and forgets the kit, so that the tree is as it
# was and apply can simply run again.
undo_failed_apply() {
  local rc=$? f
  [ "$rc" -ne 0 ] || return 0
  for f in "${UPSTREAM_FILES[@]}"; do
    [ ! -e "$K8S/.kuberef-kit/orig/$f" ] || cp -p "$K8S/.kuberef-kit/orig/$f" "$K8S/$f"
  done
  for f in "${KIT_FILES[@]}"; do
    rm -f "$K8S/pkg/kubelet/container/$f"
  done
  rm -rf "$K8S/.kuberef-kit"
  if [ -n "${VENDORED:-}" ]; then
    vendor || echo "kubelet-fork: vendor/ could not be regenerated: run go mod vendor" >&2
  fi
  echo "kubelet-fork: apply failed: upstream's files are back and the kit is not applied" >&2
  exit "$rc"
}

apply() {
  local state=$K8S/.kuberef-kit c=$K8S/pkg/kubelet/container f
  # Files changed since the kit recorded them keep their old checksums, so
  # that remove still sees the change and keeps it (see remove).
  declare -A keep=()
  if [ -f "$state/applied" ]; then
    say "the kit is already applied to $K8S: updating its files"
    for f in ref.go container_reference_manager.go; do
      [ ! -e "$c/$f" ] || die "$c/$f is back since the kit was applied (an upstream merge?): run fork.sh remove, then apply again"
    done
    for f in pkg/kubelet/container/runtime.go go.mod go.sum; do
      [ "$(sum "$K8S/$f")" = "$(recorded "$f")" ] || keep[$f]=$(recorded "$f")
    done
  else
    [ ! -e "$c/kuberef.go" ] ||
      die "$c has the kit's kuberef.go but $K8S/.kuberef-kit/ is missing (commit it with the kit); nothing changed"
    kit check "$c" || die "$c is not the v1.18 package the kit replaces parts of (see above); nothing changed"
    trap undo_failed_apply EXIT
    mkdir -p "$state/orig"
    for f in "${UPSTREAM_FILES[@]}"; do
      mkdir -p "$state/orig/$(dirname "$f")"
      cp -p "$K8S/$f" "$state/orig/$f"
    done
    grep -m1 '^go ' "$K8S/go.mod" | cut -d' ' -f2 > "$state/go-directive"
    kit strip "$c/runtime.go"
    rm "$c/ref.go" "$c/container_reference_manager.go"
    say "deleted upstream's ref.go and container_reference_manager.go, and ContainerID's definitions in runtime.go"
  fi
  for f in "${KIT_FILES[@]}"; do
    cp "$KIT/container/$f" "$c/$f"
  done
  say "installed ${KIT_FILES[*]} in pkg/kubelet/container"

  local go_now
  go_now=$(grep -m1 '^go ' "$K8S/go.mod" | cut -d' ' -f2)
  local edit=(-require="$BINDING@v0.0.0" -replace="$BINDING=$KUBEREF_GO")
  if [ "$(printf '%s\n%s\n' "$go_now" "$GO_MIN" | sort -V | head -1)" != "$GO_MIN" ]; then
    edit+=(-go="$GO_MIN")
    say "go.mod: go $go_now -> go $GO_MIN (the binding needs Go $GO_MIN)"
  fi
  (cd "$K8S" && go mod edit "${edit[@]}" && GOFLAGS=-mod=mod go mod tidy)
  say "go.mod: requires $BINDING, replaced by $KUBEREF_GO"
  if [ -f "$K8S/vendor/modules.txt" ]; then
    vendor
  fi
  { echo "kit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    for f in pkg/kubelet/container/runtime.go go.mod go.sum; do echo "${keep[$f]:-$(sum "$K8S/$f")} $f"; done
  } > "$state/applied.tmp"
  mv "$state/applied.tmp" "$state/applied"
  trap - EXIT
}

# vendor: the tree builds from vendor/ (go >= 1.14 with vendor/modules.txt),
# so vendor/ must hold the binding too. The staging modules are vendored as
# symbolic links into staging/, as hack/update-vendor.sh leaves them.
vendor() {
  VENDORED=yes
  (cd "$K8S" && go mod vendor)
  local m up
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/\1$#\1#p' "$K8S/go.mod"); do
    [ -d "$K8S/staging/src/$m" ] || continue
    # From vendor/M's directory up to the tree: one .. per path element of
    # M (vendor/k8s.io/api -> ../../staging/src/k8s.io/api).
    up=$(echo "$m" | sed 's#[^/]*#..#g')
    rm -rf "$K8S/vendor/$m"
    ln -s "$up/staging/src/$m" "$K8S/vendor/$m"
    [ -d "$K8S/vendor/$m/" ] || die "vendor/$m -> $up/staging/src/$m does not resolve"
  done
  say "vendor/ regenerated (go mod vendor), staging modules linked into staging/"
}

build() {
  local out=${KUBELET_OUT:-$K8S/_output/kuberef/kubelet} ldflags=""
  if [ -n "${KUBE_GIT_VERSION:-}" ]; then
    ldflags="-X k8s.io/component-base/version.gitVersion=$KUBE_GIT_VERSION"
  fi
  mkdir -p "$(dirname "$out")"
  say "building cmd/kubelet with kuberef linked statically (-tags kuberef_static)"
  (cd "$K8S" && CGO_ENABLED=1 go build -tags kuberef_static -ldflags "$ldflags" -o "$out" ./cmd/kubelet)
  say "$out --version:"
  "$out" --version
  say "ldd $out:"
  ldd "$out"
  local libs
  libs=$(ldd "$out" 2>&1) || true
  if grep -q libkuberef <<< "$libs"; then
    die "$out links libkuberef dynamically"
  fi
  go tool nm "$out" | grep ' T kuberef_generate_container_ref_borrowed$' > /dev/null ||
    die "$out does not contain libkuberef's kuberef_generate_container_ref_borrowed"
  say "ok: $out runs, contains libkuberef (kuberef_generate_container_ref_borrowed) and its ldd lists no libkuberef"
}

remove() {
  local state=$K8S/.kuberef-kit c=$K8S/pkg/kubelet/container f want path
  [ -f "$state/applied" ] || die "the kit is not applied to $K8S (no .kuberef-kit/applied); nothing changed"
  # runtime.go must be as apply left it, or restoring it would lose changes.
  want=$(grep ' pkg/kubelet/container/runtime.go$' "$state/applied" | cut -d' ' -f1)
  [ "$(sum "$c/runtime.go")" = "$want" ] ||
    die "$c/runtime.go changed since the kit was applied; restore upstream's definitions by hand (upstream's copy is in $state/orig) and delete $state; nothing changed"
  for f in ref.go container_reference_manager.go runtime.go; do
    cp -p "$state/orig/pkg/kubelet/container/$f" "$c/$f"
  done
  for f in "${KIT_FILES[@]}"; do
    rm -f "$c/$f"
  done
  for f in go.mod go.sum; do
    want=$(grep " $f\$" "$state/applied" | cut -d' ' -f1)
    if [ "$(sum "$K8S/$f")" = "$want" ]; then
      cp -p "$state/orig/$f" "$K8S/$f"
    elif [ "$f" = go.mod ]; then
      (cd "$K8S" && go mod edit -droprequire="$BINDING" -dropreplace="$BINDING" -go="$(cat "$state/go-directive")")
      say "go.mod changed since the kit was applied: dropped the binding's require and replace and restored the go directive; run go mod tidy"
    else
      say "go.sum changed since the kit was applied: left as it is"
    fi
  done
  if [ -f "$K8S/vendor/modules.txt" ] && [ -d "$K8S/vendor/$BINDING" ]; then
    vendor
  fi
  rm -rf "$state"
  say "removed the kit from $K8S: upstream's definitions are back"
}

[ $# -eq 2 ] || die "usage: fork.sh apply|remove K8S"
K8S=$(cd "$2" 2>/dev/null && pwd) || die "$2: no such directory"
KUBEREF_GO=${KUBEREF_GO:-$REPO/go}
export PKG_CONFIG_PATH=${PKG_CONFIG_PATH:-$REPO/build/lib/pkgconfig}
command -v go >/dev/null || die "go is not installed (the binding needs Go $GO_MIN or newer)"
go_have=$(go env GOVERSION | sed 's/^go//')
[ "$(printf '%s\n%s\n' "$go_have" "$GO_MIN" | sort -V | head -1)" = "$GO_MIN" ] ||
  die "Go $go_have is too old: the binding needs Go $GO_MIN or newer (#cgo noescape/nocallback)"
recognise
case $1 in
  apply)
    apply
    if [ "${KUBEREF_BUILD:-1}" != 0 ]; then build; fi
    ;;
  remove) remove ;;
  *) die "usage: fork.sh apply|remove K8S" ;;
esac
