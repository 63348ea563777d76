#!/usr/bin/env bash
# Compares builds of the library on one operation: runs build/bench/loop_c
# (bench/c/loop.c) against each library directory in turn, RUNS times
# (default 6), interleaved, and prints the minimum and the median ns/op of
# each. The directories hold libkuberef.so.1 (build/lib of a checkout or a
# worktree: git worktree add /tmp/before <commit> && make -C /tmp/before lib).
#   bench/ab.sh [--runs RUNS] [--live LIVE] OP N STORED THREADS DIR...
# OP, N, STORED, THREADS, LIVE (default 0): as for loop_c.
set -euo pipefail
runs=6
live=0
while [ $# -ge 2 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --live) live=$2; shift 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 5 ]; then
  echo "usage: bench/ab.sh [--runs RUNS] [--live LIVE] get|setclear N STORED THREADS DIR..." >&2
  exit 2
fi
op=$1 n=$2 stored=$3 threads=$4
shift 4
loop=build/bench/loop_c
[ -x "$loop" ] || { echo "bench/ab.sh: $loop is missing (make bench-build)" >&2; exit 2; }
declare -A samples
for _ in $(seq "$runs"); do
  for dir in "$@"; do
    [ -e "$dir/libkuberef.so.1" ] || { echo "bench/ab.sh: no libkuberef.so.1 in $dir" >&2; exit 2; }
    ns=$(LD_LIBRARY_PATH=$dir "$loop" "$op" "$n" "$stored" "$threads" "$live")
    awk -v v="$ns" 'BEGIN { exit !(v ~ /^[0-9]+(\.[0-9]+)?$/ && v > 0) }' ||
      { echo "bench/ab.sh: $loop printed \"$ns\", not a time" >&2; exit 1; }
    samples[$dir]="${samples[$dir]:-} $ns"
  done
done
for dir in "$@"; do
  # shellcheck disable=SC2086 # one sample per word
  printf '%s\n' ${samples[$dir]} | sort -g | awk -v d="$dir" -v op="$op" \
    '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%s %s: min %.2f median %.2f ns/op (%d runs)\n", d, op, v[1], m, NR}'
done
