#!/usr/bin/env bash
# The training runs behind the results README.md publishes, one after another, each resumable.
# (docs/RESULTS.md gives the command and commit of every other run it reports.)
#
#   scripts/result_runs.sh --list                 the runs, in order, with their commands
#   scripts/result_runs.sh [NAME...]              run these (default: every run), in the foreground
#   nohup scripts/result_runs.sh > runs/queue.log 2>&1 &      the same in the background
#
# Each run writes $RUNS_DIR/NAME.log (what the trainer prints), NAME.csv (metrics per epoch),
# NAME.ckpt (every 100 steps and every epoch, atomically) and NAME.svg (the plot). A run that
# finished leaves NAME.done (its final line) and is skipped; one that was interrupted (a stop, a
# kill, a reboot) resumes from NAME.ckpt the next time. RUNS_DIR defaults to runs/.
# The full data sets: MNIST_DIR (default data/mnist) and CIFAR_DIR (default data/cifar10), where
# scripts/download_data.sh puts them. THREADS (default 2) is every run's --threads.
set -euo pipefail
# RUNS_DIR, MNIST_DIR, CIFAR_DIR: relative to where the script is started, not to the repository's root it moves to
for var in RUNS_DIR MNIST_DIR CIFAR_DIR; do if [[ -n ${!var:-} ]]; then printf -v "$var" '%s' "$(realpath -m -- "${!var}")"; fi; done
cd "$(dirname "$0")/.."

runs=${RUNS_DIR:-runs}
mnist=${MNIST_DIR:-data/mnist}
cifar=${CIFAR_DIR:-data/cifar10}
threads=${THREADS:-2}

# name | trainer and flags (every run also gets --threads, --save, --log, --plot, --resume). The
# ram_*_std010* runs but the three named below, stn_paper_* and dasnet_* (dasnet_base_holdout: the
# base of train_dasnet --holdout 5000; dasnet_backprop_*: tools/dasnet_backprop, the diagnostic),
# not in the README yet, serve an open issue (the README's RAM figures: ram_mnist_std010_lr3e-4,
# ram_translated_std010_lr3e-4_e400 and ram_cluttered_std010_lr3e-4).
run_table() {
  cat <<EOF
resnet20|train_cifar --model resnet20 --data $cifar --epochs 50
ram_translated|train_ram --dataset translated --data $mnist --epochs 100 --mc-samples 10
ram_cluttered|train_ram --dataset cluttered --data $mnist --epochs 100 --mc-samples 10
ram_mnist_std010|train_ram --dataset mnist --data $mnist --epochs 200 --location-std 0.1 --mc-samples 10
ram_translated_std010|train_ram --dataset translated --data $mnist --epochs 200 --location-std 0.1 --mc-samples 10
ram_cluttered_std010|train_ram --dataset cluttered --data $mnist --epochs 200 --location-std 0.1 --mc-samples 10
ram_mnist_std010_lr3e-4|train_ram --dataset mnist --data $mnist --epochs 200 --location-std 0.1 --lr 3e-4 --mc-samples 10
ram_translated_std010_lr3e-4|train_ram --dataset translated --data $mnist --epochs 200 --location-std 0.1 --lr 3e-4 --mc-samples 10
ram_cluttered_std010_lr3e-4|train_ram --dataset cluttered --data $mnist --epochs 200 --location-std 0.1 --lr 3e-4 --mc-samples 10
ram_translated_std005_lr3e-4|train_ram --dataset translated --data $mnist --epochs 200 --location-std 0.05 --lr 3e-4 --mc-samples 10
ram_translated_std010_lr3e-4_e400|train_ram --dataset translated --data $mnist --epochs 400 --location-std 0.1 --lr 3e-4 --mc-samples 10
dasnet|train_dasnet --base $runs/resnet20.ckpt --data $cifar
se_resnet20|train_cifar --model se_resnet20 --data $cifar --epochs 50
cbam_resnet20|train_cifar --model cbam_resnet20 --data $cifar --epochs 50
attention56_16|train_cifar --model attention56 --data $cifar --epochs 16
resnet20_164|train_cifar --model resnet20 --data $cifar --epochs 164
stn_rts_redraw_150_ema|train_stn --dataset rts --data $mnist --epochs 150 --optimizer adam --lr 1e-3 --redraw --ema 0.9999
stn_paper_rts|train_stn --model stn_paper --dataset rts --data $mnist --epochs 100 --optimizer adam --lr 1e-3 --redraw --ema 0.9999
stn_paper_cnn_rts|train_stn --model stn_paper --no-transformer --dataset rts --data $mnist --epochs 100 --optimizer adam --lr 1e-3 --redraw --ema 0.9999
dasnet_base_holdout|train_cifar --model resnet20 --holdout 5000 --data $cifar --epochs 20
dasnet_backprop_full_lr1e-4|dasnet_backprop --base $runs/dasnet_base_holdout.ckpt --holdout 5000 --data $cifar --epochs 10 --lr 1e-4
dasnet_backprop_full_lr1e-3|dasnet_backprop --base $runs/dasnet_base_holdout.ckpt --holdout 5000 --data $cifar --epochs 10 --lr 1e-3
dasnet_backprop_diagonal_lr1e-3|dasnet_backprop --base $runs/dasnet_base_holdout.ckpt --holdout 5000 --data $cifar --epochs 10 --lr 1e-3 --policy diagonal
dasnet_backprop_diagonal_lr1e-2|dasnet_backprop --base $runs/dasnet_base_holdout.ckpt --holdout 5000 --data $cifar --epochs 10 --lr 1e-2 --policy diagonal
dasnet_snes_diagonal|train_dasnet --base $runs/dasnet_base_holdout.ckpt --holdout 5000 --data $cifar --batch 250 --population 0 --policy diagonal --sigma 0.05 --generations 50 --epochs 20
dasnet_snes_full|train_dasnet --base $runs/dasnet_base_holdout.ckpt --holdout 5000 --data $cifar --batch 250 --population 0 --generations 50 --epochs 12
EOF
}

command_of() {  # the trainer command of run $1, or nothing
  run_table | while IFS='|' read -r name command; do
    if [[ $name == "$1" ]]; then echo "$command"; fi
  done
}

if [[ ${1:-} == --list ]]; then
  run_table | while IFS='|' read -r name command; do printf '%-15s build/%s\n' "$name" "$command"; done
  exit 0
fi

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then mapfile -t names < <(run_table | cut -d'|' -f1); fi
for name in "${names[@]}"; do
  [[ -n $(command_of "$name") ]] || { echo "result_runs: no run named '$name' (see --list)" >&2; exit 2; }
done

mkdir -p "$runs"
for name in "${names[@]}"; do
  if [[ -f $runs/$name.done ]]; then
    echo "$name: done ($(cat "$runs/$name.done"))"
    continue
  fi
  read -r -a command <<<"$(command_of "$name")"
  trainer=${command[0]}
  [[ -x build/$trainer ]] || { echo "result_runs: build/$trainer is not built (cmake --build build -j2)" >&2; exit 2; }
  resume=()
  if [[ -f $runs/$name.ckpt ]]; then resume=(--resume "$runs/$name.ckpt"); fi
  echo "== $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown): ${command[*]} ${resume[*]}" |
    tee -a "$runs/$name.log"
  if ! "build/$trainer" "${command[@]:1}" --threads "$threads" --save "$runs/$name.ckpt" --save-every 100 \
       --log "$runs/$name.csv" --plot "$runs/$name.svg" "${resume[@]}" >>"$runs/$name.log" 2>&1; then
    echo "$name: FAILED, see $runs/$name.log" >&2
    exit 1
  fi
  tail -n 1 "$runs/$name.log" > "$runs/$name.done"
  echo "$name: $(cat "$runs/$name.done")"
done
