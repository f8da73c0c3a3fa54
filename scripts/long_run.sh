#!/usr/bin/env bash
# Runs a trainer in the background, with its output, metrics and checkpoint beside each other,
# and resumes from the checkpoint when one is there, so a run that a stop interrupts continues
# where it was the next time the same command is given.
#
#   scripts/long_run.sh NAME TRAINER [TRAINER FLAGS...]
#   scripts/long_run.sh resnet20 train_cifar --model resnet20 --data data/cifar10 --epochs 50
#
# writes  $RUNS_DIR/NAME.log (everything the trainer prints), NAME.csv (metrics per epoch),
#         NAME.ckpt (after every epoch, atomically), NAME.svg (the plot, at the end)
# RUNS_DIR defaults to runs/ in the repository. `tail -f runs/NAME.log` follows the run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 2 ]]; then
  echo "usage: scripts/long_run.sh NAME TRAINER [TRAINER FLAGS...]" >&2
  exit 2
fi
name=$1 trainer=$2
shift 2
runs=${RUNS_DIR:-runs}
mkdir -p "$runs"
[[ -x build/$trainer ]] || { echo "build/$trainer is not built: run cmake --build build --target $trainer" >&2; exit 2; }

resume=()
if [[ -f "$runs/$name.ckpt" ]]; then resume=(--resume "$runs/$name.ckpt"); fi
echo "== $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown): $trainer $* ${resume[*]}" >> "$runs/$name.log"
nohup "build/$trainer" "$@" "${resume[@]}" --save "$runs/$name.ckpt" --log "$runs/$name.csv" \
  --plot "$runs/$name.svg" >> "$runs/$name.log" 2>&1 &
echo "started $trainer as pid $! (log: $runs/$name.log)"
