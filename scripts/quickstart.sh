#!/usr/bin/env bash
# Installs what is missing, builds glimpse, and trains mnist_cnn: on the full MNIST in
# data/mnist when it is there (scripts/download_data.sh), else on the bundled sample.
# Extra arguments go to the trainer, e.g. scripts/quickstart.sh --epochs 1 (it runs in the
# repository's root: a path among them is read from there).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target train_mnist
mkdir -p runs
exec build/train_mnist --log runs/mnist.csv --plot runs/mnist.svg --save runs/mnist.ckpt "$@"
