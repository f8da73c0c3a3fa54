#!/usr/bin/python3
"""stn_mnist trained by PyTorch on the very digits train_stn trains and tests on, with train_stn's
recipe, to tell the engine from the model: if PyTorch ends where `train_stn` does, what separates
both from a target is the model and recipe of MODELS.md, not glimpse.

    /usr/bin/python3 bench/train_stn_torch.py --mnist DIR --dataset rts --epochs 60 --redraw \\
        --ema 0.9999 --threads 1 --save runs/torch_stn.pt --log runs/torch_stn.csv

DIR holds the four MNIST idx files. The digits come from glimpse itself: before each epoch,
`build/write_stn_digits` writes the training digits that epoch of a train_stn run with the same
--dataset, --seed and --redraw sees (each epoch its own draw under --redraw), and the test digits
every train_stn run is scored on; the inputs are normalised with the pixel mean and standard
deviation train_stn prints (those of the first draw). The recipe is train_stn's with
`--optimizer adam`: MODELS.md's stn_mnist and initialisation (bench/pytorch_reference.py); Adam
(betas 0.9, 0.999, eps 1e-8, no weight decay); batch 64, the last partial batch a step, the order
shuffled every epoch; lr --lr with a cosine to 0 over the run, set before every step; the
gradient's global norm clipped at 1; with --ema D the weights averaged after every step,
a <- d a + (1 - d) w with d = min(D, (1 + t) / (10 + t)), and the averaged weights the ones
reported (optim/ema.h). After each epoch: test accuracy (averaged and trained weights), a CSV row
in train_stn's columns (--log) and an atomic checkpoint (--save), from which a rerun of the same
command resumes (each epoch's order and dropout masks come from the seed and the epoch). The last
line is train_stn's: `final test_acc=<fraction> epochs=<n> seconds=<s>`.
PyTorch's random streams (initialisation, shuffling, dropout) are its own, so a run here and a
train_stn run are two seeds of one recipe on the same images.

Run with Debian's /usr/bin/python3 (python3-torch, PyTorch 1.13, CPU). Not part of ctest.
"""
import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ left in bench/
from pytorch_reference import STN, init_weights, requested_threads  # noqa: E402  (sets OPENBLAS_NUM_THREADS)
from torch_training import evaluate, report_epoch, resume_or_start, save_atomically  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def read_idx(path, magic, dims):
    """An uncompressed idx file -> a uint8 tensor of the shape its header gives."""
    with open(path, "rb") as f:
        data = f.read()
    header = 4 + 4 * dims
    if len(data) < header or int.from_bytes(data[:4], "big") != magic:
        sys.exit(f"{path}: not an idx file with magic {magic:#010x}")
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    if len(data) != header + math.prod(shape):
        sys.exit(f"{path}: {len(data)} bytes, the header announces {header + math.prod(shape)}")
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8).reshape(shape)


def read_digits(folder, prefix):
    """(images uint8 (N, 1, S, S), labels int64 (N,)) of folder/<prefix>-images/-labels."""
    images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), 0x00000803, 3)
    labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), 0x00000801, 1)
    if len(images) != len(labels):
        sys.exit(f"{folder}: {len(images)} {prefix} images but {len(labels)} labels")
    return images.unsqueeze(1), labels.long()


def write_digits(args, epoch, folder):
    """Has write_stn_digits write the training digits of `epoch` (1-based) and the test digits into
    folder; returns the pixel mean and standard deviation train_stn normalises with."""
    command = [args.write_stn_digits, "--dataset", args.dataset, "--data", args.mnist, "--seed", str(args.seed),
               "--out", folder, "--epoch", str(epoch)] + (["--redraw"] if args.redraw else [])
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    found = re.search(r"pixel mean ([0-9.]+), std ([0-9.]+)", result.stdout)
    if not found:
        sys.exit(f"{' '.join(command)}: no pixel mean and std in its output:\n{result.stdout}")
    return float(found.group(1)), float(found.group(2))


def lr_at(step, peak, total):
    """Half a cosine from `peak` to 0 over the run (optim/schedule.h, no warm-up)."""
    return peak * (1 + math.cos(math.pi * min(step, total) / total)) / 2


class Average:
    """optim/ema.h: a <- d a + (1 - d) w after update t = 1, 2, ..., d = min(decay, (1 + t) / (10 + t))."""

    def __init__(self, model, decay):
        self.decay, self.updates = decay, 0
        self.averages = [p.detach().clone() for p in model.state_dict().values()]

    def update(self, model):
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        with torch.no_grad():
            for a, w in zip(self.averages, model.state_dict().values()):
                a.mul_(d).add_(w, alpha=1 - d)

    def swap(self, model):  # exchanges the weights and their averages
        with torch.no_grad():
            for a, w in zip(self.averages, model.state_dict().values()):
                kept = w.clone()
                w.copy_(a)
                a.copy_(kept)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", required=True, help="folder with the four MNIST idx files")
    parser.add_argument("--dataset", default="rts", choices=["rts", "mnist"])
    parser.add_argument("--write-stn-digits", default=os.path.join(HERE, "..", "build", "write_stn_digits"),
                        help="the write_stn_digits binary (bench/write_stn_digits.cpp) that writes the digits")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--redraw", action="store_true", help="fresh distortions every epoch, as train_stn's")
    parser.add_argument("--ema", type=float, default=0, help="average the weights with this decay (0: off)")
    parser.add_argument("--threads", type=int, default=int(requested_threads(sys.argv)))
    parser.add_argument("--save", default="", help="checkpoint after every epoch; resumed from if it exists")
    parser.add_argument("--log", default="", help="CSV of every epoch, train_stn's columns")
    args = parser.parse_args()
    if not 0 <= args.ema < 1:
        parser.error("--ema must be in [0, 1)")
    torch.set_num_threads(args.threads)
    folder = tempfile.mkdtemp(prefix="train_stn_torch.")
    try:
        train(args, folder)
    finally:
        shutil.rmtree(folder)


def train(args, folder):
    """The run, with the digits write_stn_digits writes into folder."""
    mean, std = write_digits(args, 1, folder)
    test_images, test_labels = read_digits(folder, "t10k")
    side = test_images.shape[-1]
    print(f"{args.dataset} digits ({side}x{side}) written by {args.write_stn_digits}: {len(test_labels)} test images; "
          f"pixel mean {mean:.4f}, std {std:.4f}; PyTorch {torch.__version__}, {torch.get_num_threads()} threads")

    def normalise(images):  # uint8 -> (x / 255 - mean) / std, train_stn's normalisation
        return (images.float() / 255 - mean) / std

    torch.manual_seed(args.seed)
    model = init_weights(STN(side))
    model.reset_theta()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    average = Average(model, args.ema) if args.ema > 0 else None
    run = {"epochs": args.epochs, "seed": args.seed, "dataset": args.dataset, "redraw": args.redraw, "ema": args.ema}
    state = resume_or_start(args.save, args.log, run, model, optimizer)
    first_epoch, train_seconds = (state["epoch"], state["train_seconds"]) if state else (0, 0.0)
    if state and average:
        average.averages, average.updates = state["averages"], state["updates"]

    test_acc = None
    for epoch in range(first_epoch, args.epochs):
        if epoch > 0:  # epoch 1's digits are in the folder already
            write_digits(args, epoch + 1, folder)
        train_images, train_labels = read_digits(folder, "train")
        n = len(train_labels)
        steps_per_epoch = math.ceil(n / args.batch)
        total_steps = args.epochs * steps_per_epoch
        torch.manual_seed(args.seed * 1_000_003 + epoch)  # the epoch's order and dropout: resumable
        order = torch.randperm(n)
        model.train()
        started = time.perf_counter()
        loss_sum, correct = 0.0, 0
        for b in range(steps_per_epoch):
            step = epoch * steps_per_epoch + b
            index = order[b * args.batch:(b + 1) * args.batch]
            x = normalise(train_images[index])
            y = train_labels[index]
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, args.lr, total_steps)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            if average:
                average.update(model)
            loss_sum += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
        seconds = time.perf_counter() - started
        train_seconds += seconds
        test_acc, test_loss = evaluate(model, test_images, test_labels, normalise)
        trained_acc = None
        if average:  # the averaged weights are the ones reported, the trained ones shown beside
            trained_acc = test_acc
            average.swap(model)
            test_acc, test_loss = evaluate(model, test_images, test_labels, normalise)
            average.swap(model)
        last_lr = lr_at((epoch + 1) * steps_per_epoch - 1, args.lr, total_steps)
        report_epoch(args.log, epoch + 1, steps_per_epoch, last_lr, (loss_sum, correct, n), (test_acc, test_loss),
                     seconds, trained_acc)
        if args.save:
            state = {**run, "model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch + 1,
                     "train_seconds": train_seconds}
            if average:
                state.update(averages=average.averages, updates=average.updates)
            save_atomically(state, args.save)
    if test_acc is None:  # resumed after the last epoch: report where it stands
        if average:
            average.swap(model)
        test_acc, _ = evaluate(model, test_images, test_labels, normalise)
    print(f"final test_acc={test_acc:.4f} epochs={args.epochs} seconds={train_seconds:.1f}")


if __name__ == "__main__":
    main()
