#!/usr/bin/env bash
# Data-parallel training against one process on this machine: train_cifar's resnet20 for STEPS
# steps of batch 128, as R processes of one thread each (mpirun) and as one process of R threads,
# alternating A B A B (ROUNDS rounds) so that a busy moment of a shared machine falls on both.
# Prints each run's images per second (the epoch line, training only) and, for the processes,
# the seconds of the run spent averaging gradients (MPI_Allreduce and the copies around it); and
# one process of one thread on one process's share (batch 128 / R), the compute of a share alone.
#
#   bench/data_parallel.sh [--processes R] [--steps N] [--rounds K] [--data DIR]
#
# The model of docs/TRAINERS.md ("Several processes") turns the two figures into a forecast for
# N machines.
set -euo pipefail
cd "$(dirname "$0")/.."

processes=2 steps=40 rounds=2 data=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --processes) processes="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --data) data="--data $2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "data_parallel.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x build/train_cifar ]] || { echo "data_parallel.sh: build/train_cifar is not built" >&2; exit 2; }
command -v mpirun > /dev/null || { echo "data_parallel.sh: no mpirun (scripts/setup.sh installs Open MPI)" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # root in a container is fine here

common="--model resnet20 $data --batch 128 --max-steps $steps --seed 1"
images_per_second() { sed -n 's/.* \([0-9.]*\) img\/s$/\1/p' | tail -n 1; }
echo "| run | images/s | s averaging gradients |"
echo "|---|---:|---:|"
for ((round = 1; round <= rounds; round++)); do
  out=$(build/train_cifar $common --threads "$processes" 2>&1)
  echo "| 1 process x $processes threads | $(images_per_second <<< "$out") | |"
  out=$(mpirun -np "$processes" --oversubscribe --bind-to none build/train_cifar $common --threads 1 2>&1)
  averaging=$(sed -n 's/^data parallel: .*; \([0-9.]*\) s of the run averaging gradients$/\1/p' <<< "$out")
  echo "| $processes processes x 1 thread | $(images_per_second <<< "$out") | $averaging |"
  out=$(build/train_cifar ${common/--batch 128/--batch $((128 / processes))} --threads 1 2>&1)
  echo "| 1 process x 1 thread, batch $((128 / processes)) | $(images_per_second <<< "$out") | |"
done
