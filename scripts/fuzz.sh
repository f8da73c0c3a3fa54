#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang in build-fuzz/ and runs each for SECONDS
# (default 20) on a copy of its seed corpus (fuzz/corpus/<target without fuzz_>). Fails on any crash,
# sanitizer report, leak, timeout (an input taking over 5 s) or out-of-memory (over 2 GB).
#   scripts/fuzz.sh            20 s per target
#   scripts/fuzz.sh 300        5 minutes per target
#   scripts/fuzz.sh 60 fuzz_image    one target
# A failing input is saved as build-fuzz/artifacts/<target without fuzz_>/crash-... (or timeout-, oom-,
# leak-); rerun it with build-fuzz/<target> FILE. Clang: scripts/setup.sh --fuzz installs it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: SECONDS must be a positive whole number, got '$seconds' (scripts/fuzz.sh [SECONDS [TARGET...]])" >&2
  exit 2
fi
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=()
  for source in fuzz/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (run: sudo scripts/setup.sh --fuzz)" >&2
  exit 1
fi
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DGLIMPSE_FUZZ=ON -DGLIMPSE_TESTS=OFF -DGLIMPSE_NATIVE=OFF >/dev/null
cmake --build build-fuzz -j2 --target "${targets[@]}"

failed=()
for target in "${targets[@]}"; do
  name=${target#fuzz_}
  corpus=build-fuzz/corpus/$name  # grows as the fuzzer finds new paths; the seeds stay as they are
  artifacts=build-fuzz/artifacts/$name
  mkdir -p "$corpus" "$artifacts"
  cp -n fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: $target for ${seconds} s"
  if ! build-fuzz/"$target" "$corpus" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
       -artifact_prefix="$artifacts"/ -print_final_stats=1 >"build-fuzz/$target.log" 2>&1; then
    echo "fuzz: $target FAILED; see build-fuzz/$target.log and $artifacts/" >&2
    grep -E "ERROR|SUMMARY|Test unit written" "build-fuzz/$target.log" | head -5 >&2 || true
    failed+=("$target")
  else
    grep -E "^stat::number_of_executed_units|^Done" "build-fuzz/$target.log" | head -2 || true
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: failures in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds} s each without a failure"
