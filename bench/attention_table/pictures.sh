#!/usr/bin/env bash
# What each attention model of the table looks at: evaluate --visualize on its shipped seed-1
# checkpoint (pretrained/MODEL_20epochs_seed1.ckpt), a test image of each class beside the maps its
# attention made of it (train/attention_pictures.h says what each model's columns are), written to
# docs/images/attention/MODEL.png, which make_page.py shows on docs/ATTENTION.md.
#
#   bench/attention_table/pictures.sh
#
# CIFAR_DIR (default data/cifar10): the binary CIFAR-10 the cells were trained on (the pictures take
# its first test image of each class). BUILD (default build): where evaluate is.
set -euo pipefail
cd "$(dirname "$0")/../.."
cifar=${CIFAR_DIR:-data/cifar10}
build=${BUILD:-build}
pictures=docs/images/attention
mkdir -p "$pictures"
for checkpoint in pretrained/*_20epochs_seed1.ckpt; do
  model=$(basename "$checkpoint" _20epochs_seed1.ckpt)
  if [[ $model == resnet20 ]]; then continue; fi  # no attention to draw
  "$build/evaluate" --checkpoint "$checkpoint" --data "$cifar" --visualize "$pictures/$model.png" | grep '^wrote'
done
