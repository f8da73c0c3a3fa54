#!/usr/bin/env bash
# Installs whatever glimpse needs that this Debian machine lacks. Safe to run again: it asks
# apt only for the packages that are missing, and does nothing when none are.
#   scripts/setup.sh            the build, the tests and the trainers
#   scripts/setup.sh --clang    also clang, its sanitizer runtime, clang-tidy and clang-format (the clang build
#                               of CMakePresets.json, scripts/tidy.sh)
#   scripts/setup.sh --fuzz     also clang and its sanitizer runtime, for the fuzz targets
#   scripts/setup.sh --pytorch  also NumPy and PyTorch 1.13 (the weights' round trip through PyTorch, bench/)
#   scripts/setup.sh --onnxruntime
#                               also Node.js and ONNX Runtime's npm package in tests/onnx/ (the test
#                               that runs export_onnx's files)
# The options combine: scripts/setup.sh --pytorch --onnxruntime.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make libopenblas-dev libtbb-dev catch2 libstb-dev libopenmpi-dev openmpi-bin libonnx-dev
          libprotobuf-dev iproute2)  # iproute2: ip, for the two-host MPI test (scripts/mpi_two_hosts.sh)
onnxruntime=no
for option in "$@"; do
  case "$option" in
    --clang) packages+=(clang clang-tidy clang-format libclang-rt-14-dev) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    --pytorch) packages+=(python3-numpy python3-torch) ;;
    --onnxruntime)
      onnxruntime=yes
      # Debian's nodejs and npm, unless a Node.js with npm is already there (NodeSource's ships both)
      if ! command -v node >/dev/null || ! command -v npm >/dev/null; then packages+=(nodejs npm); fi ;;
    *) echo "setup: unknown option $option (--clang, --fuzz, --pytorch, --onnxruntime)" >&2; exit 2 ;;
  esac
done

# ONNX Runtime for node, pinned in tests/onnx/package-lock.json (npm ci installs exactly that),
# unless node already loads it (a folder left by an install that stopped half-way does not count).
# --ignore-scripts: the package ships its CPU runtime; its install script would only fetch a GPU
# build from the network.
install_onnxruntime() {
  if [[ $onnxruntime == yes ]] && ! (cd tests/onnx && node -e "require('onnxruntime-node')" 2>/dev/null); then
    echo "setup: installing onnxruntime-node in tests/onnx (npm ci)"
    (cd tests/onnx && npm ci --ignore-scripts --no-audit --no-fund)
  fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all Debian packages are installed"
  install_onnxruntime
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
$sudo apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
install_onnxruntime
