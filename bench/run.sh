#!/usr/bin/env bash
# Runs the benchmark programs and prints the table (see mk/bench.mk).
#   bench/run.sh OUT ROUNDS MEM_REFS [program options...] [--check]
# Programs run one after another, round after round, so that a noisy phase of
# the machine hits every implementation alike; medians are taken over all
# samples of all rounds.
set -euo pipefail
out=$1 rounds=$2 mem=$3
shift 3
check=()
flags=()
for a in "$@"; do
  if [ "$a" = --check ]; then check=(-check); else flags+=("$a"); fi
done
bin=build/bench
[ -d "$out" ] || mkdir -p "$out"
samples=$out/samples.txt
: > "$samples"

programs=("$bin/bench_c" "$bin/glib_c" "$bin/kuberef-go" "$bin/upstream-go" "cargo bench -q --bench floor --")

{
  echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# $(rustc --version); $(go version | cut -d' ' -f3-4); $(${CC:-cc} --version | head -1)"
} > "$out/env.txt"

# Each round starts with the next program, so that no implementation always
# runs right after the same one (or first, after the build).
n=${#programs[@]}
for r in $(seq "$rounds"); do
  for k in $(seq 0 $((n - 1))); do
    p=${programs[$(((r - 1 + k) % n))]}
    [ -n "${check[*]}" ] || echo "bench: round $r/$rounds: ${p%% *}" >&2
    # shellcheck disable=SC2086 # $p is a command with its arguments
    $p "${flags[@]}" >> "$samples"
  done
done
"$bin/mem_c" "$mem" >> "$samples"
"$bin/upstream-go" -mem "$mem" >> "$samples"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/env.txt"

"$bin/table" "${check[@]}" "$samples" > "$out/table.md"
cat "$out/env.txt" "$out/table.md"
