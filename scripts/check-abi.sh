#!/usr/bin/env bash
# The ABI check: the functions the header documents as ABI 1 (the list at
# KUBEREF_ABI_VERSION), the functions it declares, and the symbols the shared
# library exports must be the same set, and nothing but kuberef_* may be
# exported.
#   scripts/check-abi.sh include/kuberef.h build/lib/libkuberef.so
set -euo pipefail
header=$1 lib=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '{print $3}' | sort > "$tmp/exported"
# The comment block just before "#define KUBEREF_ABI_VERSION", from the line
# that introduces the list to the first empty comment line after it.
awk '/^\/\*\*/ { block = "" } { block = block "\n" $0 }
     /^#define KUBEREF_ABI_VERSION / { print block; exit }' "$header" |
  awk '/Its$|functions, by the library version/ { on = 1 } on && /^ \*$/ { exit } on' |
  grep -o 'kuberef_[a-z0-9_]*' | sort -u > "$tmp/documented"
grep -E '^[a-z].*[ *]kuberef_[a-z0-9_]+\(' "$header" | grep -oE 'kuberef_[a-z0-9_]+\(' | tr -d '(' |
  sort -u > "$tmp/declared"

fail=0
if grep -v '^kuberef_' "$tmp/exported"; then echo "check-abi: exports beyond kuberef_*"; fail=1; fi
for pair in "documented declared" "declared exported"; do
  set -- $pair
  if ! diff -u "$tmp/$1" "$tmp/$2" > "$tmp/diff"; then
    echo "check-abi: the $1 and $2 functions differ:"; cat "$tmp/diff"; fail=1
  fi
done
[ -s "$tmp/documented" ] || { echo "check-abi: no documented function list at KUBEREF_ABI_VERSION"; fail=1; }
echo "check-abi: $(wc -l < "$tmp/documented") documented, $(wc -l < "$tmp/declared") declared, $(wc -l < "$tmp/exported") exported"
exit $fail
