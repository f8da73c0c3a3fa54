#!/usr/bin/env bash
# Compares two builds of bench_step on one model, alternating them (A B A B ...) so that a busy
# moment of a shared machine does not fall on one side only; prints each run's CPU ms per step.
#
#   bench/ab_step.sh MODEL STEPS ROUNDS BINARY_A BINARY_B [more bench_step flags, e.g. --size 42]
#
# Build A, copy build/bench_step away, build B. Runs at 1 thread, 2 warm-up steps, under
# nice -n 19, with OpenBLAS's own kernel choice (env -u OPENBLAS_CORETYPE, see PERF.md).
set -euo pipefail
if [[ $# -lt 5 ]]; then sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; fi
model="$1" steps="$2" rounds="$3" a="$4" b="$5"
shift 5
for ((round = 1; round <= rounds; round++)); do
  for binary in "$a" "$b"; do
    cpu=$(env -u OPENBLAS_CORETYPE nice -n 19 "$binary" --model "$model" --threads 1 --steps "$steps" --warmup 2 "$@" |
          grep -o '"cpu_ms_per_step": [0-9.]*' | cut -d' ' -f2)
    echo "$model $binary $cpu"
  done
done
