#!/usr/bin/env bash
# Carries the long runs in progress from one machine to the next. A run that takes longer than the
# machine it started on lives (the checkpoint of scripts/result_runs.sh or of
# bench/attention_table/run.sh in RUNS_DIR) goes into the repository's runs-in-progress/, and
# comes back out on the next machine, where the same script resumes it (bitwise where that machine
# computes as the last one did: the same build, the same OpenBLAS kernels, the same thread count).
#
#   scripts/carry_runs.sh save       every unfinished run of RUNS_DIR (its .ckpt, .csv and .log)
#                                    into runs-in-progress/, replacing its earlier copy there; a
#                                    carried run that has finished leaves; one that RUNS_DIR does
#                                    not hold stays as it was (a save before a restore loses
#                                    nothing); commit it
#   scripts/carry_runs.sh restore    runs-in-progress/ back into RUNS_DIR (a run already there is
#                                    left alone: it is at least as far), naming the commit each
#                                    run started at: resume it with a build of that training code
#
# Unfinished: a result run without NAME.done, an attention-table cell with neither its CSV nor a
# NAME.rescored in bench/attention_table/cells/.
# RUNS_DIR defaults to runs/, as for the scripts that write the runs. CARRY_MAX_MB (default 8): a
# run whose checkpoint is that large or larger stays on this machine only: the repository keeps
# every version it is given, and takes no file of 8 MB or more (attention56's is 8.7 MB). Such a run
# starts over on a new machine; run it where it fits in one session (more threads, one at a time).
set -euo pipefail
# RUNS_DIR: relative to where the script is started, not to the repository's root it moves to
if [[ -n ${RUNS_DIR:-} ]]; then RUNS_DIR=$(realpath -m -- "$RUNS_DIR"); fi
cd "$(dirname "$0")/.."
runs=${RUNS_DIR:-runs}
carried="runs-in-progress"
max_mb=${CARRY_MAX_MB:-8}
[[ $max_mb =~ ^[0-9]+$ ]] || { echo "carry_runs: CARRY_MAX_MB must be a whole number, got '$max_mb'" >&2; exit 2; }

finished() {  # RUN (a name relative to RUNS_DIR): whether it has finished
  local run=$1 name
  name=$(basename "$run")
  if [[ $run == attention_table/* ]]; then
    [[ -f bench/attention_table/cells/$name.csv || -f bench/attention_table/cells/$name.rescored ]]
  else
    [[ -f $runs/$name.done ]]
  fi
}

unfinished() {  # the checkpoints in RUNS_DIR of runs that have not finished, relative to it
  local ckpt run
  for ckpt in "$runs"/*.ckpt "$runs"/attention_table/*.ckpt; do
    [[ -f $ckpt ]] || continue
    run=${ckpt#"$runs"/}
    run=${run%.ckpt}
    finished "$run" || echo "$run"
  done
}

carried_runs() {  # the runs in runs-in-progress/, relative to it
  [[ -d $carried ]] || return 0
  find "$carried" -name '*.ckpt' | while read -r ckpt; do
    run=${ckpt#"$carried"/}
    echo "${run%.ckpt}"
  done
}

case ${1:-} in
  save)
    carried_runs | while read -r run; do
      if finished "$run"; then
        rm -f "$carried/$run".{ckpt,csv,log}
        echo "dropped: $run (finished)"
      fi
    done
    mkdir -p "$carried"
    unfinished | while read -r run; do
      size_mb=$(( $(stat -c %s "$runs/$run.ckpt") / 1000000 ))
      if (( size_mb >= max_mb )); then
        echo "not carried: $run (its checkpoint is $size_mb MB, CARRY_MAX_MB is $max_mb; it stays in $runs)"
        continue
      fi
      mkdir -p "$carried/$(dirname "$run")"
      for ext in ckpt csv log; do
        if [[ -f $runs/$run.$ext ]]; then cp "$runs/$run.$ext" "$carried/$run.$ext"; fi
      done
      echo "carried: $run ($(tail -n 1 "$runs/$run.csv" 2>/dev/null | cut -d, -f1 || echo '?') epochs logged)"
    done
    ;;
  restore)
    mkdir -p "$runs"
    carried_runs | while read -r run; do
      if [[ -f $runs/$run.ckpt ]]; then
        echo "left alone: $runs/$run.ckpt is already there"
        continue
      fi
      mkdir -p "$runs/$(dirname "$run")"
      for ext in ckpt csv log; do
        if [[ -f $carried/$run.$ext ]]; then cp "$carried/$run.$ext" "$runs/$run.$ext"; fi
      done
      # the commit of its last start from scratch, as bench/attention_table/run.sh reads it
      started=$(grep '^== ' "$runs/$run.log" 2>/dev/null | grep -v -e '--resume' | grep -o 'commit [0-9a-f]*:' |
                tail -n 1 | tr -d : || true)
      echo "restored: $run (resume it with the training code it started with: ${started:-its log names no commit})"
    done
    ;;
  *)
    echo "usage: scripts/carry_runs.sh save|restore   (RUNS_DIR: where the runs are; default runs/)" >&2
    exit 2
    ;;
esac
