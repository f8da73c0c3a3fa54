#!/usr/bin/env bash
# Installs whatever glimpse needs that this Debian machine lacks. Safe to run again: it asks
# apt only for the packages that are missing, and does nothing when none are.
#   scripts/setup.sh            the build, the tests and the trainers
#   scripts/setup.sh --clang    also clang, clang-tidy and clang-format (the clang build, scripts/tidy.sh)
#   scripts/setup.sh --fuzz     also clang and its sanitizer runtime, for the fuzz targets
#   scripts/setup.sh --pytorch  also NumPy and PyTorch 1.13 (the weights' round trip through PyTorch, bench/)
set -euo pipefail

packages=(g++ cmake make libopenblas-dev libtbb-dev catch2 libstb-dev libopenmpi-dev openmpi-bin)
if [[ "${1:-}" == "--clang" ]]; then packages+=(clang clang-tidy clang-format); fi
if [[ "${1:-}" == "--fuzz" ]]; then packages+=(clang libclang-rt-14-dev); fi
if [[ "${1:-}" == "--pytorch" ]]; then packages+=(python3-numpy python3-torch); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all dependencies are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
