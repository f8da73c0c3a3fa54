#!/usr/bin/python3
"""Does glimpse train a CIFAR-10 model of the zoo exactly as PyTorch does? A step-by-step parity check.

    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build --target parity_step
    /usr/bin/python3 bench/parity.py                      # all four checks, on resnet20
    /usr/bin/python3 bench/parity.py --only step --model cc_resnet20 --steps 3 --batch 16 --verbose
    /usr/bin/python3 bench/parity.py --cifar /path/to/cifar-10-batches-bin

Run it with Debian's /usr/bin/python3 (python3-torch, PyTorch 1.13, CPU). Not part of ctest: torch
is not a dependency of the tests. It checks four things, and exits 1 if any differs:

1. step: the model (--model, resnet20 by default; any CIFAR-10 model of bench/pytorch_reference.py)
   with the MODELS.md initialisation from a fixed seed, except that every parameter that starts at
   zero (a bias, a BN beta, and the residual scales and last layers of the attention blocks that
   start as the identity) is drawn from N(0, 0.1^2) instead, so that no path of the step is
   multiplied by zero; its parameters and buffers and one fixed batch (random N(0, 1) images, random
   labels) go to glimpse (build/parity_step step, in glimpse's checkpoint format, under PyTorch's
   names, which are glimpse's). Both take K training steps on that batch in train mode with
   SGD(lr, momentum 0.9, weight_decay 5e-4) and mean cross-entropy. Per step it compares the loss,
   the logits, every parameter's gradient, every parameter after the update and the BN running
   mean / var; after the steps, the logits in eval mode. A difference is relative to the
   reference tensor's largest magnitude: max |glimpse - torch| / max |torch| (or 1% of the largest
   tensor of its kind in that step, for a tensor far below it: a gradient that is zero in exact
   arithmetic, as a key's bias under a softmax over the keys, is rounding noise on both sides). To tell float32
   rounding from a real difference, PyTorch also runs the same steps in float64, and the table
   shows how far PyTorch's own float32 run is from it beside glimpse's.
2. schedule: train_cifar's learning rate at every step of the 50-epoch recipe (build/parity_step
   schedule) against the recipe (lr 0.1, one epoch of linear warm-up, then cosine to 0) written
   out here and as PyTorch's LinearLR + CosineAnnealingLR in a SequentialLR.
3. data: CIFAR-10 training images through train_cifar's loaders (build/parity_step data): each
   augmented image must be one of PyTorch's standard pipeline's outputs (pad the raw image with
   4 zero bytes, crop 32x32, maybe flip, ToTensor, Normalize(mean, std)), and the offsets and
   flips must look uniform; the test loader's images must be Normalize(ToTensor(raw)). The mean and
   std glimpse normalises with must be the official figures; the data set's own figures are
   printed, and a note says when they are not the official pixels' (the JPEG rendering is not).
4. init: glimpse's own resnet20 initialisation (parity_step init), tensor by tensor, against
   MODELS.md: conv N(0, 2/fan_out), linear U(+-1/sqrt(fan_in)), BN 1 / 0, running 0 / 1.

Step check (1) in numbers: free-running, float32 runs of glimpse and PyTorch part ways after the
first ReLU input that falls within rounding of 0 (a 1e-2 jump in the gradients upstream of it,
PyTorch's own float32 run does the same against float64); step by step they agree to ~1e-7 in
everything but gradients and ~5e-6 in gradients, on every batch free of such a flip.
"""
import argparse
import math
import os
import struct
import subprocess
import sys
import tempfile
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
if "--threads" not in sys.argv:
    sys.argv += ["--threads", "1"]  # pytorch_reference reads it before importing torch
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ left in bench/
from pytorch_reference import MODELS, ResNet20, build, init_weights  # noqa: E402  (sets OPENBLAS_NUM_THREADS)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

TOLERANCE = 1e-4  # relative: a float32 run of 20 layers stays well below it


# ---- glimpse's checkpoint format (io/checkpoint.h, version 1) ----

def fnv1a64(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def write_checkpoint(path, tensors, metadata):
    def text(s):
        b = s.encode()
        return struct.pack("<I", len(b)) + b

    body = bytearray()
    body += struct.pack("<I", len(metadata))
    for key, value in metadata.items():
        body += text(key) + text(str(value))
    body += struct.pack("<I", len(tensors))
    for name, t in tensors.items():
        t = t.detach().to(torch.float32).contiguous()
        body += text(name) + struct.pack("<I", t.dim()) + struct.pack(f"<{t.dim()}q", *t.shape)
        body += t.numpy().astype("<f4").tobytes()
    head = b"GLIMPSEC" + struct.pack("<I", 1)
    size = len(head) + 8 + len(body) + 8
    data = head + struct.pack("<Q", size) + bytes(body)
    with open(path, "wb") as f:
        f.write(data + struct.pack("<Q", fnv1a64(data)))


def read_checkpoint(path):
    """-> {name: float32 tensor}; the checksum is left to glimpse's own tests."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"GLIMPSEC" or struct.unpack_from("<Q", data, 12)[0] != len(data):
        raise SystemExit(f"{path}: not a complete glimpse checkpoint")
    at = 20

    def u32():
        nonlocal at
        at += 4
        return struct.unpack_from("<I", data, at - 4)[0]

    def text():
        nonlocal at
        n = u32()
        at += n
        return data[at - n:at].decode()

    for _ in range(u32()):
        text(), text()
    tensors = {}
    for _ in range(u32()):
        name = text()
        ndim = u32()
        shape = struct.unpack_from(f"<{ndim}q", data, at)
        at += 8 * ndim
        numel = math.prod(shape)
        tensors[name] = torch.frombuffer(bytearray(data[at:at + 4 * numel]), dtype=torch.float32).reshape(shape)
        at += 4 * numel
    return tensors


def run_glimpse(args, *command):
    result = subprocess.run([args.glimpse, *map(str, command)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{args.glimpse} {' '.join(map(str, command))} failed:\n{result.stderr}")
    return result.stdout


# ---- 1. training steps ----

def new_model(name, state, dtype):
    """The model `name` in train mode with the given parameters and buffers (num_batches_tracked aside)."""
    model = MODELS[name][0](None).to(dtype)
    missing, unexpected = model.load_state_dict({n: t.to(dtype) for n, t in state.items()}, strict=False)
    missing = [n for n in missing if not n.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"{name}: the state does not fit the model: missing {missing}, unexpected {unexpected}")
    return model.train()


def named_buffers(model):
    return {n: b for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")}


def torch_steps(name, state, x, y, steps, dtype, hyper):
    """The same steps in PyTorch, each from the last: -> {quantity: tensor}, named as parity_step does."""
    model = new_model(name, state, dtype)
    x = x.to(dtype)
    optimizer = torch.optim.SGD(model.parameters(), **hyper)
    params = dict(model.named_parameters())
    out = {}
    for s in range(steps):
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        out[f"{s}.loss"] = loss.detach().reshape(())
        out[f"{s}.logits"] = logits.detach()
        out.update({f"{s}.grad.{n}": p.grad.clone() for n, p in params.items()})
        optimizer.step()
        out.update({f"{s}.param.{n}": p.detach().clone() for n, p in params.items()})
        out.update({f"{s}.buffer.{n}": b.clone() for n, b in named_buffers(model).items()})
        out.update({f"{s}.momentum.{n}": optimizer.state[p]["momentum_buffer"].clone() for n, p in params.items()})
    model.eval()
    with torch.no_grad():
        out["eval.logits"] = model(x)
    return out


def torch_steps_forced(name, state, glimpse, x, y, steps, dtype, hyper):
    """Each step in PyTorch from where glimpse stood before it (parameters, BN statistics, momentum),
    and its update from glimpse's gradients: every quantity is then the work of one step, one stage,
    with no difference carried over from an earlier one."""
    x = x.to(dtype)
    out = {}
    for s in range(steps + 1):
        if s > 0:
            state = {n[len(f"{s - 1}.param."):]: t for n, t in glimpse.items() if n.startswith(f"{s - 1}.param.")}
            state.update({n[len(f"{s - 1}.buffer."):]: t for n, t in glimpse.items() if n.startswith(f"{s - 1}.buffer.")})
        model = new_model(name, state, dtype)
        if s == steps:
            model.eval()
            with torch.no_grad():
                out["eval.logits"] = model(x)
            break
        params = dict(model.named_parameters())
        optimizer = torch.optim.SGD(model.parameters(), **hyper)
        if s > 0:
            for n, p in params.items():
                optimizer.state[p]["momentum_buffer"] = glimpse[f"{s - 1}.momentum.{n}"].to(dtype).clone()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        out[f"{s}.loss"] = loss.detach().reshape(())
        out[f"{s}.logits"] = logits.detach()
        out.update({f"{s}.grad.{n}": p.grad.clone() for n, p in params.items()})
        out.update({f"{s}.buffer.{n}": b.clone() for n, b in named_buffers(model).items()})
        for n, p in params.items():
            p.grad = glimpse[f"{s}.grad.{n}"].to(dtype).clone()
        optimizer.step()
        out.update({f"{s}.param.{n}": p.detach().clone() for n, p in params.items()})
        out.update({f"{s}.momentum.{n}": optimizer.state[p]["momentum_buffer"].clone() for n, p in params.items()})
    return out


def difference(a, b, floor=0.0):
    """max |a - b| / max(max |b|, floor), in float64."""
    a, b = a.double().reshape(b.shape), b.double()
    return (a - b).abs().max().item() / max(b.abs().max().item(), floor, 1e-30) if b.numel() else 0.0


KINDS = ("loss", "logits", "grad", "param", "buffer", "momentum")


def quantity_groups(names, steps):
    """The quantities in the order a step produces them: [(label, [names])]."""
    groups = []
    for s in range(steps):
        for kind in KINDS:
            prefix = f"{s}.{kind}"
            groups.append((f"step {s} {kind}", [n for n in names if n == prefix or n.startswith(prefix + ".")]))
    groups.append(("eval logits", ["eval.logits"]))
    return groups


def worst(names, a, b):
    """(largest relative difference over the tensors `names`, the tensor that has it).
    A tensor far smaller than the largest of its kind is measured against 1% of that largest: a
    gradient that is zero in exact arithmetic (the bias of a key under a softmax over the keys, a
    bias that a BN subtracts again) is rounding noise on both sides, not a quantity to match."""
    floor = 1e-2 * max((b[n].double().abs().max().item() for n in names if b[n].numel()), default=0.0)
    return max(((difference(a[n], b[n], floor), n) for n in names), default=(0.0, ""))


def one_batch(args, seed, workdir):
    """Glimpse's steps, and PyTorch's free and forced ones, on the batch of `seed`."""
    torch.manual_seed(seed)
    model = build(args.model, args)
    with torch.no_grad():
        for p in model.parameters():
            if not p.any():                                 # starts at zero: give its path a value
                p.normal_(0, 0.1)
    state = {n: t.detach().clone() for n, t in model.state_dict().items() if not n.endswith("num_batches_tracked")}
    x = torch.randn(args.batch, 3, 32, 32)
    y = torch.randint(0, 10, (args.batch,))
    in_path, out_path = os.path.join(workdir, "in.ckpt"), os.path.join(workdir, "out.ckpt")
    hyper = dict(lr=args.lr, momentum=0.9, weight_decay=5e-4)
    write_checkpoint(in_path, {**state, "input.images": x, "input.labels": y.float()},
                     {"model": args.model, "steps": args.steps, **hyper})
    run_glimpse(args, "step", in_path, out_path)
    glimpse = read_checkpoint(out_path)
    runs = {"glimpse": glimpse}
    for dtype, tag in ((torch.float32, "32"), (torch.float64, "64")):
        runs["free" + tag] = torch_steps(args.model, state, x, y, args.steps, dtype, hyper)
        runs["forced" + tag] = torch_steps_forced(args.model, state, glimpse, x, y, args.steps, dtype, hyper)
    return runs


def check_steps(args, workdir):
    seeds = list(range(args.seed, args.seed + args.batches))
    print(f"== 1. {args.steps} training steps of {args.model} on one batch of {args.batch}, for {len(seeds)} batches "
          f"(seeds {seeds[0]}..{seeds[-1]}); SGD lr {args.lr}, momentum 0.9, weight decay 5e-4, mean cross-entropy")
    batches = [one_batch(args, seed, workdir) for seed in seeds]
    names = list(batches[0]["free32"])
    missing = sorted(set(names) ^ set(batches[0]["glimpse"]))
    if missing:
        print(f"   names that only one side has: {missing[:10]}{' ...' if len(missing) > 10 else ''}")
        return False
    groups = quantity_groups(names, args.steps)

    print(f"   relative difference = max |a - b| / max |b| over a tensor, the worst tensor of each kind.")
    print(f"   (a) free-running, batch of seed {seeds[0]}: glimpse and PyTorch each take the {args.steps} steps "
          f"on their own. A ReLU input within float32 rounding of 0 takes\n"
          f"       the other side of the kink in one run and not the other, so gradients upstream of it differ "
          f"by ~1e-2; the float64 column shows where PyTorch's own float32 run does so.")
    print(f"   {'quantity':18s} {'glimpse-torch32':>16s}  {'worst tensor':34s} {'glimpse-torch64':>16s} {'torch32-torch64':>16s}")
    b = batches[0]
    for label, group in groups:
        d32, name = worst(group, b["glimpse"], b["free32"])
        d64, _ = worst(group, b["glimpse"], b["free64"])
        t64, _ = worst(group, b["free32"], b["free64"])
        print(f"   {label:18s} {d32:16.2e}  {name.split('.', 2)[-1] if len(group) > 1 else '':34.34s} {d64:16.2e} {t64:16.2e}")
    print(f"   loss per step: glimpse {[round(b['glimpse'][f'{s}.loss'].item(), 6) for s in range(args.steps)]}, "
          f"torch {[round(b['free32'][f'{s}.loss'].item(), 6) for s in range(args.steps)]}")

    print(f"   (b) step by step: PyTorch starts each step from glimpse's parameters, BN statistics and momentum, "
          f"and updates with glimpse's gradients,\n"
          f"       so each quantity is one stage of one step. Over the {len(seeds)} batches: the smallest and the "
          f"largest difference (a kink flip hits some batches, a real\n"
          f"       difference all of them). A batch agrees on a quantity when glimpse is within {TOLERANCE:g} of PyTorch's "
          f"float32 run, or no farther\n"
          f"       from the float64 run than 3x PyTorch's own float32 run is (the kink flips of deep nets with "
          f"attention); 'differs' when no batch agrees.")
    print(f"   {'quantity':18s} {'min over batches':>16s} {'max over batches':>16s}  {'worst tensor (min batch)':34s} "
          f"{'glimpse-torch64':>16s} {'torch32-torch64':>16s}")
    first_bad = None
    for label, group in groups:
        per_batch = [worst(group, b["glimpse"], b["forced32"]) for b in batches]
        to64 = [worst(group, b["glimpse"], b["forced64"])[0] for b in batches]
        own = [worst(group, b["forced32"], b["forced64"])[0] for b in batches]
        agrees = [d[0] <= TOLERANCE or d64 <= 3 * t64 for d, d64, t64 in zip(per_batch, to64, own)]
        best = min(per_batch)
        largest = max(per_batch)[0]
        flag = "" if any(agrees) else "  <-- differs"
        print(f"   {label:18s} {best[0]:16.2e} {largest:16.2e}  {best[1].split('.', 2)[-1] if len(group) > 1 else '':34.34s} "
              f"{min(to64):16.2e} {max(own):16.2e}{flag}")
        if args.verbose and len(group) > 1:
            for n in group:
                print(f"       {n:48s} " + " ".join(f"{difference(b['glimpse'][n], b['forced32'][n]):9.2e}" for b in batches))
        if flag and first_bad is None:
            first_bad = (label, best)
    if first_bad:
        label, (rel, name) = first_bad
        print(f"   FIRST DIFFERENCE: {label}: {name}, relative {rel:.3e} in every batch")
        return False
    print("   every quantity agrees in at least one batch, most in all")
    return True


# ---- 2. learning-rate schedule ----

def check_schedule(args):
    epochs, batch, train_size, warmup_epochs, lr = 50, 128, 50000, 1, 0.1
    print(f"== 2. learning rate of train_cifar's recipe: {epochs} epochs of {train_size} images, batch {batch}, "
          f"lr {lr}, {warmup_epochs} warm-up epoch then cosine")
    lines = run_glimpse(args, "schedule", epochs, batch, train_size, warmup_epochs, lr).split()
    glimpse = [float(v) for v in lines[1::2]]
    steps_per_epoch = math.ceil(train_size / batch)  # the last partial batch is a step too
    total = epochs * steps_per_epoch
    warmup = warmup_epochs * steps_per_epoch
    formula = [lr * (s + 1) / warmup if s < warmup else lr * (1 + math.cos(math.pi * (s - warmup) / (total - warmup))) / 2
               for s in range(total)]
    # PyTorch's schedulers, stepped once per batch: LinearLR from lr/warmup to lr, then the cosine
    warnings.filterwarnings("ignore", "The epoch parameter", UserWarning)  # SequentialLR's own call, 1.13
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, [
        torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / warmup, end_factor=1, total_iters=warmup - 1),
        torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - warmup)], milestones=[warmup])
    pytorch = []
    for _ in range(total):
        pytorch.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    ok = len(glimpse) == total
    print(f"   steps: glimpse {len(glimpse)}, recipe {total} ({steps_per_epoch} per epoch, {warmup} warm-up)")
    if not ok:
        return False
    d_formula = max(abs(a - b) for a, b in zip(glimpse, formula))
    d_pytorch = max(abs(a - b) for a, b in zip(glimpse, pytorch))
    print(f"   max |glimpse - recipe| {d_formula:.2e}, max |glimpse - PyTorch schedulers| {d_pytorch:.2e}")
    for s in [0, 1, 2, warmup - 1, warmup, warmup + 1, total // 2, total - 2, total - 1]:
        print(f"   step {s:6d}: glimpse {glimpse[s]:.9f}  recipe {formula[s]:.9f}  PyTorch {pytorch[s]:.9f}")
    return d_formula < 1e-7 * lr * 10 and d_pytorch < 1e-6


# ---- 4. initialisation ----

def check_init(args, workdir):
    """glimpse's own initialisation against MODELS.md: every tensor's mean, std and range."""
    print("== 4. glimpse's initialisation of resnet20 (Rng(1), as train_cifar --seed 1) against MODELS.md")
    path = os.path.join(workdir, "init.ckpt")
    run_glimpse(args, "init", path, 1)
    ok = True
    for name, t in read_checkpoint(path).items():
        t = t.double()
        if name.endswith("running_mean") or name.endswith("bn1.bias") or name.endswith("bn2.bias") or \
                name.endswith("shortcut.1.bias"):
            expected, good = "0", bool((t == 0).all())
        elif name.endswith("running_var") or name.endswith("bn1.weight") or name.endswith("bn2.weight") or \
                name.endswith("shortcut.1.weight"):
            expected, good = "1", bool((t == 1).all())
        elif name.startswith("fc."):
            bound = 1 / math.sqrt(64)    # U(-1/sqrt(fan_in), +1/sqrt(fan_in)), fan_in = 64
            std = bound / math.sqrt(3)
            good = t.abs().max() <= bound and abs(t.std().item() - std) < 5 * std / math.sqrt(2 * t.numel()) + \
                (0.2 * std if t.numel() < 100 else 0) and abs(t.mean().item()) < 5 * std / math.sqrt(t.numel())
            expected = f"U(+-{bound:.4f}), std {std:.4f}"
        else:                            # conv: N(0, 2 / fan_out), fan_out = K * KH * KW
            std = math.sqrt(2 / (t.shape[0] * t.shape[2] * t.shape[3]))
            good = abs(t.std().item() - std) < 5 * std / math.sqrt(2 * t.numel()) and \
                abs(t.mean().item()) < 5 * std / math.sqrt(t.numel())
            expected = f"N(0, {std:.4f}^2)"
        if args.verbose or not good:
            print(f"   {name:36s} mean {t.mean().item():+.4f} std {t.std().item() if t.numel() > 1 else 0:.4f} "
                  f"max|.| {t.abs().max().item():.4f}  expected {expected}{'' if good else '  <-- differs'}")
        ok = ok and bool(good)
    print(f"   {'every tensor is drawn as MODELS.md says' if ok else 'some tensors differ'}")
    return ok


# ---- 3. data path ----

def augmented_candidates(raw, mean, std, padding=4):
    """Every output of PyTorch's standard pipeline for one raw (3, 32, 32) byte image:
    RandomCrop(32, padding=4) (zero bytes), RandomHorizontalFlip, ToTensor, Normalize.
    -> (tensor (2 * 9 * 9, 3, 32, 32), [(dy, dx, flip)]) with dy, dx the crop's offset - padding."""
    padded = F.pad(raw, (padding,) * 4, value=0)
    images, keys = [], []
    for flip in (False, True):
        for top in range(2 * padding + 1):
            for left in range(2 * padding + 1):
                crop = padded[:, top:top + 32, left:left + 32]
                images.append(crop.flip(-1) if flip else crop)
                keys.append((top - padding, left - padding, flip))
    images = torch.stack(images) / 255
    return (images - mean[:, None, None]) / std[:, None, None], keys


def cifar_mean_std(directory):
    files = [os.path.join(directory, f"data_batch_{i}.bin") for i in range(1, 6)]
    if not all(os.path.exists(f) for f in files):
        return None
    data = b"".join(open(f, "rb").read() for f in files)
    records = torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(-1, 3073)
    pixels = records[:, 1:].reshape(-1, 3, 1024).double() / 255
    return pixels.mean((0, 2)), pixels.permute(1, 0, 2).reshape(3, -1).std(1, unbiased=False), len(records)


def check_data(args, workdir):
    print(f"== 3. data path: the first {args.images} training images of {args.cifar} through train_cifar's loaders")
    path = os.path.join(workdir, "data.ckpt")
    run_glimpse(args, "data", path, args.cifar, args.images)
    d = read_checkpoint(path)
    raw, mean, std = d["raw"], d["mean"].double(), d["stddev"].double()
    ok = True

    # the training loader: which crop and flip of PyTorch's pipeline is each image?
    counts_dy, counts_dx, flips, worst, unmatched = [0] * 9, [0] * 9, 0, 0.0, 0
    pad_value_seen = None
    index = d["train.index"].long()
    if sorted(index.tolist()) != list(range(len(raw))):
        print("   the training epoch does not hold every image once")
        ok = False
    for image, i in zip(d["train.images"].double(), index):
        candidates, keys = augmented_candidates(raw[i].double(), mean, std)
        errors = (candidates - image).abs().flatten(1).max(1).values
        best = errors.argmin().item()
        worst = max(worst, errors[best].item())
        if errors[best].item() > 1e-5:
            unmatched += 1
            continue
        dy, dx, flip = keys[best]
        counts_dy[dy + 4] += 1
        counts_dx[dx + 4] += 1
        flips += flip
        if pad_value_seen is None and dy != 0:
            pad_value_seen = image[:, 0 if dy < 0 else -1, 16]   # a row of the padding
    n = len(index)
    print(f"   train: {n - unmatched}/{n} images are exactly a PyTorch crop+flip+normalise of their source "
          f"(max abs difference {worst:.1e})")
    if unmatched:
        ok = False
        # would it match if the padding were added after normalisation (0 in normalised units)?
        print(f"   {unmatched} images match none of PyTorch's outputs")
    if pad_value_seen is not None:
        print(f"   a padding pixel reads {[round(v, 4) for v in pad_value_seen.tolist()]}: "
              f"-mean/std = {[round(v, 4) for v in (-mean / std).tolist()]}, i.e. the raw image is padded with 0 "
              f"before normalisation, as PyTorch's pipeline does")
    expected = n / 9
    chi_dy = sum((c - expected) ** 2 / expected for c in counts_dy)
    chi_dx = sum((c - expected) ** 2 / expected for c in counts_dx)
    print(f"   crop offsets dy -4..4: {counts_dy} (chi^2 {chi_dy:.1f}, 8 dof; 99.9% bound 26.1)")
    print(f"   crop offsets dx -4..4: {counts_dx} (chi^2 {chi_dx:.1f})")
    print(f"   flipped: {flips}/{n - unmatched} = {flips / max(1, n - unmatched):.3f}")
    if chi_dy > 26.1 or chi_dx > 26.1 or abs(flips / max(1, n - unmatched) - 0.5) > 4 * 0.5 / math.sqrt(n):
        print("   the offsets or flips do not look uniform")
        ok = False

    # the test loader: no augmentation, in order
    test = d["test.images"].double()
    expected_test = (raw.double() / 255 - mean[:, None, None]) / std[:, None, None]
    in_order = d["test.index"].long().tolist() == list(range(len(raw)))
    test_diff = (test - expected_test).abs().max().item()
    print(f"   test: in order {in_order}, max |glimpse - Normalize(ToTensor(raw))| {test_diff:.1e}")
    ok = ok and in_order and test_diff < 1e-5

    # the official training set's per-channel figures (over all 50,000 x 1024 pixels, population std)
    official_mean = torch.tensor([0.49139968, 0.48215827, 0.44653124], dtype=torch.float64)
    official_std = torch.tensor([0.24703233, 0.24348505, 0.26158768], dtype=torch.float64)
    stat_diff = max((official_mean - mean).abs().max().item(), (official_std - std).abs().max().item())
    print(f"   glimpse's cifar10_mean {[round(v, 4) for v in mean.tolist()]}, cifar10_stddev "
          f"{[round(v, 4) for v in std.tolist()]}: max |. - official CIFAR-10 figure| {stat_diff:.1e}")
    ok = ok and stat_diff < 1e-4
    stats = cifar_mean_std(args.cifar)
    if stats:
        data_mean, data_std, count = stats
        data_diff = max((official_mean - data_mean).abs().max().item(), (official_std - data_std).abs().max().item())
        print(f"   the training set in {args.cifar} ({count} images): mean {[round(v, 4) for v in data_mean.tolist()]}, "
              f"std {[round(v, 4) for v in data_std.tolist()]}")
        if data_diff > 1e-4:
            print(f"   NOTE: {data_diff:.1e} from the official figures: these are not the official pixels "
                  f"(a lossy copy, such as a JPEG rendering?); not a difference of glimpse's")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--glimpse", default=os.path.join(HERE, "..", "build", "parity_step"),
                        help="the parity_step executable")
    parser.add_argument("--only", choices=["step", "schedule", "data", "init"], help="run one check")
    same_names = ["resnet20", "se_resnet20", "cbam_resnet20", "eca_resnet20", "gc_resnet20", "nl_resnet20",
                  "da_resnet20", "cc_resnet20", "aa_resnet20"]  # whose PyTorch twin names its tensors as glimpse does
    parser.add_argument("--model", default="resnet20", choices=same_names, help="the model of the step check")
    parser.add_argument("--steps", type=int, default=3, help="training steps compared")
    parser.add_argument("--batch", type=int, default=16, help="images in the batch")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0, help="seed of the first batch (and initialisation)")
    parser.add_argument("--batches", type=int, default=5, help="batches (seeds) of the step-by-step check")
    default_cifar = "/work/data/cifar10-bin" if os.path.isdir("/work/data/cifar10-bin") else \
        os.path.join(HERE, "..", "data", "sample", "cifar10")
    parser.add_argument("--cifar", default=default_cifar, help="CIFAR-10 directory for the data check")
    parser.add_argument("--images", type=int, default=2048, help="images in the data check")
    parser.add_argument("--verbose", action="store_true", help="every tensor's difference, name by name")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        if args.only in (None, "step"):
            results["step"] = check_steps(args, workdir)
        if args.only in (None, "schedule"):
            results["schedule"] = check_schedule(args)
        if args.only in (None, "data"):
            results["data"] = check_data(args, workdir)
        if args.only in (None, "init"):
            results["init"] = check_init(args, workdir)
    print("== " + ", ".join(f"{k}: {'same' if v else 'DIFFERS'}" for k, v in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
