#!/usr/bin/env bash
# Downloads the full MNIST and CIFAR-10 data sets in their official formats. NEEDS A NETWORK
# (without one, train on the small sets bundled in data/sample/, or copy the files by hand).
#
#   data/mnist/    train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
#                  t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz   (kept gzip'd: the
#                  loader reads them as they are)
#   data/cifar10/  cifar-10-binary.tar.gz, extracted to cifar-10-batches-bin/
#                  (data_batch_1..5.bin, test_batch.bin, batches.meta.txt)
#
# Every file is checked against the MD5 published with it; files already present and correct
# are not fetched again. Usage: scripts/download_data.sh [mnist|cifar10]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."

# MNIST (Y. LeCun, C. Cortes, C. Burges; CC BY-SA 3.0). yann.lecun.com often refuses
# downloads, so the mirror torchvision uses comes first.
mnist_mirrors=(https://ossci-datasets.s3.amazonaws.com/mnist http://yann.lecun.com/exdb/mnist)
mnist_files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz
             t10k-labels-idx1-ubyte.gz)
declare -A mnist_md5=(
  [train-images-idx3-ubyte.gz]=f68b3c2dcbeaaa9fbdd348bbdeb94873
  [train-labels-idx1-ubyte.gz]=d53e105ee54ea40749a09fcbcd1e9432
  [t10k-images-idx3-ubyte.gz]=9fb629c4189551a2d022fa330f9573f3
  [t10k-labels-idx1-ubyte.gz]=ec29112dd5afa0611ce80d1b7f02629c
)
# CIFAR-10 (A. Krizhevsky, 2009), the version "suitable for C programs"
cifar_url=https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz
cifar_md5=c32a1d4ab5d03f1284b67883e8d87530

md5_matches() { [[ -f "$1" ]] && [[ $(md5sum "$1" | cut -d' ' -f1) == "$2" ]]; }

# fetch URL FILE: curl if present, else wget; fails on HTTP errors
fetch() {
  if command -v curl > /dev/null; then
    curl --fail --location --retry 3 --progress-bar --output "$2" "$1"
  elif command -v wget > /dev/null; then
    wget --tries=3 --output-document="$2" "$1"
  else
    echo "download_data: needs curl or wget (sudo apt-get install curl)" >&2
    exit 1
  fi
}

# download FILE MD5 URL...: tries each URL until one gives a file with the right MD5
download() {
  local file=$1 md5=$2
  shift 2
  if md5_matches "$file" "$md5"; then echo "$file: present, MD5 ok"; return; fi
  for url in "$@"; do
    echo "$file: fetching $url"
    if fetch "$url" "$file.part" && md5_matches "$file.part" "$md5"; then
      mv "$file.part" "$file"
      echo "$file: MD5 ok"
      return
    fi
    echo "$file: failed or wrong MD5 from $url" >&2
  done
  rm -f "$file.part"
  echo "download_data: could not get $file (is there a network?)" >&2
  exit 1
}

get_mnist() {
  mkdir -p data/mnist
  for name in "${mnist_files[@]}"; do
    local urls=()
    for mirror in "${mnist_mirrors[@]}"; do urls+=("$mirror/$name"); done
    download "data/mnist/$name" "${mnist_md5[$name]}" "${urls[@]}"
  done
}

get_cifar10() {
  mkdir -p data/cifar10
  download data/cifar10/cifar-10-binary.tar.gz "$cifar_md5" "$cifar_url"
  echo "extracting data/cifar10/cifar-10-binary.tar.gz"
  tar xzf data/cifar10/cifar-10-binary.tar.gz -C data/cifar10
}

case "${1:-all}" in
  mnist) get_mnist ;;
  cifar10) get_cifar10 ;;
  all) get_mnist; get_cifar10 ;;
  *) echo "usage: scripts/download_data.sh [mnist|cifar10]" >&2; exit 2 ;;
esac
echo "done: load them with load_mnist_dir(\"data/mnist\", train) and load_cifar10_dir(\"data/cifar10\", train)"
