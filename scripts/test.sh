#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite through ctest.
#   scripts/test.sh               Release build in build/
#   scripts/test.sh --sanitize    AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer) in build-asan/,
#                                 built for the baseline x86-64 (no -march=native)
# GLIMPSE_WERROR=ON in the environment turns warnings into errors (CI does).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  "" | --sanitize) ;;
  *) echo "test.sh: unknown argument '$1' (none, or --sanitize)" >&2; exit 2 ;;
esac
if [[ $# -gt 1 ]]; then echo "test.sh: one argument at most (--sanitize)" >&2; exit 2; fi

scripts/setup.sh
build_dir=build
flags=(-DCMAKE_BUILD_TYPE=Release)
if [[ "${1:-}" == "--sanitize" ]]; then
  build_dir=build-asan
  # for the baseline x86-64, not this CPU: the kernels' 8-lane path (the one AVX2 machines run,
  # engine/ops/conv2d_3x3.cpp) is tested here, the release build tests the native one
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DGLIMPSE_SANITIZE=ON -DGLIMPSE_NATIVE=OFF)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
flags+=(-DGLIMPSE_WERROR="${GLIMPSE_WERROR:-OFF}")
jobs=$(nproc)
targets=()
# the sanitizer build needs only the test binary (and the trainers its command-line tests run)
if [[ "$build_dir" == build-asan ]]; then targets=(--target glimpse_tests); fi
cmake -S . -B "$build_dir" "${flags[@]}" > /dev/null
cmake --build "$build_dir" -j "$jobs" "${targets[@]}"
cd "$build_dir"
ctest --output-on-failure -j "$jobs"
