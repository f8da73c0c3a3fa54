#!/usr/bin/python3
"""resnet20 trained by PyTorch on the same CIFAR-10 files with train_cifar's recipe, to tell the
engine from the data: if PyTorch ends where `train_cifar --model resnet20` does, what separates
both from the paper's figure is not glimpse.

    /usr/bin/python3 bench/train_resnet20_torch.py --cifar DIR --epochs 50 --threads 2 \\
        --save runs/torch_resnet20.pt --log runs/torch_resnet20.csv

DIR holds data_batch_1..5.bin and test_batch.bin (the official binary files, or what
build/convert_cifar10 wrote from an image folder). The recipe is train_cifar's default, the one
bench/parity.py checks step by step: MODELS.md's resnet20 and initialisation
(bench/pytorch_reference.py); SGD, momentum 0.9, weight decay 5e-4 (L2 in the gradient, PyTorch's
weight_decay); batch 128, the last partial batch a step; lr 0.1, one epoch of linear warm-up, then
a cosine to 0, set before every step; a random 32x32 crop of the image padded with 4 black pixels,
a horizontal flip with probability 1/2, then the official mean and standard deviation. After each
epoch: test accuracy, a CSV row in train_cifar's columns (--log) and an atomic checkpoint (--save),
from which a rerun of the same command resumes. The last line is train_cifar's:
`final test_acc=<fraction> epochs=<n> seconds=<s>`.

Run with Debian's /usr/bin/python3 (python3-torch, PyTorch 1.13, CPU). Not part of ctest.
"""
import argparse
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ left in bench/
from pytorch_reference import ResNet20, init_weights, requested_threads  # noqa: E402  (sets OPENBLAS_NUM_THREADS)
from torch_training import evaluate, report_epoch, resume_or_start, save_atomically  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)  # io/dataset.h's cifar10_mean
STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)   # and cifar10_stddev
RECORD = 1 + 3 * 32 * 32  # label byte, then the red, green and blue planes


def read_cifar(paths):
    """The binary records of `paths` -> (images uint8 (N, 3, 32, 32), labels int64 (N,))."""
    data = bytearray()
    for path in paths:
        with open(path, "rb") as f:
            chunk = f.read()
        if len(chunk) == 0 or len(chunk) % RECORD != 0:
            sys.exit(f"{path}: {len(chunk)} bytes is not a whole number of {RECORD}-byte CIFAR-10 records")
        data += chunk
    records = torch.frombuffer(data, dtype=torch.uint8).reshape(-1, RECORD)
    labels = records[:, 0].long()
    if labels.max() > 9:
        sys.exit(f"{paths[0]}...: a label above 9")
    return records[:, 1:].reshape(-1, 3, 32, 32).clone(), labels


def normalise(images):  # uint8 (N, 3, 32, 32) -> float, per channel (x / 255 - mean) / std
    return (images.float() / 255 - MEAN) / STD


def augment(images, generator, padding=4):
    """Random crop of the image padded with black, then a random horizontal flip."""
    n = images.shape[0]
    padded = F.pad(images, (padding,) * 4, value=0)
    tops = torch.randint(0, 2 * padding + 1, (n,), generator=generator).tolist()
    lefts = torch.randint(0, 2 * padding + 1, (n,), generator=generator).tolist()
    flips = torch.rand(n, generator=generator) < 0.5
    crops = torch.stack([padded[i, :, t:t + 32, l:l + 32] for i, (t, l) in enumerate(zip(tops, lefts))])
    return torch.where(flips.view(-1, 1, 1, 1), crops.flip(-1), crops)


def lr_at(step, peak, warmup, total):
    """One warm-up epoch climbing to `peak`, then half a cosine to 0 (optim/schedule.h)."""
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * (1 + math.cos(math.pi * (step - warmup) / (total - warmup))) / 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cifar", required=True, help="folder with data_batch_1..5.bin and test_batch.bin")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=int(requested_threads(sys.argv)))
    parser.add_argument("--save", default="", help="checkpoint after every epoch; resumed from if it exists")
    parser.add_argument("--log", default="", help="CSV of every epoch, train_cifar's columns")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    train_images, train_labels = read_cifar([os.path.join(args.cifar, f"data_batch_{i}.bin") for i in range(1, 6)])
    test_images, test_labels = read_cifar([os.path.join(args.cifar, "test_batch.bin")])
    print(f"CIFAR-10 from {args.cifar}: {len(train_labels)} training, {len(test_labels)} test images; "
          f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")

    torch.manual_seed(args.seed)
    model = init_weights(ResNet20())
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    steps_per_epoch = math.ceil(len(train_labels) / args.batch)
    total_steps = args.epochs * steps_per_epoch
    run = {"epochs": args.epochs, "seed": args.seed}
    state = resume_or_start(args.save, args.log, run, model, optimizer)
    first_epoch, train_seconds = (state["epoch"], state["train_seconds"]) if state else (0, 0.0)

    test_acc = None
    for epoch in range(first_epoch, args.epochs):
        generator = torch.Generator().manual_seed(args.seed * 1_000_003 + epoch)  # resumable: per epoch
        order = torch.randperm(len(train_labels), generator=generator)
        model.train()
        started = time.perf_counter()
        loss_sum, correct = 0.0, 0
        for b in range(steps_per_epoch):
            step = epoch * steps_per_epoch + b
            index = order[b * args.batch:(b + 1) * args.batch]
            x = normalise(augment(train_images[index], generator))
            y = train_labels[index]
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, args.lr, steps_per_epoch, total_steps)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
        seconds = time.perf_counter() - started
        train_seconds += seconds
        test_acc, test_loss = evaluate(model, test_images, test_labels, normalise)
        last_lr = lr_at((epoch + 1) * steps_per_epoch - 1, args.lr, steps_per_epoch, total_steps)
        report_epoch(args.log, epoch + 1, steps_per_epoch, last_lr, (loss_sum, correct, len(train_labels)),
                     (test_acc, test_loss), seconds)
        if args.save:
            save_atomically({**run, "model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch + 1,
                             "train_seconds": train_seconds}, args.save)
    if test_acc is None:  # resumed after the last epoch: report where it stands
        test_acc, _ = evaluate(model, test_images, test_labels, normalise)
    print(f"final test_acc={test_acc:.4f} epochs={args.epochs} seconds={train_seconds:.1f}")


if __name__ == "__main__":
    main()
