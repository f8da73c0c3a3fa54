#!/usr/bin/env bash
# Times one training step of every zoo model in glimpse (build/bench_step) and in PyTorch
# (bench/pytorch_reference.py, Debian's python3-torch) and prints a Markdown table.
#
#   bench/compare.sh [--threads T] [--steps N] [--rounds R] [--models "resnet20 ram stn_mnist@42"]
#                    [--build DIR]
#
# Installs what is missing (the build dependencies through scripts/setup.sh, python3-torch via
# apt), builds bench_step in build/. For each model the two run alternately, A B A B (R rounds,
# default 2), so that a busy moment of a shared machine does not fall on one side only; each
# side keeps the best (lowest) median of its runs, and the last two columns list every run's
# median, to show how much a side moves from run to run. "stn_mnist@42" is stn_mnist on 42x42
# input (--size 42). A model that one side cannot run (yet) shows "n/a".
# --build DIR times DIR/bench_step, a build configured apart (default build/, configured here):
# an AVX2 machine is simulated on an AVX-512 one by a build configured with -DGLIMPSE_NATIVE=OFF
# -DCMAKE_CXX_FLAGS=-march=haswell and ONEDNN_MAX_CPU_ISA=AVX2 in the environment (PyTorch's side).
set -euo pipefail
cd "$(dirname "$0")/.."

threads=2
steps=20
rounds=2
build_dir=""
models="mnist_cnn stn_mnist stn_mnist@42 ram resnet20 se_resnet20 cbam_resnet20 attention56 dasnet eca_resnet20 gc_resnet20 nl_resnet20 da_resnet20 cc_resnet20 aa_resnet20"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    --build) build_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then echo "compare.sh: --rounds must be a positive whole number, got '$rounds'" >&2; exit 2; fi

python=/usr/bin/python3  # Debian's interpreter: python3-torch is installed for it, not for a pyenv one

# ---- what is missing ----
scripts/setup.sh --pytorch >&2

if [[ -z "$build_dir" ]]; then build_dir=build; configure_build=yes; else configure_build=no; fi
glimpse=$build_dir/bench_step
if [[ -f bench/bench_step.cpp ]]; then
  if [[ "$configure_build" == yes ]]; then cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null; fi
  cmake --build "$build_dir" -j2 --target bench_step >&2
else
  echo "compare.sh: bench/bench_step.cpp is not in this tree; the glimpse column is n/a" >&2
  glimpse=""  # not a stale binary built from another tree
fi

# ---- runs: one JSON line per run, tagged with the model token and the side ----
results=$(mktemp)
errors=$(mktemp)  # the stderr of the last run, whose last line says why a run gave no JSON
trap 'rm -f "$results" "$errors"' EXIT

# run SIDE TOKEN: appends the run's JSON line (its last line starting with "{"), or nothing
run() {
  local side="$1" token="$2" name="${2%@*}" size=()
  if [[ "$token" == *@* ]]; then size=(--size "${token#*@}"); fi
  local cmd
  if [[ "$side" == glimpse ]]; then
    [[ -n "$glimpse" && -x "$glimpse" ]] || return 0
    cmd=("$glimpse" --model "$name" --threads "$threads" --steps "$steps" "${size[@]}")
  else
    cmd=("$python" bench/pytorch_reference.py --model "$name" --threads "$threads" --steps "$steps" "${size[@]}")
  fi
  local line
  line=$("${cmd[@]}" 2>"$errors" | grep '^{' | tail -n 1) || true
  if [[ -n "$line" ]]; then
    printf '%s\t%s\t%s\n' "$token" "$side" "$line" >>"$results"
  else
    echo "compare.sh: $side could not run $token: $(grep -v '^usage:' "$errors" | tail -n 1)" >&2
  fi
}

for token in $models; do
  echo "compare.sh: $token" >&2
  for ((round = 1; round <= rounds; round++)); do
    run glimpse "$token"
    run pytorch "$token"
  done
done

# ---- the table ----
"$python" - "$results" "$threads" "$steps" "$rounds" "$models" <<'EOF'
import json, sys

path, threads, steps, rounds, tokens = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5].split()
best = {}  # (token, side) -> the run with the lowest median
medians = {}  # (token, side) -> every run's median, in the order they ran
for row in open(path):
    token, side, line = row.rstrip("\n").split("\t", 2)
    try:
        run = json.loads(line)
        float(run["ms_per_step"])
    except (ValueError, KeyError, TypeError):
        continue
    key = (token, side)
    medians.setdefault(key, []).append(float(run["ms_per_step"]))
    if key not in best or run["ms_per_step"] < best[key]["ms_per_step"]:
        best[key] = run

def cell(run, field, digits=1):
    return "n/a" if run is None or field not in run else f"{float(run[field]):.{digits}f}"

def runs(key):
    return " / ".join(f"{m:.0f}" for m in medians.get(key, [])) or "n/a"

print(f"threads {threads}, {steps} timed steps, best median of {rounds} alternating runs per side\n")
print("| model | batch | glimpse ms/step | PyTorch ms/step | ratio (glimpse/PyTorch) | glimpse peak MB | PyTorch peak MB "
      "| glimpse runs | PyTorch runs |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for token in tokens:
    g, p = best.get((token, "glimpse")), best.get((token, "pytorch"))
    batch = (p or g or {}).get("batch", "n/a")
    if g and p and g.get("batch") != p.get("batch"):
        batch = f"{g['batch']} / {p['batch']}"
    ratio = "n/a"
    if g and p:
        r = g["ms_per_step"] / p["ms_per_step"]
        ratio = f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"  # 0.0029, not 0.00
    print(f"| {token} | {batch} | {cell(g, 'ms_per_step')} | {cell(p, 'ms_per_step')} | {ratio} "
          f"| {cell(g, 'peak_rss_mb', 0)} | {cell(p, 'peak_rss_mb', 0)} "
          f"| {runs((token, 'glimpse'))} | {runs((token, 'pytorch'))} |")
EOF
