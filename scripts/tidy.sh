#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy's checks) over the project's sources, as the build compiles them.
#   scripts/tidy.sh                 every library, trainer and tool
#   scripts/tidy.sh train distributed   only these folders
# Needs build/compile_commands.json (scripts/test.sh writes it) and clang-tidy (scripts/setup.sh --clang).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v run-clang-tidy > /dev/null || scripts/setup.sh --clang
[[ -f build/compile_commands.json ]] || { echo "tidy.sh: no build/compile_commands.json; run scripts/test.sh first" >&2; exit 2; }
folders=("$@")
if [[ ${#folders[@]} -eq 0 ]]; then folders=(engine layers optim io models train distributed examples tools); fi
pattern="^$(pwd)/($(IFS='|'; echo "${folders[*]}"))/"
# -Wno-unknown-warning-option: the build's GCC-only warning flags (-Wshadow=compatible-local, ...) are not errors to clang
run-clang-tidy -quiet -p build -j "$(nproc)" -extra-arg=-Wno-unknown-warning-option "$pattern"
