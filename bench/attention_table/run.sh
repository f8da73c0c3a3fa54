#!/usr/bin/env bash
# The runs behind docs/ATTENTION.md: every attention model of the zoo against resnet20 on CIFAR-10,
# one recipe (train_cifar's default, 20 epochs), seeds 1, 2 and 3 (attention56: 1 and 2).
#
#   bench/attention_table/run.sh --list          the cells, in the order they run
#   bench/attention_table/run.sh [CELL...]       run these (default: every cell not done yet)
#   nohup bench/attention_table/run.sh > $RUNS_DIR/attention_table/queue.log 2>&1 &
#
# Start it once per core to run cells side by side: a cell being trained is locked (NAME.lock,
# flock), and another copy of the script passes over it to the next.
# Each cell (MODEL_sSEED) writes RUNS/NAME.log (what the trainer printed), NAME.csv (a row per
# epoch), NAME.ckpt (every 100 steps and every epoch, atomically); an interrupted cell resumes from
# NAME.ckpt, bitwise as if it had not stopped. A finished cell's CSV and log are copied into
# bench/attention_table/cells/, which the repository keeps: the page is made from there, and a
# cell found there (its CSV, or NAME.rescored: a lost log's figure re-scored from its shipped
# checkpoint by rescore.sh) is not run again, on this machine or on a new one.
# The seeds run in rounds (every model's seed 1, then seed 2, ...), so a table cut short still
# compares every model. Every cell must train with the same training code: build/ from one commit
# (BUILD), recorded in each log. A cell is not resumed by a build whose sources differ from its
# starting commit's in the training code (the folders of `training_code` below; other changes do
# not count): it is passed over with a message, and the script ends with status 2, unless
# SAME_TRAINING_CODE=1 says the two train alike. Then bench/attention_table/make_page.py writes the page.
#
# RUNS_DIR (default runs/): the cells go to RUNS_DIR/attention_table/. CIFAR_DIR (default
# data/cifar10): CIFAR-10 in the binary format (convert_cifar10 makes it from the image folder).
# BUILD (default build): where train_cifar is. THREADS (default 1): each run's --threads.
set -euo pipefail
# RUNS_DIR, CIFAR_DIR, BUILD: relative to where the script is started, not to the repository's root it moves to
for var in RUNS_DIR CIFAR_DIR BUILD; do if [[ -n ${!var:-} ]]; then printf -v "$var" '%s' "$(realpath -m -- "${!var}")"; fi; done
cd "$(dirname "$0")/../.."

runs=${RUNS_DIR:-runs}/attention_table
results=bench/attention_table/cells
cifar=${CIFAR_DIR:-data/cifar10}
build=${BUILD:-build}
threads=${THREADS:-1}
models=(resnet20 se_resnet20 cbam_resnet20 eca_resnet20 gc_resnet20 nl_resnet20 da_resnet20 cc_resnet20 aa_resnet20)

# What decides the numbers train_cifar computes
training_code=(CMakeLists.txt engine layers models optim io train distributed examples/train_cifar.cpp)

same_training_code() {  # COMMIT: whether the sources BUILD was made from hold COMMIT's training code
  local top
  [[ -n $1 ]] && top=$(git -C "$build/.." rev-parse --show-toplevel 2>/dev/null) &&
    git -C "$top" diff --quiet "$1" -- "${training_code[@]}" 2>/dev/null
}

cells() {  # "NAME MODEL SEED", in the order they run
  for seed in 1 2 3; do
    for model in "${models[@]}"; do echo "${model}_s$seed $model $seed"; done
  done
  for seed in 1 2; do echo "attention56_s$seed attention56 $seed"; done
}

if [[ ${1:-} == --list ]]; then
  cells | while read -r name model seed; do
    echo "$name: $build/train_cifar --model $model --data $cifar --epochs 20 --seed $seed --threads $threads"
  done
  exit 0
fi

wanted=("$@")
for name in "${wanted[@]}"; do
  cells | cut -d' ' -f1 | grep -qx -- "$name" || { echo "run.sh: no cell named '$name' (see --list)" >&2; exit 2; }
done
[[ -x $build/train_cifar ]] || { echo "run.sh: $build/train_cifar is not built" >&2; exit 2; }
mkdir -p "$runs" "$results"
refused=""
while read -r name model seed; do
  if [[ ${#wanted[@]} -gt 0 && ! " ${wanted[*]} " =~ " $name " ]]; then continue; fi
  if [[ -f $results/$name.csv || -f $results/$name.rescored ]]; then continue; fi  # done, or re-scored
  exec {lock}>"$runs/$name.lock"
  if ! flock --nonblock "$lock" || [[ -f $results/$name.csv ]]; then  # another copy trains it, or just did
    exec {lock}>&-
    continue
  fi
  resume=()
  if [[ -f $runs/$name.ckpt ]]; then resume=(--resume "$runs/$name.ckpt"); fi
  commit=$(git -C "$build/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
  # the commit the cell started from: its log's last start without --resume
  started=$(grep '^== ' "$runs/$name.log" 2>/dev/null | grep -v -e '--resume' | grep -o 'commit [0-9a-f]*:' |
            tail -n 1 | sed 's/commit \(.*\):/\1/' || true)
  if [[ ${#resume[@]} -gt 0 && ${SAME_TRAINING_CODE:-} != 1 ]] && ! same_training_code "$started"; then
    echo "run.sh: $name started with the training code of commit ${started:-(its log names none)}, and the" \
      "sources of $build differ from it there (${training_code[*]}): build ${started:-that commit}, or, where" \
      "the two train alike, set SAME_TRAINING_CODE=1; passed over" >&2
    refused=yes
    exec {lock}>&-
    continue
  fi
  echo "== $(date -u +%FT%TZ) commit $commit: train_cifar --model $model --epochs 20 --seed $seed ${resume[*]}" |
    tee -a "$runs/$name.log"
  if ! "$build/train_cifar" --model "$model" --data "$cifar" --epochs 20 --seed "$seed" --threads "$threads" \
       --save "$runs/$name.ckpt" --save-every 100 --log "$runs/$name.csv" --quiet "${resume[@]}" \
       >>"$runs/$name.log" 2>&1 < /dev/null; then
    echo "$name: FAILED, see $runs/$name.log" >&2
    exit 1
  fi
  cp "$runs/$name.csv" "$runs/$name.log" "$results/"
  echo "$name: $(tail -n 1 "$runs/$name.log") (in $results/: commit it)"
  exec {lock}>&-
done < <(cells)
if [[ -n $refused ]]; then exit 2; fi
