#!/usr/bin/python3
"""The PyTorch half of the weights round trip of tests/test_evaluate.cpp.

    pytorch_round_trip.py MODEL WEIGHTS.npz INPUT.npz LOGITS.npz BACK.npz [MODEL WEIGHTS.npz ...]

For each model named (five arguments each: one process for the whole zoo, which imports torch
once), loads glimpse's weights (convert_weights' .npz) into the PyTorch twin of MODEL
(bench/pytorch_reference.py) by name, strictly (PyTorch fills in BatchNorm's num_batches_tracked,
which glimpse does not keep); writes the logits of the input's "x" in evaluation mode, and
the model's state_dict as numpy.savez writes it, for glimpse to import again.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import pytorch_reference  # noqa: E402


def round_trip(model_name, weights, inputs, logits_path, back_path):
    twin = "stn_mnist" if model_name.startswith("stn_mnist") else model_name   # glimpse's stn_mnist_<data>
    model = pytorch_reference.build(twin, argparse.Namespace(width=16, size=42 if model_name.endswith("rts") else 28))
    state = {k: torch.from_numpy(v) for k, v in np.load(weights).items()}
    model.load_state_dict(state)  # strict: raises, naming them, if a name is missing or left over
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(np.load(inputs)["x"]))
    np.savez(logits_path, logits=logits.numpy())
    np.savez(back_path, **{k: v.numpy() for k, v in model.state_dict().items()})


arguments = sys.argv[1:]
if not arguments or len(arguments) % 5 != 0:
    sys.exit("usage: pytorch_round_trip.py MODEL WEIGHTS.npz INPUT.npz LOGITS.npz BACK.npz [MODEL ...]")
for first in range(0, len(arguments), 5):
    round_trip(*arguments[first:first + 5])
