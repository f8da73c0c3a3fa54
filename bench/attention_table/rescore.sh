#!/usr/bin/env bash
# The seed-1 cells whose logs were lost with the machine they ran on: each one's accuracy is the
# score of its shipped checkpoint (pretrained/MODEL_20epochs_seed1.ckpt, the cell's weights after
# its 20th epoch), written to bench/attention_table/cells/MODEL_s1.rescored for make_page.py.
#
#   bench/attention_table/rescore.sh
#
# CIFAR_DIR (default data/cifar10): the binary CIFAR-10 the cells were trained on. BUILD (default
# build): where evaluate is. A cell with a log in cells/ is left alone: its log wins.
set -euo pipefail
cd "$(dirname "$0")/../.."
cifar=${CIFAR_DIR:-data/cifar10}
build=${BUILD:-build}
results=bench/attention_table/cells
trained_at=67a7eaf  # the training code of every seed-1 cell (the page of that commit says so)
mkdir -p "$results"
for checkpoint in pretrained/*_20epochs_seed1.ckpt; do
  model=$(basename "$checkpoint" _20epochs_seed1.ckpt)
  if [[ -f $results/${model}_s1.csv ]]; then continue; fi
  {
    echo "== commit $trained_at: trained; re-scored with the code of $(git rev-parse --short HEAD):" \
         "$build/evaluate --checkpoint $checkpoint --data DIR"
    "$build/evaluate" --checkpoint "$checkpoint" --data "$cifar" --threads 1
  } > "$results/${model}_s1.rescored"
  echo "$model: $(tail -n 1 "$results/${model}_s1.rescored")"
done
