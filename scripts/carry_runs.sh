#!/usr/bin/env bash
# Carries the long runs in progress from one machine to the next. A run that takes longer than the
# machine it started on lives (the checkpoint of scripts/result_runs.sh or of
# bench/attention_table/run.sh in RUNS_DIR) goes into the repository's runs-in-progress/, and
# comes back out on the next machine, where the same script resumes it bitwise.
#
#   scripts/carry_runs.sh save       every unfinished run of RUNS_DIR (its .ckpt, .csv and .log)
#                                    into runs-in-progress/, replacing what was there; commit it
#   scripts/carry_runs.sh restore    runs-in-progress/ back into RUNS_DIR (a run already there is
#                                    left alone: it is at least as far), naming the commit each
#                                    run started at: resume it with a build of that training code
#
# Unfinished: a result run without NAME.done, an attention-table cell whose log is not yet in
# bench/attention_table/cells/. A run that finishes leaves runs-in-progress/ at the next save.
# RUNS_DIR defaults to runs/, as for the scripts that write the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS_DIR:-runs}
carried=runs-in-progress

unfinished() {  # the checkpoints in RUNS_DIR of runs that have not finished, relative to it
  local ckpt name
  for ckpt in "$runs"/*.ckpt; do
    [[ -f $ckpt ]] || continue
    name=$(basename "$ckpt" .ckpt)
    [[ -f $runs/$name.done ]] || echo "$name"
  done
  for ckpt in "$runs"/attention_table/*.ckpt; do
    [[ -f $ckpt ]] || continue
    name=$(basename "$ckpt" .ckpt)
    [[ -f bench/attention_table/cells/$name.csv ]] || echo "attention_table/$name"
  done
}

case ${1:-} in
  save)
    rm -rf "${carried:?}"/*.ckpt "$carried"/*.csv "$carried"/*.log "$carried"/attention_table
    mkdir -p "$carried"
    unfinished | while read -r run; do
      mkdir -p "$carried/$(dirname "$run")"
      for ext in ckpt csv log; do
        if [[ -f $runs/$run.$ext ]]; then cp "$runs/$run.$ext" "$carried/$run.$ext"; fi
      done
      echo "carried: $run ($(tail -n 1 "$runs/$run.csv" 2>/dev/null | cut -d, -f1 || echo '?') epochs logged)"
    done
    ;;
  restore)
    mkdir -p "$runs"
    find "$carried" -name '*.ckpt' | while read -r ckpt; do
      run=${ckpt#"$carried"/}
      run=${run%.ckpt}
      if [[ -f $runs/$run.ckpt ]]; then
        echo "left alone: $runs/$run.ckpt is already there"
        continue
      fi
      mkdir -p "$runs/$(dirname "$run")"
      for ext in ckpt csv log; do
        if [[ -f $carried/$run.$ext ]]; then cp "$carried/$run.$ext" "$runs/$run.$ext"; fi
      done
      started=$(grep -o 'commit [0-9a-f]*:' "$runs/$run.log" 2>/dev/null | head -n 1 | tr -d :)
      echo "restored: $run (resume it with the training code it started with: ${started:-its log names no commit})"
    done
    ;;
  *)
    echo "usage: scripts/carry_runs.sh save|restore   (RUNS_DIR: where the runs are; default runs/)" >&2
    exit 2
    ;;
esac
