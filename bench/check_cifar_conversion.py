#!/usr/bin/python3
"""Do the CIFAR-10 binary files made by build/convert_cifar10 hold what the JPEG folder holds?

    build/convert_cifar10 FOLDER BINDIR        # FOLDER: train/<class>/*.jpg and test/<class>/*.jpg
    /usr/bin/python3 bench/check_cifar_conversion.py --folder FOLDER --binary BINDIR

Decodes every JPEG file with Pillow (an independent decoder: glimpse uses stb_image) and compares
it with its record in the binary files (1 label byte, then 1024 R, 1024 G, 1024 B bytes, rows top
to bottom). Label L is the class folder named on line L (from 0) of BINDIR/batches.meta.txt,
which convert_cifar10 writes; records of one class are expected in the folder's file-name order.
Two good JPEG decoders differ by a few grey levels (their inverse DCT and chroma up-sampling differ), so the
check fails only when an image differs by more than --tolerance levels anywhere, which a wrong
orientation, channel order, label or record order would do by tens of levels. Exits 1 then.
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image

SPLITS = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}


def read_class_names(binary_dir):
    with open(os.path.join(binary_dir, "batches.meta.txt")) as meta:
        return [line.strip() for line in meta if line.strip()]


def read_records(binary_dir, names):
    parts = [np.fromfile(os.path.join(binary_dir, name), dtype=np.uint8) for name in names]
    data = np.concatenate(parts)
    if data.size % 3073:
        sys.exit(f"{binary_dir}: {data.size} bytes is not a whole number of 3073-byte records")
    return data.reshape(-1, 3073)


def check_split(folder, binary_dir, split, class_names, tolerance):
    records = read_records(binary_dir, SPLITS[split])
    rows_of_class = {label: list(np.flatnonzero(records[:, 0] == label)) for label in range(len(class_names))}
    total_mean, worst, count = 0.0, 0, 0
    for label, name in enumerate(class_names):
        files = sorted(os.listdir(os.path.join(folder, split, name)))
        if len(files) != len(rows_of_class[label]):
            sys.exit(f"{split}/{name}: {len(files)} files but {len(rows_of_class[label])} records with label {label}")
        for file, row in zip(files, rows_of_class[label]):
            decoded = np.asarray(Image.open(os.path.join(folder, split, name, file)).convert("RGB"), dtype=np.int16)
            stored = records[row, 1:].reshape(3, 32, 32).transpose(1, 2, 0).astype(np.int16)
            difference = np.abs(decoded - stored)
            if difference.max() > tolerance:
                print(f"{split}/{name}/{file}: differs from record {row} by up to {difference.max()} levels")
                return False
            total_mean += difference.mean()
            worst = max(worst, int(difference.max()))
            count += 1
    print(f"{split}: {count} images, mean |Pillow - record| {total_mean / count:.3f} levels, largest {worst}")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", required=True, help="the image folder (train/ and test/)")
    parser.add_argument("--binary", required=True, help="the directory of data_batch_N.bin and test_batch.bin")
    parser.add_argument("--tolerance", type=int, default=8, help="largest difference allowed, in grey levels")
    args = parser.parse_args()
    class_names = read_class_names(args.binary)
    # a list, not a generator: both splits are checked and reported even when the first differs
    same = all([check_split(args.folder, args.binary, split, class_names, args.tolerance) for split in ("test", "train")])
    print("conversion: same" if same else "conversion: DIFFERS")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
