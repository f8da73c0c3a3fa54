#!/usr/bin/env bash
# Checks of the scripts that carry the attention table's cells from session to session, run by
# tests/test_cli.cpp: bench/attention_table/run.sh (which cells, their locks, the commit a cell
# started with, a finished cell's copy) and scripts/carry_runs.sh (save, restore, drop). Both run as
# copies in a scratch tree, so the repository's own cells and runs-in-progress/ are not touched; the
# trainer is a stand-in that writes what train_cifar writes. Prints what failed and exits 1.
set -euo pipefail
# nothing from the caller's environment or git configuration (a hook's GIT_DIR, signing, hooks)
unset SAME_TRAINING_CODE CARRY_MAX_MB STAND_IN_STOPS GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
trap 'echo "FAILED: the command at line $LINENO failed"' ERR
mkdir -p "$tree/bench/attention_table/cells" "$tree/scripts" "$tree/code/build"
cp "$root/bench/attention_table/run.sh" "$tree/bench/attention_table/"
cp "$root/scripts/carry_runs.sh" "$tree/scripts/"
cd "$tree"

# "a build of a commit": a repository whose build/train_cifar writes a checkpoint and, unless
# STAND_IN_STOPS=1 (then it ends as a SIGTERM does, status 143), a 20-epoch CSV
git -C code init -q
mkdir -p code/engine code/docs
commit() {  # MESSAGE [FILE]: a commit that changes FILE (in the training code or not), or nothing
  if [[ -n ${2:-} ]]; then echo "$1" >> "code/$2" && git -C code add "$2"; fi
  git -C code -c user.name=test -c user.email=test@test commit -q --allow-empty -m "$1"
}
commit first engine/op.cpp
cat > code/build/train_cifar <<'TRAINER'
#!/usr/bin/env bash
while [[ $# -gt 0 ]]; do
  case $1 in
    --save) save=$2; shift ;;
    --log) log=$2; shift ;;
    --resume) echo "resumed from $2" ;;
  esac
  shift
done
echo checkpoint > "$save"
if [[ ${STAND_IN_STOPS:-} == 1 ]]; then echo "stopped by SIGTERM after step 100" >&2; exit 143; fi
echo "epoch,step,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s" > "$log"
for epoch in $(seq 20); do echo "$epoch,$((epoch * 391)),0.1,0.5,0.8,0.5,0.85,1,1" >> "$log"; done
echo "final test_acc=0.8500 epochs=20 seconds=20"
TRAINER
chmod +x code/build/train_cifar

failures=0
fail() { echo "FAILED: $*"; failures=$((failures + 1)); }
status_of() { set +e; "$@" > out.txt 2>&1; local status=$?; set -e; echo $status; }
export RUNS_DIR=runs BUILD=code/build CIFAR_DIR=data
cell=runs/attention_table/resnet20_s1

[[ $(bench/attention_table/run.sh --list | wc -l) == 29 ]] || fail "run.sh --list: not 29 cells"
[[ $(status_of bench/attention_table/run.sh no_such_cell) == 2 ]] || fail "run.sh: an unknown cell is not refused"
[[ $(BUILD=nowhere status_of bench/attention_table/run.sh resnet20_s1) == 2 ]] || fail "run.sh: a missing build is not refused"

# a cell stopped half-way keeps its checkpoint and is not copied as finished; an earlier start
# of it that ended before its first checkpoint (another commit) does not count as where it started
mkdir -p runs/attention_table
echo "== 2026-01-01T00:00:00Z commit 0000000: train_cifar --model resnet20 --epochs 20 --seed 1 " > $cell.log
[[ $(STAND_IN_STOPS=1 status_of bench/attention_table/run.sh resnet20_s1) == 1 ]] || fail "run.sh: a stopped cell did not fail"
[[ -f $cell.ckpt && ! -f bench/attention_table/cells/resnet20_s1.csv ]] || fail "run.sh: a stopped cell's files"

# carried to a new machine and back
scripts/carry_runs.sh save > out.txt
grep -q "carried: attention_table/resnet20_s1" out.txt || fail "carry_runs save: $(cat out.txt)"
[[ -f runs-in-progress/attention_table/resnet20_s1.ckpt ]] || fail "carry_runs save: no checkpoint carried"
CARRY_MAX_MB=0 scripts/carry_runs.sh save > out.txt
grep -q "not carried: attention_table/resnet20_s1" out.txt || fail "carry_runs save: CARRY_MAX_MB=0 carried: $(cat out.txt)"
[[ -f runs-in-progress/attention_table/resnet20_s1.ckpt ]] || fail "carry_runs save: a run not carried lost its earlier copy"
rm -r runs
scripts/carry_runs.sh restore > out.txt
grep -q "restored: attention_table/resnet20_s1 (resume it with the training code it started with: commit $(git -C code rev-parse --short HEAD))" out.txt ||
  fail "carry_runs restore: $(cat out.txt)"
[[ -f $cell.ckpt && -f $cell.log ]] || fail "carry_runs restore: the cell's checkpoint and log are not back"

# the same training code resumes it: the same commit, or one that changed something else
[[ $(STAND_IN_STOPS=1 status_of bench/attention_table/run.sh resnet20_s1) == 1 ]] || fail "run.sh at the same commit: $(cat out.txt)"
grep -q "resumed from .*resnet20_s1.ckpt" $cell.log || fail "run.sh did not resume the cell at the commit it started with"
commit "docs only" docs/notes.md
[[ $(STAND_IN_STOPS=1 status_of bench/attention_table/run.sh resnet20_s1) == 1 ]] ||
  fail "run.sh refused a commit that changed no training code: $(cat out.txt)"
# a build whose training code differs is refused, the cell passed over and the others run, unless
# told that the two train alike
commit "another op" engine/op.cpp
[[ $(status_of bench/attention_table/run.sh resnet20_s1 se_resnet20_s1) == 2 ]] || fail "run.sh resumed a cell with other training code"
grep -q "resnet20_s1 started with the training code of commit" out.txt || fail "run.sh's refusal: $(cat out.txt)"
[[ -f bench/attention_table/cells/se_resnet20_s1.csv ]] || fail "run.sh: a refused cell stopped the cells after it"
[[ ! -f bench/attention_table/cells/resnet20_s1.csv ]] || fail "run.sh: the refused cell ran"
[[ $(SAME_TRAINING_CODE=1 status_of bench/attention_table/run.sh resnet20_s1) == 0 ]] || fail "run.sh with SAME_TRAINING_CODE=1: $(cat out.txt)"
[[ -f bench/attention_table/cells/resnet20_s1.csv && -f bench/attention_table/cells/resnet20_s1.log ]] ||
  fail "run.sh: the finished cell's CSV and log are not in cells/"

# a finished cell is not run again, and leaves runs-in-progress/
lines=$(wc -l < $cell.log)
bench/attention_table/run.sh resnet20_s1 > out.txt
[[ $(wc -l < $cell.log) == "$lines" ]] || fail "run.sh ran a finished cell again"
scripts/carry_runs.sh save > out.txt
grep -q "dropped: attention_table/resnet20_s1 (finished)" out.txt || fail "carry_runs save kept a finished cell: $(cat out.txt)"
[[ ! -e runs-in-progress/attention_table/resnet20_s1.ckpt ]] || fail "carry_runs save: the finished cell's checkpoint stayed"

# a cell another copy of run.sh is training (its lock held) is passed over, and trained once free
exec {held}> runs/attention_table/cbam_resnet20_s1.lock
flock "$held"
bench/attention_table/run.sh cbam_resnet20_s1 > out.txt
[[ ! -f runs/attention_table/cbam_resnet20_s1.log ]] || fail "run.sh trained a cell whose lock another copy holds"
exec {held}>&-
bench/attention_table/run.sh cbam_resnet20_s1 > out.txt
[[ -f bench/attention_table/cells/cbam_resnet20_s1.csv ]] || fail "run.sh did not train a cell once its lock was free"

if (( failures > 0 )); then exit 1; fi
echo "the attention table's scripts: all checks passed"
