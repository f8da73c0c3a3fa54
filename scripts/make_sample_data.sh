#!/usr/bin/env bash
# Makes the small data sets bundled in data/sample/ from the full ones (see data/sample/README.md):
#
#   data/sample/mnist/    the first 5000 training and first 1000 test digits of the official
#                         MNIST idx files: the records byte for byte, the headers rewritten with
#                         the new counts, each file gzip'd (gzip -9n, so the output repeats)
#   data/sample/cifar10/  train/<class>/ the first 200 and test/<class>/ the first 50 JPEG files
#                         (by name) of each class of the CIFAR-10 image-folder tarball, copied
#                         byte for byte
#
# Usage: scripts/make_sample_data.sh [MNIST_DIR] [CIFAR10_JPG_TARBALL]
#   MNIST_DIR holds the four official files train-images-idx3-ubyte.gz, ... (default
#   ../shared/data/mnist beside the project); the tarball unpacks to train/<class>/NNNN.jpg and
#   test/<class>/NNNN.jpg (default ../shared/data/cifar10/cifar10-jpg.tar.gz).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

mnist_dir=${1:-../shared/data/mnist}
cifar_tarball=${2:-../shared/data/cifar10/cifar10-jpg.tar.gz}
mnist_train=5000 mnist_test=1000
cifar_train=200 cifar_test=50
out=data/sample

for f in "$mnist_dir"/{train-images-idx3-ubyte,train-labels-idx1-ubyte,t10k-images-idx3-ubyte,t10k-labels-idx1-ubyte}.gz \
         "$cifar_tarball"; do
  [[ -f $f ]] || { echo "make_sample_data: $f does not exist; data/sample/ is left as it is" >&2; exit 1; }
done

# The new sets are made in a temporary folder and replace data/sample/'s only once both are whole.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
made=$tmp/sample
mkdir -p "$made/mnist" "$made/cifar10"

# A 32-bit big-endian integer as 4 raw bytes (the idx format's integers).
be32() {
  local n=$1
  printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255)))"
}

# Bytes [skip, skip + count) of a file.
byte_range() { dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" bs=64K status=none; }

# take_idx NAME COUNT HEADER_BYTES RECORD_BYTES: the first COUNT records of the idx file NAME.
# The header is the magic (4 bytes), the item count (4 bytes), then for images rows and cols.
take_idx() {
  local name=$1 count=$2 header=$3 record=$4
  local raw="$tmp/$name"
  gzip -dc "$mnist_dir/$name.gz" > "$raw"
  local available=$(( ($(stat -c %s "$raw") - header) / record ))
  if (( count > available )); then echo "make_sample_data: $name holds only $available items" >&2; exit 1; fi
  {
    byte_range "$raw" 0 4                          # magic number, unchanged
    be32 "$count"                                  # the new count
    byte_range "$raw" 8 $((header - 8))            # rows and cols (images), unchanged
    byte_range "$raw" "$header" $((count * record))  # the first COUNT records
  } | gzip -9n > "$made/mnist/$name.gz"
}

echo "== MNIST from $mnist_dir =="
take_idx train-images-idx3-ubyte $mnist_train 16 784
take_idx train-labels-idx1-ubyte $mnist_train 8 1
take_idx t10k-images-idx3-ubyte $mnist_test 16 784
take_idx t10k-labels-idx1-ubyte $mnist_test 8 1

echo "== CIFAR-10 from $cifar_tarball =="
tar xzf "$cifar_tarball" -C "$tmp"
for split in train test; do
  count=$cifar_train
  if [[ $split == test ]]; then count=$cifar_test; fi
  for class_dir in "$tmp/$split"/*/; do
    class=$(basename "$class_dir")
    mkdir -p "$made/cifar10/$split/$class"
    files=("$class_dir"*)  # sorted by name, in byte order (LC_ALL=C, as the loader sorts)
    cp "${files[@]:0:count}" "$made/cifar10/$split/$class/"
  done
done

rm -rf "$out/mnist" "$out/cifar10"
mv "$made/mnist" "$made/cifar10" "$out/"
echo "== made $out =="
du -sh --apparent-size "$out/mnist" "$out/cifar10"
