#!/usr/bin/env bash
# The cost columns of docs/ATTENTION.md: parameters, training-step and inference time at 2 threads,
# and peak memory, of every model of the table, from build/bench_step, one model after another.
#
#   bench/attention_table/costs.sh > bench/attention_table/cells/costs.jsonl
#
# Run it on an otherwise quiet machine (no training beside it): the times are wall-clock medians.
# Each line is bench_step's JSON with the CPU's name and the commit added.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
cpu=$(grep -m1 "model name" /proc/cpuinfo | sed 's/.*: //')
commit=$(git rev-parse --short HEAD)
for model in resnet20 se_resnet20 cbam_resnet20 eca_resnet20 gc_resnet20 nl_resnet20 da_resnet20 cc_resnet20 \
             aa_resnet20 attention56; do
  "$build/bench_step" --model "$model" --threads 2 --steps 20 --warmup 3 | sed "s/}\$/, \"cpu\": \"$cpu\", \"commit\": \"$commit\"}/"
done
