#!/usr/bin/python3
"""The model zoo of docs/MODELS.md in PyTorch, and a timer of one training step.

glimpse's bench/bench_step times the same step on the same models; bench/compare.sh runs both.
Every model here is written to have exactly the architecture, biases and initialisation that
MODELS.md fixes, so that its parameter count equals glimpse's (`--list` prints them).

    /usr/bin/python3 bench/pytorch_reference.py --model resnet20 --threads 2
    /usr/bin/python3 bench/pytorch_reference.py --list
    /usr/bin/python3 bench/pytorch_reference.py --model resnet20 --threads 1 --steps 5 --profile   # where the step goes

One step = forward, loss, backward, SGD (momentum 0.9) update, on one random batch drawn once
from a fixed seed. dasnet is the exception: its CNN is frozen and its policy is trained by SNES,
so its step is the gated inference of MODELS.md (5 passes, no gradient). The script prints one
JSON line: the median, 10th and 90th percentile of the step time over --steps timed steps (after
--warmup untimed ones), images per second at the median, peak RSS and the parameter count.

Run it with Debian's /usr/bin/python3 (python3-torch, PyTorch 1.13, CPU).
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time


def requested_threads(argv, default=2):
    """--threads T from the command line, read before torch is imported (see below)."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return str(default)


# Debian's PyTorch calls the system BLAS (OpenBLAS), whose own thread pool does not follow
# torch.set_num_threads: it reads OPENBLAS_NUM_THREADS once, when torch loads the library.
os.environ["OPENBLAS_NUM_THREADS"] = requested_threads(sys.argv)

import torch  # noqa: E402  (after the environment above)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


# ---- initialisation (MODELS.md, preamble and "Details that decide equality") ----

def init_weights(model):
    """Kaiming-normal (fan_out, ReLU) for convolutions, their biases 0; BN gamma 1, beta 0;
    linear layers keep PyTorch's default uniform (weight and bias in +-1/sqrt(fan_in))."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def conv(cin, cout, k, stride=1, padding=0, bias=False):
    """A k x k convolution. A convolution followed by BN has no bias (MODELS.md, "Biases")."""
    return nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=bias)


def no_gate(h):
    return h


# ---- mnist_cnn: the plain baseline (MODELS.md, "mnist_cnn") ----

class MnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = conv(1, 32, 5, padding=2, bias=True)   # not followed by BN: bias
        self.conv2 = conv(32, 64, 5, padding=2, bias=True)
        self.fc1 = nn.Linear(64 * 7 * 7, 512)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(512, 10)

    def forward(self, x):                                   # x: (N, 1, 28, 28)
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)          # (N, 32, 14, 14)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)          # (N, 64, 7, 7)
        h = self.dropout(F.relu(self.fc1(h.flatten(1))))    # (N, 512)
        return self.fc2(h)                                  # (N, 10) logits


# ---- resnet20 and its attention variants (MODELS.md, "resnet20", "se_resnet20", "cbam_resnet20") ----

class SEBlock(nn.Module):
    """Squeeze-and-Excitation, Hu et al. 2018, Fig. 2: s = sigmoid(W2 ReLU(W1 GAP(F))), F * s."""

    def __init__(self, C, r=16):
        super().__init__()
        hidden = max(1, C // r)
        self.fc1 = nn.Linear(C, hidden)                     # with biases (MODELS.md, "Biases")
        self.fc2 = nn.Linear(hidden, C)

    def forward(self, F_):                                  # F: (N, C, H, W)
        z = F_.mean((2, 3))                                 # squeeze: (N, C)
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(z))))    # excitation: (N, C)
        return F_ * s[:, :, None, None]


class ChannelAttention(nn.Module):
    """CBAM, Woo et al. 2018, Eq. (2): Mc(F) = sigmoid(MLP(AvgPool(F)) + MLP(MaxPool(F))), one MLP
    (fc1, ReLU, fc2) shared by both descriptors."""

    def __init__(self, C, r=16):
        super().__init__()
        hidden = max(1, C // r)
        self.fc1 = nn.Linear(C, hidden)
        self.fc2 = nn.Linear(hidden, C)

    def mlp(self, descriptor):
        return self.fc2(F.relu(self.fc1(descriptor)))

    def forward(self, F_):                                  # F: (N, C, H, W) -> Mc: (N, C, 1, 1)
        Mc = self.mlp(F_.mean((2, 3))) + self.mlp(F_.amax((2, 3)))
        return torch.sigmoid(Mc)[:, :, None, None]


class SpatialAttention(nn.Module):
    """CBAM, Eq. (3): Ms(F) = sigmoid(BN(conv7x7([AvgPool_c(F); MaxPool_c(F)])))."""

    def __init__(self):
        super().__init__()
        self.conv = conv(2, 1, 7, padding=3)                # no bias: followed by BN
        self.bn = nn.BatchNorm2d(1)

    def forward(self, F_):                                  # F: (N, C, H, W) -> Ms: (N, 1, H, W)
        pooled = torch.cat([F_.mean(1, keepdim=True), F_.amax(1, keepdim=True)], 1)  # [mean; max]
        return torch.sigmoid(self.bn(self.conv(pooled)))


class CBAM(nn.Module):
    """CBAM, Fig. 1, Eq. (1): F' = Mc(F) * F,  F'' = Ms(F') * F'."""

    def __init__(self, C):
        super().__init__()
        self.channel = ChannelAttention(C)
        self.spatial = SpatialAttention()

    def forward(self, F_):
        F1 = self.channel(F_) * F_
        return self.spatial(F1) * F1


class BasicBlock(nn.Module):
    """He et al. 2016, Fig. 2: relu(A(BN(conv(relu(BN(conv(x)))))) + shortcut(x)), A the optional
    attention on the residual branch; a shortcut that changes shape is conv1x1/s + BN (option B).
    `conv1` builds the first convolution (a 3x3 one unless given: aa_resnet20's).
    `gate` multiplies each raw convolution output before its BN (dasnet; identity otherwise)."""

    def __init__(self, cin, cout, stride, attention=None, conv1=None):
        super().__init__()
        self.conv1 = conv1(cin, cout, stride) if conv1 else conv(cin, cout, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv(cout, cout, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.attention = attention(cout) if attention else None
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(conv(cin, cout, 1, stride), nn.BatchNorm2d(cout))

    def forward(self, x, gate=no_gate):                     # x: (N, in, H, W)
        F_ = F.relu(self.bn1(gate(self.conv1(x))))          # (N, out, H/s, W/s)
        F_ = self.bn2(gate(self.conv2(F_)))                 # the residual F(x)
        if self.attention is not None:
            F_ = self.attention(F_)
        identity = x
        if self.shortcut is not None:
            projection, bn = self.shortcut
            identity = bn(gate(projection(x)))
        return F.relu(F_ + identity)


class ResNetStage(nn.Module):
    """Three BasicBlocks named "0", "1", "2" (as a Sequential names them), the first with the
    stage's stride, and optionally a module after the second block, named "non_local"."""

    def __init__(self, cin, cout, stride, attention=None, conv1=None, non_local=None, blocks=3):
        super().__init__()
        for i in range(blocks):
            self.add_module(str(i), BasicBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1,
                                               attention, conv1))
        self.blocks = blocks
        self.non_local = non_local(cout) if non_local else None

    def forward(self, x, gate=no_gate):
        for i in range(self.blocks):
            x = getattr(self, str(i))(x, gate)
            if i == 1 and self.non_local is not None:
                x = self.non_local(x)
        return x


class ResNet20(nn.Module):
    """He et al. 2016, Sec. 4.2 (CIFAR): 6n+2 layers with n = 3; stages of 16, 32, 64 channels.
    The attention variants plug in where MODELS.md puts them: `attention` on every residual
    branch (SE, CBAM, ECA, GC), `non_local` after the second block of stages 2 and 3, `head`
    after stage 3 (DANet, CCNet), `stage3_conv1` as the first convolution of stage 3's blocks
    (attention-augmented convolution)."""

    def __init__(self, attention=None, classes=10, non_local=None, head=None, stage3_conv1=None):
        super().__init__()
        self.conv1 = conv(3, 16, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = ResNetStage(16, 16, 1, attention)
        self.layer2 = ResNetStage(16, 32, 2, attention, non_local=non_local)
        self.layer3 = ResNetStage(32, 64, 2, attention, conv1=stage3_conv1, non_local=non_local)
        self.attention = head(64) if head else None
        self.fc = nn.Linear(64, classes)

    def forward(self, x, gate=no_gate):                     # x: (N, 3, 32, 32)
        h = F.relu(self.bn1(gate(self.conv1(x))))           # (N, 16, 32, 32)
        h = self.layer3(self.layer2(self.layer1(h, gate), gate), gate)  # (N, 64, 8, 8)
        if self.attention is not None:
            h = self.attention(h)
        return self.fc(h.mean((2, 3)))                      # (N, classes) logits


class SEResNet20(ResNet20):
    def __init__(self):
        super().__init__(attention=SEBlock)


class CBAMResNet20(ResNet20):
    def __init__(self):
        super().__init__(attention=CBAM)


# ---- the rest of the survey's mechanisms on resnet20 (MODELS.md, "The rest of the seed's
# attention mechanisms"). A module with an `after_init` method re-initialises what MODELS.md
# starts at zero (or otherwise) after init_weights' conventions have run. ----

class ECA(nn.Module):
    """ECA-Net, Wang et al. 2020, Fig. 2: w = sigmoid(conv1d_k(GAP(x))) across the channels."""

    def __init__(self, C):
        super().__init__()
        t = int((math.log2(C) + 1) / 2)
        k = t if t % 2 else t + 1                           # Eq. 12: 3 for C = 16, 32, 64
        self.weight = nn.Parameter(torch.empty(1, 1, k))
        bound = 1 / math.sqrt(k)                            # PyTorch's Conv1d default
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, x):                                   # x: (N, C, H, W)
        y = x.mean((2, 3))[:, None, :]                      # (N, 1, C)
        w = torch.sigmoid(F.conv1d(y, self.weight, padding=self.weight.shape[2] // 2))
        return x * w[:, 0, :, None, None]


class GlobalContext(nn.Module):
    """GCNet, Cao et al. 2019, Fig. 4(d): x + W_v2 ReLU(LN(W_v1 sum_j softmax_j(W_k x) x_j))."""

    def __init__(self, C, reduction=4):
        super().__init__()
        self.Wk = nn.Conv2d(C, 1, 1)
        self.Wv1 = nn.Conv2d(C, C // reduction, 1)
        self.ln = nn.LayerNorm([C // reduction, 1, 1])
        self.Wv2 = nn.Conv2d(C // reduction, C, 1)

    def after_init(self):
        nn.init.zeros_(self.Wv2.weight)
        nn.init.zeros_(self.Wv2.bias)

    def forward(self, x):                                   # x: (N, C, H, W)
        N, C, H, W = x.shape
        alpha = torch.softmax(self.Wk(x).reshape(N, 1, H * W), -1)       # (N, 1, HW)
        c = torch.bmm(x.reshape(N, C, H * W), alpha.transpose(1, 2))     # (N, C, 1)
        t = self.Wv2(F.relu(self.ln(self.Wv1(c[..., None]))))           # (N, C, 1, 1)
        return x + t


class NonLocal(nn.Module):
    """Wang et al. 2018, Fig. 2, embedded Gaussian with max-pooled keys: z = BN(W_z f g) + x."""

    def __init__(self, C):
        super().__init__()
        self.theta = nn.Conv2d(C, C // 2, 1)
        self.phi = nn.Conv2d(C, C // 2, 1)
        self.g = nn.Conv2d(C, C // 2, 1)
        self.Wz = nn.Conv2d(C // 2, C, 1)
        self.bn = nn.BatchNorm2d(C)

    def after_init(self):
        nn.init.zeros_(self.bn.weight)

    def forward(self, x):                                   # x: (N, C, H, W)
        N, C, H, W = x.shape
        q = self.theta(x).reshape(N, C // 2, H * W)
        k = F.max_pool2d(self.phi(x), 2).reshape(N, C // 2, -1)
        v = F.max_pool2d(self.g(x), 2).reshape(N, C // 2, -1)
        f = torch.softmax(torch.bmm(q.transpose(1, 2), k), -1)           # (N, HW, HW/4)
        y = torch.bmm(v, f.transpose(1, 2))                              # (N, C/2, HW)
        return self.bn(self.Wz(y.reshape(N, C // 2, H, W))) + x


class PositionAttention(nn.Module):
    """DANet, Fu et al. 2019, Fig. 3(A): gamma * D S^T + x, S = softmax(B^T C)."""

    def __init__(self, C, reduction=8):
        super().__init__()
        self.query = nn.Conv2d(C, C // reduction, 1)
        self.key = nn.Conv2d(C, C // reduction, 1)
        self.value = nn.Conv2d(C, C, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        N, C, H, W = x.shape
        B = self.query(x).reshape(N, -1, H * W)
        C_ = self.key(x).reshape(N, -1, H * W)
        D = self.value(x).reshape(N, C, H * W)
        S = torch.softmax(torch.bmm(B.transpose(1, 2), C_), -1)          # (N, HW, HW)
        return self.gamma * torch.bmm(D, S.transpose(1, 2)).reshape(x.shape) + x


class ChannelAttentionModule(nn.Module):
    """DANet, Fig. 3(B): beta * softmax(max(E) - E) x + x, E = x x^T over the positions."""

    def __init__(self):
        super().__init__()
        self.beta = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        N, C, H, W = x.shape
        A = x.reshape(N, C, H * W)
        E = torch.bmm(A, A.transpose(1, 2))                              # (N, C, C)
        X = torch.softmax(E.amax(-1, keepdim=True) - E, -1)
        return self.beta * torch.bmm(X, A).reshape(x.shape) + x


class DualAttention(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.position = PositionAttention(C)
        self.channel = ChannelAttentionModule()

    def forward(self, x):
        return (self.position(x) + self.channel(x)) / 2


class CrissCrossAttention(nn.Module):
    """CCNet, Huang et al. 2019, Fig. 2-3: each position attends to its row and column (itself
    once), R = 2 passes with shared weights. Written here as attention over all H*W keys with the
    keys off the cross masked to -inf: the same weights, at 8x8 a cheap way to get them."""

    def __init__(self, C, recurrence=2):
        super().__init__()
        self.query = nn.Conv2d(C, C // 8, 1)
        self.key = nn.Conv2d(C, C // 8, 1)
        self.value = nn.Conv2d(C, C, 1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.recurrence = recurrence

    def forward(self, x):
        N, C, H, W = x.shape
        rows = torch.arange(H * W) // W
        cols = torch.arange(H * W) % W
        off_cross = (rows[:, None] != rows[None, :]) & (cols[:, None] != cols[None, :])  # (HW, HW)
        for _ in range(self.recurrence):
            Q = self.query(x).reshape(N, -1, H * W)
            K = self.key(x).reshape(N, -1, H * W)
            V = self.value(x).reshape(N, C, H * W)
            E = torch.bmm(Q.transpose(1, 2), K).masked_fill(off_cross, float("-inf"))
            A = torch.softmax(E, -1)                                     # (N, HW, HW), zero off the cross
            x = self.gamma * torch.bmm(V, A.transpose(1, 2)).reshape(x.shape) + x
        return x


class AugmentedConv2d(nn.Module):
    """Bello et al. 2019, Fig. 2: concat[conv3x3(x), MHA(x)] with 2-D relative position logits;
    with stride 2 the attention sees x average-pooled 2x2."""

    def __init__(self, cin, cout, stride, dk=16, dv=16, heads=4, size=8):
        super().__init__()
        self.conv = conv(cin, cout - dv, 3, stride, 1)
        self.qkv = conv(cin, 2 * dk + dv, 1)
        self.attention_out = conv(dv, dv, 1)
        self.rel_w = nn.Parameter(torch.empty(2 * size - 1, dk // heads))
        self.rel_h = nn.Parameter(torch.empty(2 * size - 1, dk // heads))
        self.stride, self.dk, self.dv, self.heads, self.size = stride, dk, dv, heads, size
        pixels = torch.arange(size * size)
        ys, xs = pixels // size, pixels % size
        self.w_offset = xs[None, :] - xs[:, None] + size - 1  # [i, j]: x_j - x_i, as a row of rel_w
        self.h_offset = ys[None, :] - ys[:, None] + size - 1

    def after_init(self):
        std = (self.dk // self.heads) ** -0.5
        nn.init.normal_(self.rel_w, 0, std)
        nn.init.normal_(self.rel_h, 0, std)

    def forward(self, x):
        a = F.avg_pool2d(x, self.stride) if self.stride > 1 else x
        N, _, S, _ = a.shape
        B, dkh, dvh = N * self.heads, self.dk // self.heads, self.dv // self.heads
        q, k, v = self.qkv(a).split([self.dk, self.dk, self.dv], 1)
        q = q.reshape(B, dkh, S * S) * dkh ** -0.5
        k = k.reshape(B, dkh, S * S)
        v = v.reshape(B, dvh, S * S)
        relative = self.rel_w[self.w_offset] + self.rel_h[self.h_offset]     # (HW, HW, dkh)
        logits = torch.bmm(q.transpose(1, 2), k) + torch.einsum("bdi,ijd->bij", q, relative)
        heads = torch.bmm(v, torch.softmax(logits, -1).transpose(1, 2))       # (B, dvh, HW)
        attended = self.attention_out(heads.reshape(N, self.dv, S, S))
        return torch.cat([self.conv(x), attended], 1)


def augmented_conv(cin, cout, stride):
    return AugmentedConv2d(cin, cout, stride)


# ---- attention56: Residual Attention Network, Wang et al. 2017 (MODELS.md, "attention56") ----

class ResUnit(nn.Module):
    """Pre-activation bottleneck (official Caffe Attention-56): BN-ReLU-conv1x1, BN-ReLU-conv3x3
    (carries the stride), BN-ReLU-conv1x1, width out/4. A shortcut that changes shape is a bare
    conv1x1 (with the stride) on the pre-activated input. No convolution has a bias."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        width = cout // 4
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = conv(cin, width, 1)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv2 = conv(width, width, 3, stride, 1)
        self.bn3 = nn.BatchNorm2d(width)
        self.conv3 = conv(width, cout, 1)
        self.shortcut = conv(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        a = F.relu(self.bn1(x))                             # pre-activation, shared with the shortcut
        identity = self.shortcut(a) if self.shortcut is not None else x
        h = self.conv1(a)
        h = self.conv2(F.relu(self.bn2(h)))
        h = self.conv3(F.relu(self.bn3(h)))
        return h + identity


def res_units(C, n):
    return nn.Sequential(*[ResUnit(C, C) for _ in range(n)])


class AttentionModule(nn.Module):
    """Wang et al. 2017, Fig. 2 and Eq. (3): H(x) = (1 + M(x)) * T(x), between p units each side.
    Mask branch (MODELS.md, "attention56 follows the official Caffe definition"): per down-sampling a
    max-pool 3/2/1 then r units; a skip unit at every scale but the deepest; 2r units at the deepest;
    going up, bilinear up-sampling (corners aligned), + skip, r units; a last up-sampling to the input
    size; BN-ReLU-conv1x1-BN-ReLU-conv1x1, sigmoid. With no down-sampling: 2r units and the head."""

    def __init__(self, C, downsamplings, p=1, t=2, r=1):
        super().__init__()                                  # the names are glimpse's (layers/residual_attention.h)
        D = self.downsamplings = downsamplings
        self.first = res_units(C, p)
        self.trunk = res_units(C, t)
        for d in range(1, D + 1):                           # down1 .. downD, skip1 .. skip(D-1)
            setattr(self, f"down{d}", res_units(C, r if d < D else 2 * r))
            if d < D:
                setattr(self, f"skip{d}", ResUnit(C, C))
        for d in range(D - 1, 0, -1):                       # up(D-1) .. up1
            setattr(self, f"up{d}", res_units(C, r))
        self.mask_units = res_units(C, 2 * r) if D == 0 else None
        self.mask_head = nn.Sequential(nn.BatchNorm2d(C), nn.ReLU(), conv(C, C, 1),
                                       nn.BatchNorm2d(C), nn.ReLU(), conv(C, C, 1))
        self.last = res_units(C, p)

    def mask(self, x):                                      # x: (N, C, S, S) -> M: (N, C, S, S)
        D = self.downsamplings
        if D == 0:
            return torch.sigmoid(self.mask_head(self.mask_units(x)))
        h, skips = x, []
        for d in range(1, D + 1):                           # S -> S/2 -> ... -> S/2^D
            h = getattr(self, f"down{d}")(F.max_pool2d(h, 3, 2, 1))
            if d < D:
                skips.append(getattr(self, f"skip{d}")(h))
        for d in range(D - 1, 0, -1):                       # back up to S/2
            s = skips[d - 1]
            h = getattr(self, f"up{d}")(F.interpolate(h, size=s.shape[2:], mode="bilinear", align_corners=True) + s)
        h = F.interpolate(h, size=x.shape[2:], mode="bilinear", align_corners=True)
        return torch.sigmoid(self.mask_head(h))

    def forward(self, x):
        x = self.first(x)
        T = self.trunk(x)
        M = self.mask(x)
        return self.last((1 + M) * T)                       # attention residual learning


class Attention56(nn.Module):
    """Wang et al. 2017, Table 1 (Attention-56), CIFAR form, p=1 t=2 r=1, width w (paper: 32)."""

    def __init__(self, w=16, classes=10):
        super().__init__()                                  # the names are glimpse's (models/residual_attention.h)
        self.conv1 = conv(3, w, 3, 1, 1)                    # bare stem convolution
        self.unit1, self.attention1 = ResUnit(w, 4 * w), AttentionModule(4 * w, downsamplings=2)
        self.unit2, self.attention2 = ResUnit(4 * w, 8 * w, 2), AttentionModule(8 * w, downsamplings=1)
        self.unit3, self.attention3 = ResUnit(8 * w, 16 * w, 2), AttentionModule(16 * w, downsamplings=0)
        self.units4 = res_units(16 * w, 3)
        self.bn = nn.BatchNorm2d(16 * w)
        self.fc = nn.Linear(16 * w, classes)

    def forward(self, x):                                   # x: (N, 3, 32, 32)
        h = self.conv1(x)                                   # (N, w, 32, 32)
        h = self.attention1(self.unit1(h))                  # (N, 4w, 32, 32)
        h = self.attention2(self.unit2(h))                  # (N, 8w, 16, 16)
        h = self.attention3(self.unit3(h))                  # (N, 16w, 8, 8)
        h = self.units4(h)                                  # (N, 16w, 8, 8)
        h = F.relu(self.bn(h)).mean((2, 3))                 # (N, 16w)
        return self.fc(h)                                   # (N, 10) logits


# ---- stn_mnist: Spatial Transformer Network, Jaderberg et al. 2015 (MODELS.md, "stn_mnist") ----

def after_conv_pool(size, k):
    return (size - k + 1) // 2                              # conv k/1/0, then maxpool 2


class SpatialTransformer(nn.Module):
    """Jaderberg et al. 2015, Fig. 2: U -> localisation net -> theta -> grid generator T_theta(G)
    -> sampler -> V (glimpse's layers/spatial_transformer.h, with its names)."""

    def __init__(self, size):
        super().__init__()
        loc_side = after_conv_pool(after_conv_pool(size, 7), 5)
        self.loc_conv1 = conv(1, 8, 7, bias=True)           # convolutions not followed by BN: bias
        self.loc_conv2 = conv(8, 10, 5, bias=True)
        self.loc_fc1 = nn.Linear(10 * loc_side * loc_side, 32)
        self.loc_fc2 = nn.Linear(32, 6)

    def reset_theta(self):
        """The last localisation layer starts at the identity transform (MODELS.md)."""
        nn.init.zeros_(self.loc_fc2.weight)
        with torch.no_grad():
            self.loc_fc2.bias.copy_(torch.tensor([1.0, 0, 0, 0, 1, 0]))

    def localisation(self, U):                              # U: (N, 1, S, S) -> theta: (N, 2, 3)
        h = F.relu(F.max_pool2d(self.loc_conv1(U), 2))
        h = F.relu(F.max_pool2d(self.loc_conv2(h), 2))
        h = F.relu(self.loc_fc1(h.flatten(1)))
        return self.loc_fc2(h).view(-1, 2, 3)

    def forward(self, U):
        grid = F.affine_grid(self.localisation(U), U.shape, align_corners=False)   # (N, S, S, 2)
        return F.grid_sample(U, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class STN(nn.Module):
    """stn_mnist (MODELS.md): a spatial transformer, then a small CNN classifies what it made of U."""

    def __init__(self, size=28):
        super().__init__()
        self.transformer = SpatialTransformer(size)
        cls_side = after_conv_pool(after_conv_pool(size, 5), 5)
        self.conv1 = conv(1, 10, 5, bias=True)
        self.conv2 = conv(10, 20, 5, bias=True)
        self.dropout2d = nn.Dropout2d(0.5)
        self.fc1 = nn.Linear(20 * cls_side * cls_side, 50)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(50, 10)

    def reset_theta(self):
        self.transformer.reset_theta()

    def forward(self, U):
        V = self.transformer(U)
        h = F.relu(F.max_pool2d(self.conv1(V), 2))
        h = F.relu(F.max_pool2d(self.dropout2d(self.conv2(h)), 2))
        h = self.dropout(F.relu(self.fc1(h.flatten(1))))
        return self.fc2(h)                                  # (N, 10) logits


# ---- ram: Recurrent Attention Model, Mnih et al. 2014 (MODELS.md, "ram") ----

def glimpse_sensor(x, l, g, k):
    """rho(x, l), Sec. 3.1: k patches of side g*2^i centred at l, each average-pooled by 2^i to g x g.
    Integer crops of the zero-padded image; l = (x, y) in [-1,1] -> pixel floor((l + 1)/2 * size).
    x: (N, C, H, W), l: (N, 2) -> (N, k*C, g, g), channel i*C + c = scale i, channel c."""
    N, C, H, W = x.shape
    pad = (g << (k - 1)) // 2                               # half the largest patch
    padded = F.pad(x, (pad, pad, pad, pad))
    size = torch.tensor([W, H])
    centre = torch.minimum(torch.floor((l + 1) / 2 * size).long(), size - 1)   # (N, 2) = (cx, cy)
    n = torch.arange(N)[:, None, None]
    patches = []
    for i in range(k):
        side = g << i
        offsets = torch.arange(side) - side // 2 + pad
        rows = (centre[:, 1:2] + offsets)[:, :, None]       # (N, side, 1)
        cols = (centre[:, 0:1] + offsets)[:, None, :]       # (N, 1, side)
        patch = padded[n, :, rows, cols].permute(0, 3, 1, 2)  # (N, C, side, side)
        patches.append(F.avg_pool2d(patch, 1 << i) if i > 0 else patch)
    return torch.cat(patches, 1)


def gaussian_log_prob(sample, mean, sigma):
    return -(sample - mean) ** 2 / (2 * sigma ** 2) - math.log(sigma) - 0.5 * math.log(2 * math.pi)


class RAM(nn.Module):
    """Mnih et al. 2014, Fig. 1: glimpse network f_g, core network f_h (rectifier RNN), location
    network f_l, baseline b, action network f_a. MNIST 28x28: g = 8, k = 1, 6 glimpses."""

    def __init__(self, g=8, k=1, glimpses=6, sigma=0.17, hidden=256, classes=10):
        super().__init__()
        self.g, self.k, self.glimpses, self.sigma = g, k, glimpses, sigma
        self.glimpse_what = nn.Linear(k * g * g, 128)       # h_g = ReLU(linear(patches))
        self.glimpse_where = nn.Linear(2, 128)              # h_l = ReLU(linear(l))
        self.glimpse_g_what = nn.Linear(128, hidden)        # g = ReLU(linear(h_g) + linear(h_l))
        self.glimpse_g_where = nn.Linear(128, hidden)
        self.core_h = nn.Linear(hidden, hidden)             # h_t = ReLU(linear(h_{t-1}) + linear(g))
        self.core_g = nn.Linear(hidden, hidden)
        self.location = nn.Linear(hidden, 2)                # mean = tanh(linear(h_t))
        self.baseline = nn.Linear(hidden, 1)                # b_t = linear(h_t)
        self.action = nn.Linear(hidden, classes)            # log-softmax(linear(h_T))

    def glimpse_network(self, x, l):
        h_g = F.relu(self.glimpse_what(glimpse_sensor(x, l, self.g, self.k).flatten(1)))
        h_l = F.relu(self.glimpse_where(l))
        return F.relu(self.glimpse_g_what(h_g) + self.glimpse_g_where(h_l))

    def forward(self, x):
        """-> log class probabilities (N, 10), log pi(l_t) (N, T-1), baselines b_t (N, T-1)."""
        N = x.shape[0]
        l = torch.rand(N, 2) * 2 - 1                        # first location uniform in [-1,1]^2
        h = x.new_zeros(N, self.core_h.in_features)
        log_pi, baselines = [], []
        for t in range(self.glimpses):
            h = F.relu(self.core_h(h) + self.core_g(self.glimpse_network(x, l)))
            if t == self.glimpses - 1:
                break                                       # only the first T-1 glimpses choose a location
            mean = torch.tanh(self.location(h))
            sample = (mean + self.sigma * torch.randn_like(mean)).detach()   # sampling not differentiated
            log_pi.append(gaussian_log_prob(sample, mean, self.sigma).sum(1))
            baselines.append(self.baseline(h).squeeze(1))
            l = sample.clamp(-1, 1)                         # clamped after its log-probability
        return F.log_softmax(self.action(h), 1), torch.stack(log_pi, 1), torch.stack(baselines, 1)


def ram_loss(model, x, y):
    """Hybrid loss, Sec. 4: cross-entropy + REINFORCE with reward R = 1 for a correct label and
    advantage R - b_t, + MSE of the baseline to R."""
    log_probs, log_pi, baselines = model(x)
    R = (log_probs.argmax(1) == y).float()[:, None]         # (N, 1)
    advantage = (R - baselines).detach()
    reinforce = -(log_pi * advantage).sum(1).mean()
    return F.nll_loss(log_probs, y) + reinforce + F.mse_loss(baselines, R.expand_as(baselines))


# ---- dasnet: Deep Attention Selective Network, Stollenga et al. 2014 (MODELS.md, "dasnet") ----

class Gates:
    """The gates a of one pass, spent one convolution at a time in the order the convolutions run.
    Records the observation if asked: the spatial mean of every gated channel."""

    def __init__(self, a, observe=True):
        self.a, self.used, self.observe, self.observation = a, 0, observe, []

    def __call__(self, h):                                  # h: (N, C, H, W) raw convolution output
        C = h.shape[1]
        h = h * self.a[:, self.used:self.used + C, None, None]
        self.used += C
        if self.observe:
            self.observation.append(h.mean((2, 3)))
        return h


class DasNet(nn.Module):
    """Stollenga et al. 2014, Sec. 3 and Fig. 2: a frozen resnet20 whose 21 convolutions' 784 output
    channels are gated; T passes over the same image, after each the policy a = 2 sigmoid(theta o)
    (theta 784 x 784, no bias) maps the observation o to the next pass's gates, starting at ones."""

    def __init__(self, passes=5):
        super().__init__()
        self.cnn = ResNet20()
        self.channels = sum(m.out_channels for m in self.cnn.modules() if isinstance(m, nn.Conv2d))
        self.theta = nn.Parameter(torch.zeros(self.channels, self.channels))  # SNES mean, starts at 0
        self.passes = passes

    def forward(self, x):
        a = x.new_ones(x.shape[0], self.channels)           # (N, 784)
        for t in range(self.passes):
            last = t == self.passes - 1                     # no next pass: no observation, no policy
            gates = Gates(a, observe=not last)
            logits = self.cnn(x, gates)
            if not last:
                o = torch.cat(gates.observation, 1)         # (N, 784)
                a = 2 * torch.sigmoid(o @ self.theta.t())
        return logits                                       # of the last pass


# ---- the benchmark table ----

MNIST, CIFAR = (1, 28, 28), (3, 32, 32)

# name -> (constructor(args), input shape(args), default batch)
MODELS = {
    "mnist_cnn": (lambda a: MnistCNN(), lambda a: MNIST, 64),
    "stn_mnist": (lambda a: STN(a.size), lambda a: (1, a.size, a.size), 64),
    "ram": (lambda a: RAM(), lambda a: MNIST, 64),
    "resnet20": (lambda a: ResNet20(), lambda a: CIFAR, 128),
    "se_resnet20": (lambda a: SEResNet20(), lambda a: CIFAR, 128),
    "cbam_resnet20": (lambda a: CBAMResNet20(), lambda a: CIFAR, 128),
    "attention56": (lambda a: Attention56(a.width), lambda a: CIFAR, 128),
    "eca_resnet20": (lambda a: ResNet20(attention=ECA), lambda a: CIFAR, 128),
    "gc_resnet20": (lambda a: ResNet20(attention=GlobalContext), lambda a: CIFAR, 128),
    "nl_resnet20": (lambda a: ResNet20(non_local=NonLocal), lambda a: CIFAR, 128),
    "da_resnet20": (lambda a: ResNet20(head=DualAttention), lambda a: CIFAR, 128),
    "cc_resnet20": (lambda a: ResNet20(head=CrissCrossAttention), lambda a: CIFAR, 128),
    "aa_resnet20": (lambda a: ResNet20(stage3_conv1=augmented_conv), lambda a: CIFAR, 128),
    "dasnet": (lambda a: DasNet(), lambda a: CIFAR, 64),
}


def build(name, args):
    model = init_weights(MODELS[name][0](args))
    for m in model.modules():
        if hasattr(m, "after_init"):
            m.after_init()
    if isinstance(model, STN):
        model.reset_theta()
    return model


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def make_step(name, model):
    """The timed unit of work: a full training step, or dasnet's gated inference."""
    if name == "dasnet":
        model.eval()                                        # frozen CNN: BN uses running statistics

        def infer(x, y):
            with torch.no_grad():
                F.cross_entropy(model(x), y)                # the loss SNES ranks a candidate by
        return infer

    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_of = ram_loss if name == "ram" else (lambda m, x, y: F.cross_entropy(m(x), y))

    def train(x, y):
        optimizer.zero_grad(set_to_none=True)
        loss_of(model, x, y).backward()
        optimizer.step()
    return train


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def warmed_up_step(args):
    """The model of --model, a random batch for it and its step, run --warmup times."""
    torch.manual_seed(0)
    model = build(args.model, args)
    shape = MODELS[args.model][1](args)
    batch = args.batch or MODELS[args.model][2]
    x = torch.randn(batch, *shape)
    y = torch.randint(0, 10, (batch,))
    step = make_step(args.model, model)
    for _ in range(args.warmup):
        step(x, y)
    return model, shape, batch, x, y, step


def profile(args):
    """Where the step's time goes: torch.profiler's table of ops by self CPU time, --steps steps."""
    _, _, _, x, y, step = warmed_up_step(args)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
        for _ in range(args.steps):
            step(x, y)
    print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


def benchmark(args):
    model, shape, batch, x, y, step = warmed_up_step(args)
    times_ms = []
    cpu_before = time.process_time()                        # user + system, every thread
    for _ in range(args.steps):
        start = time.perf_counter()
        step(x, y)
        times_ms.append((time.perf_counter() - start) * 1000)
    cpu_ms = (time.process_time() - cpu_before) * 1000 / args.steps
    median = statistics.median(times_ms)
    return {
        "framework": "pytorch",
        "model": args.model,
        "input": "x".join(map(str, shape)),
        "batch": batch,
        "threads": torch.get_num_threads(),
        "ms_per_step": round(median, 3),
        "ms_p10": round(percentile(times_ms, 0.1), 3),
        "ms_p90": round(percentile(times_ms, 0.9), 3),
        "images_per_s": round(batch / median * 1000, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "params": parameter_count(model),
        "cpu_ms_per_step": round(cpu_ms, 2),
    }


def list_models(args):
    variants = [(name, args) for name in MODELS]
    variants.insert(2, ("stn_mnist", argparse.Namespace(**{**vars(args), "size": 42})))
    for name, variant in variants:
        shape = "x".join(map(str, MODELS[name][1](variant)))
        print(f"{name:14s} {shape:8s} {parameter_count(build(name, variant)):>10,d}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS))
    parser.add_argument("--batch", type=int, default=0, help="default: 64 for MNIST models and dasnet, 128 for CIFAR")
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--size", type=int, default=28, choices=[28, 42], help="stn_mnist input side")
    parser.add_argument("--width", type=int, default=16, help="attention56 width w")
    parser.add_argument("--list", action="store_true", help="print every model's parameter count")
    parser.add_argument("--profile", action="store_true",
                        help="print torch.profiler's table of the step's ops instead of timing it")
    args = parser.parse_args()
    # PyTorch picks its own thread counts unless told; both must be set before any parallel work.
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    if args.model and args.model != "stn_mnist" and args.size != 28:
        parser.error("--size 42 is for stn_mnist only")      # not a 28x28 run under a 42x42 label
    if args.list:
        list_models(args)
    elif args.model and args.profile:
        profile(args)
    elif args.model:
        print(json.dumps(benchmark(args)))
    else:
        parser.error("give --model NAME or --list")


if __name__ == "__main__":
    sys.exit(main())
