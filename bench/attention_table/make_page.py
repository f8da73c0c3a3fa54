#!/usr/bin/python3
"""Writes docs/ATTENTION.md and its plot from the runs of bench/attention_table/run.sh.

    /usr/bin/python3 bench/attention_table/make_page.py [--cells bench/attention_table/cells]
        [--costs bench/attention_table/cells/costs.jsonl] [--page docs/ATTENTION.md]
        [--plot docs/images/attention_table.svg] [--pictures docs/images/attention] [--check]

Reads every cell's CSV log in bench/attention_table/cells/ (a row per epoch; the cell counts once
its 20th epoch is logged; run.sh copies a finished cell's log there), a cell whose log was lost by
the score of its shipped checkpoint (NAME.rescored, written by rescore.sh), and the cost of each
model as bench/attention_table/costs.sh measured it (one JSON line per model from build/bench_step),
and writes the page: per model the final test accuracy of each seed, their mean
and standard deviation, the difference to resnet20 with a 95% confidence interval (paired by seed,
Student's t on the per-seed differences; attention56, another backbone with two seeds, by Welch's t),
and the cost columns; then sentences that say which
differences are larger than the seeds' spread. Nothing on the page is typed by hand: rerun this
script after more cells finish. Standard library only.
"""
import argparse
import csv
import glob
import json
import math
import os
import re
import statistics
import sys

EPOCHS = 20
ORDER = ["resnet20", "se_resnet20", "cbam_resnet20", "eca_resnet20", "gc_resnet20", "nl_resnet20",
         "da_resnet20", "cc_resnet20", "aa_resnet20", "attention56"]
# What each model's picture (bench/attention_table/pictures.sh, train/attention_pictures.h) shows.
PICTURES = {
    "se_resnet20": "SE's channel weights s in the last block of each stage, a bar per channel (black 0, white 1): "
                   "how much of each channel the block lets through for this image",
    "cbam_resnet20": "CBAM's spatial map Ms in the last block of each stage: where the block keeps its features",
    "eca_resnet20": "ECA's channel weights in the last block of each stage, a bar per channel (black 0, white 1)",
    "gc_resnet20": "GC's context weights in the last block of each stage: where the block pools the context it adds "
                   "to every position",
    "nl_resnet20": "For two query positions (cyan boxes) of stages 2 and 3, the non-local block's weights over the keys",
    "da_resnet20": "For three query positions, DANet's position-attention weights over the 8x8 map",
    "cc_resnet20": "For two query positions, the criss-cross weights after one pass (the query's row and column) and "
                   "after both passes (the whole map)",
    "aa_resnet20": "For one query position, each of the four heads of the last attention-augmented convolution, then "
                   "their mean for a second query",
    "attention56": "Each attention module's soft mask M (32x32, 16x16, 8x8), averaged over its channels: the module "
                   "puts out (1 + M) * T, so M re-weights the trunk's features T rather than selecting a region",
}
# The models compared by Welch's t rather than by seed pairs: attention56 has two seeds, and a paired
# interval on two differences rests on one degree of freedom (t = 12.7). Welch's t takes its seeds
# and resnet20's as unrelated samples: were they correlated through the data order a seed fixes,
# that would overstate the spread of the difference (a wider interval), not understate it.
UNPAIRED = {"attention56"}
DAGGER = "\u2020"  # marks their rows


def incomplete_beta(x, a, b):
    """The regularised incomplete beta function I_x(a, b), by its continued fraction (modified Lentz)."""
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast below this point; above it, by symmetry
        return 1 - incomplete_beta(1 - x, b, a)
    front = math.exp(a * math.log(x) + b * math.log(1 - x) - math.lgamma(a) - math.lgamma(b) + math.lgamma(a + b)) / a
    tiny = 1e-300
    f, c, d = 1.0, 1.0, 0.0
    for i in range(400):
        m = i // 2
        if i == 0:
            term = 1.0
        elif i % 2 == 0:
            term = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            term = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1 + term * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + term / c
        c = c if abs(c) > tiny else tiny
        f *= c * d
        if abs(1 - c * d) < 1e-15:
            return front * (f - 1)
    raise ValueError(f"incomplete_beta({x}, {a}, {b}) did not converge")


def t_quantile(p, df):
    """Student's t quantile at p > 0.5 for any real df > 0 (Welch's are not whole), by bisection on
    P(T <= t) = 1 - I_{df / (df + t^2)}(df / 2, 1 / 2) / 2."""
    if not 0.5 < p < 1:
        raise ValueError(f"t_quantile: p = {p}; the intervals ask for 0.5 < p < 1")

    def cdf(t):
        return 1 - incomplete_beta(df / (df + t * t), df / 2, 0.5) / 2
    low, high = 0.0, 1.0
    while cdf(high) < p:
        high *= 2
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if cdf(middle) < p else (low, middle)
    return (low + high) / 2


class Comparison:
    """A model against resnet20: the difference of mean test accuracies in points, its standard
    error and degrees of freedom (Student's t), and how it was formed."""

    def __init__(self, name, mean, se, df, how):
        self.name, self.mean, self.se, self.df, self.how = name, mean, se, df, how

    def half(self, level=0.95):
        """Half the width of the two-sided interval at `level` (None with one paired seed)."""
        return None if self.se is None else t_quantile(1 - (1 - level) / 2, self.df) * self.se

    def excludes_zero(self, level=0.95):
        half = self.half(level)
        return half is not None and abs(self.mean) > half


def paired(name, model_acc, base_acc):
    """The model's and resnet20's accuracies paired by seed: Student's t on the per-seed differences."""
    seeds = sorted(set(model_acc) & set(base_acc))
    diffs = [100 * (model_acc[s] - base_acc[s]) for s in seeds]
    if not diffs:
        return None
    if len(diffs) < 2:
        return Comparison(name, diffs[0], None, 0, "one paired seed")
    return Comparison(name, statistics.mean(diffs), statistics.stdev(diffs) / math.sqrt(len(diffs)), len(diffs) - 1,
                      f"{len(diffs)} seeds")


def welch(name, model_acc, base_acc):
    """The two models' seeds as two independent samples: Welch's t, with Welch-Satterthwaite's degrees
    of freedom."""
    a, b = [100 * v for v in model_acc.values()], [100 * v for v in base_acc.values()]
    if len(a) < 2 or len(b) < 2:
        return None
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    if va + vb == 0:  # every seed alike on both sides: nothing to spread
        return Comparison(name, statistics.mean(a) - statistics.mean(b), 0.0, len(a) + len(b) - 2, "no spread at all")
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return Comparison(name, statistics.mean(a) - statistics.mean(b), math.sqrt(va + vb), df,
                      f"{len(a)} seeds against resnet20's {len(b)}, Welch's t with {df:.1f} degrees of freedom")


def compare(name, model_acc, base_acc):
    return (welch if name in UNPAIRED else paired)(name, model_acc, base_acc)


def family_note(comparisons):
    """The sentences on testing several models at once: a 95% interval excludes 0 by chance one
    time in twenty, so over m comparisons the chance that one does grows; Bonferroni's intervals
    (each at 1 - 0.05/m) hold the m together at 95%."""
    tested = [c for c in comparisons if c.se is not None]
    m = len(tested)
    called = [c for c in tested if c.excludes_zero()]
    if m < 2 or not called:
        return []
    chance = 100 * (1 - 0.95 ** m)
    level = 100 * (1 - 0.05 / m)
    out = [f"{m} models are compared with resnet20, each at 95%: were none different, at least one of {m} "
           f"intervals would still exclude 0 in about {chance:.0f}% of such tables (less, as they share resnet20). Held to the {m} together at 95% "
           f"(Bonferroni: each interval at {level:.2f}%):"]
    for c in called:
        half = c.half(1 - 0.05 / m)
        holds = c.mean - half <= 0 <= c.mean + half
        out.append(f"{c.name}'s interval is {c.mean - half:+.2f} to {c.mean + half:+.2f}" +
                   (": it holds 0, so the difference may be chance among the comparisons." if holds
                    else ": it still excludes 0."))
    return [" ".join(out)]


def final_accuracies(cells):
    """({model: {seed: test accuracy after the last epoch}}, {(model, seed) re-scored}) for the
    cells that finished: from the CSV log, or where it was lost, from the shipped checkpoint's score."""
    out, rescored = {}, set()
    for path in glob.glob(os.path.join(cells, "*_s*.csv")):
        match = re.fullmatch(r"(.+)_s(\d+)\.csv", os.path.basename(path))
        if not match:
            continue
        with open(path) as f:
            rows = list(csv.DictReader(f))
        done = [r for r in rows if int(r["epoch"]) == EPOCHS]
        if done:
            out.setdefault(match.group(1), {})[int(match.group(2))] = float(done[-1]["test_acc"])
    for path in glob.glob(os.path.join(cells, "*_s*.rescored")):
        match = re.fullmatch(r"(.+)_s(\d+)\.rescored", os.path.basename(path))
        model, seed = match.group(1), int(match.group(2))
        if seed in out.get(model, {}):
            continue  # the log wins
        score = re.search(r"^test_acc=([0-9.]+)", open(path).read(), re.M)
        if score:
            out.setdefault(model, {})[seed] = float(score.group(1))
            rescored.add((model, seed))
    return out, rescored


def costs_of(path):
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    entry = json.loads(line)
                    out[entry["model"]] = entry
    return out


def verdict(c):
    """(the sentence on one model against resnet20, whether its interval excludes 0), or None."""
    if c is None:
        return None
    if c.se is None:
        return f"{c.name}: one paired seed so far ({c.mean:+.2f} points); no interval yet.", False
    half = c.half()
    low, high = c.mean - half, c.mean + half
    if low > 0 or high < 0:  # whether it survives the other comparisons is the family note's
        side = "above" if low > 0 else "below"
        return (f"{c.name}: {c.mean:+.2f} points against resnet20, and the 95% interval ({low:+.2f} to {high:+.2f}, "
                f"{c.how}) lies {side} 0 taken alone: larger than the seeds' spread for this comparison."), True
    return f"{c.name}: {c.mean:+.2f} points against resnet20, but the 95% interval ({low:+.2f} to {high:+.2f}, {c.how}) holds 0: not distinguishable from resnet20 at this number of seeds.", False


def axis_ticks(low, high):
    """Round tick values between low and high on a log scale: 1, 2, 3 and 5 times the powers of ten,
    finer where the range is short."""
    steps = (1, 2, 3, 5) if high / low > 5 else (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8)
    return [m * 10 ** k for k in range(-1, 6) for m in steps if low <= m * 10 ** k <= high]


# Where place_labels looks for a label's place: (side, dx, dy) away from its natural place (its text
# starting 7 px right of its point, on the point's height), the nearest first; at the same distance
# the right side first, then nearer the point, then lower down.
LABEL_MOVES = sorted(((side, dx, dy) for side in (1, -1) for dx in range(0, 120, 6) for dy in range(-200, 201, 2)),
                     key=lambda m: (math.hypot(m[1], m[2]), -m[0], m[1], -m[2]))


def label_box(x, side, dx, baseline, width, height=14):
    """The box (left, right, top, bottom) of a label `width` px wide whose text starts 7 + dx px right
    of x (side 1) or ends 7 + dx px left of it (side -1)."""
    start = x + 7 + dx if side > 0 else x - 7 - dx - width
    return start, start + width, baseline - height + 3, baseline + 3


def overlaps(a, b):
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def line_crosses(x0, y0, x1, y1, box):
    """Whether the segment from (x0, y0) to (x1, y1) passes through the box, a point every 2 px."""
    n = max(1, int(math.hypot(x1 - x0, y1 - y0) / 2))
    return any(box[0] < x0 + (x1 - x0) * i / n < box[1] and box[2] < y0 + (y1 - y0) * i / n < box[3]
               for i in range(n + 1))


# What a label's line back to its point costs, in px of distance, for each other point's bar or label
# it crosses: a label further away is clearer than one whose line crosses a neighbour.
CROSSING_COST = 40


def place_labels(anchors, top, bottom, left_edge, right_edge, obstacles=(), char_width=6.8):
    """Puts each name beside its point, point by point from the top. Its place is one of LABEL_MOVES
    (right or left of the point, up to 114 px further out and 200 px up or down) whose box lies inside
    the plot (left_edge to right_edge, baseline from top to bottom) and overlaps neither the obstacles
    (the points and their error bars) nor the labels placed before it; of those, the one nearest its
    natural place, counting CROSSING_COST px more for each bar or label that the line drawn back to
    the point would cross (so that a label is not read as a neighbour's). Where no place is clear it
    takes the nearest place inside the plot (or, wider than the plot, its natural place) and says so
    on stderr. anchors: (name, x, y) in pixels; obstacles: (left, right, top, bottom) boxes; returns
    (name, text x, baseline, text-anchor)."""
    labels, out = [], []
    for name, x, y in sorted(anchors, key=lambda a: a[2]):
        width = char_width * len(name)
        natural = min(max(y + 4, top), bottom)
        inside = [(side, dx, natural + dy) for side, dx, dy in LABEL_MOVES  # nearest first
                  if top <= natural + dy <= bottom
                  and left_edge <= label_box(x, side, dx, 0, width)[0] <= right_edge - width]
        blocking = labels + list(obstacles)  # what the label's box may not overlap
        # what the line should not cross: the labels, and the bars but those its own point lies in
        crossable = labels + [o for o in obstacles if not (o[0] <= x <= o[1] and o[2] <= y <= o[3])]
        place, cost = None, math.inf
        for side, dx, baseline in inside:
            distance = math.hypot(dx, baseline - natural)
            if distance >= cost:
                break  # every place left is further away than the best one's cost
            if any(overlaps(label_box(x, side, dx, baseline, width), o) for o in blocking):
                continue
            end_x, end_y = x + side * (7 + dx), baseline - 4  # where the line back to the point ends
            crossings = sum(line_crosses(x, y, end_x, end_y, o) for o in crossable)
            if distance + CROSSING_COST * crossings < cost:
                place, cost = (side, dx, baseline), distance + CROSSING_COST * crossings
        if place is None:
            place = inside[0] if inside else (1, 0, natural)
            print(f"make_page.py: no clear place for the plot's label {name}; it may overlap", file=sys.stderr)
        side, dx, baseline = place
        labels.append(label_box(x, side, dx, baseline, width))
        out.append((name, x + side * (7 + dx), baseline, "start" if side > 0 else "end"))
    return out


def svg_plot(points):
    """Accuracy (mean, +- one standard deviation) against training-step time on a log scale, one point
    per model: the SVG's text."""
    width, height, left, bottom, top, right = 840, 560, 70, 50, 34, 20
    xs = [p[1] for p in points]
    ys = [p[2] + p[3] for p in points] + [p[2] - p[3] for p in points]
    x0, x1 = min(xs) / 1.5, max(xs) * 1.5  # room for labels on either side
    y0, y1 = math.floor(4 * (min(ys) - 0.1)) / 4, math.ceil(4 * (max(ys) + 0.1)) / 4  # on quarter points

    def X(v):
        return left + (math.log(v) - math.log(x0)) / (math.log(x1) - math.log(x0)) * (width - left - right)

    def Y(v):
        return height - bottom - (v - y0) / (y1 - y0) * (height - top - bottom)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">CIFAR-10 test accuracy after {EPOCHS} epochs against the cost of a training step</text>',
           f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
           f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">training step, ms (batch 128, 2 threads; log scale)</text>',
           f'<text x="16" y="{(top + height - bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 {(top + height - bottom) / 2})">test accuracy, % (mean +- sd over seeds)</text>']
    for v in axis_ticks(x0, x1):
        out.append(f'<line x1="{X(v):.1f}" y1="{height - bottom}" x2="{X(v):.1f}" y2="{height - bottom + 4}" stroke="black"/>'
                   f'<text x="{X(v):.1f}" y="{height - bottom + 16}" text-anchor="middle">{v:g}</text>')
    spacing = next(d for d in (0.25, 0.5, 1, 2, 5, 10, 20, 50) if (y1 - y0) / d <= 10)  # at most 11 ticks
    decimals = 2 if spacing < 0.5 else 1 if spacing < 1 else 0
    for i in range(math.ceil(y0 / spacing), math.floor(y1 / spacing) + 1):
        a = i * spacing
        out.append(f'<line x1="{left - 4}" y1="{Y(a):.1f}" x2="{left}" y2="{Y(a):.1f}" stroke="black"/>'
                   f'<text x="{left - 8}" y="{Y(a) + 4:.1f}" text-anchor="end">{a:.{decimals}f}</text>')
    colour = {name: "black" if name == "resnet20" else "#b03020" for name, *_ in points}
    for name, x, y, sd in points:
        out.append(f'<line x1="{X(x):.1f}" y1="{Y(y - sd):.1f}" x2="{X(x):.1f}" y2="{Y(y + sd):.1f}" stroke="{colour[name]}"/>'
                   f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="4" fill="{colour[name]}"/>')
    where = {name: (X(x), Y(y)) for name, x, y, _ in points}
    bars = [(X(x) - 5, X(x) + 5, Y(y + sd) - 5, Y(y - sd) + 5) for _, x, y, sd in points]  # and the dot
    for name, text_x, baseline, anchor in place_labels([(n, px, py) for n, (px, py) in where.items()],
                                                      top=top + 12, bottom=height - bottom - 4, left_edge=left + 4, right_edge=width - 5,
                                                      obstacles=bars):
        px, py = where[name]
        if abs(baseline - (py + 4)) > 3 or abs(abs(text_x - px) - 7) > 3:  # moved: a thin line back to its point
            out.append(f'<line x1="{px:.1f}" y1="{py:.1f}" x2="{text_x:.1f}" y2="{baseline - 4:.1f}" stroke="#999999"/>')
        out.append(f'<text x="{text_x:.1f}" y="{baseline:.1f}" text-anchor="{anchor}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def pictures_section(folder, page_dir):
    """The section that shows each model's picture, for the models pictures.sh has drawn."""
    drawn = [name for name in ORDER if os.path.exists(os.path.join(folder, name + ".png"))]
    if not drawn:
        return []
    lines = ["## What each attention looks at", "",
             "Each model's seed-1 checkpoint (pretrained/MODEL_20epochs_seed1.ckpt) on the first test image of each "
             "class: `build/evaluate --checkpoint CKPT --data DIR --visualize FILE.png` (bench/attention_table/pictures.sh). "
             "Under each image its true class and the model's prediction (green right, red wrong); maps other than the "
             "channel weights are scaled to their own range (white: most attended).", ""]
    for name in drawn:
        path = os.path.relpath(os.path.join(folder, name + ".png"), page_dir)
        lines += [f"### {name}", "", PICTURES[name] + ".", "", f"![{name}'s attention on a test image of each class]({path})", ""]
    return lines


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", default=os.path.join(here, "cells"))
    parser.add_argument("--costs", default=None, help="default: CELLS/costs.jsonl")
    parser.add_argument("--page", default=os.path.join(root, "docs", "ATTENTION.md"))
    parser.add_argument("--plot", default=os.path.join(root, "docs", "images", "attention_table.svg"))
    parser.add_argument("--pictures", default=os.path.join(root, "docs", "images", "attention"))
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the page or the plot differs from what the cells give")
    args = parser.parse_args()
    accuracies, rescored = final_accuracies(args.cells)
    costs = costs_of(args.costs or os.path.join(args.cells, "costs.jsonl"))
    base = accuracies.get("resnet20", {})
    commits = sorted({m.group(1) for pattern in ("*.log", "*.rescored")
                      for log in glob.glob(os.path.join(args.cells, pattern))
                      for m in re.finditer(r"commit (\w+):", open(log).read())})

    lines = ["# What attention does on CIFAR-10: every attention model against resnet20", "",
             "Generated by `/usr/bin/python3 bench/attention_table/make_page.py` from the runs of "
             "`bench/attention_table/run.sh` and the costs of `bench/attention_table/costs.sh`; do not edit by hand.", "",
             f"Every model trained by `train_cifar --model MODEL --data DIR --epochs {EPOCHS} --seed S --threads 1` "
             "(train_cifar's default recipe: SGD momentum 0.9, weight decay 5e-4, batch 128, one epoch of warm-up then "
             "cosine to 0, random crops and flips), on the CIFAR-10 of `../shared/data` (the JPEG rendering converted by "
             "`convert_cifar10`, whose accuracies sit slightly below the official files'), seeds 1, 2 and 3 "
             "(attention56: 1 and 2). Training code of commit(s) " + (", ".join(commits) if commits else "(none yet)") + ". "
             f"Cells finished: {sum(len(a) for a in accuracies.values())} of 29.", "",
             f"| model | params | seed 1 | seed 2 | seed 3 | mean | sd | vs resnet20 (95% CI; paired by seed, {DAGGER} Welch) | train step ms | inference ms | peak MB |",
             "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    sentences, points, comparisons, outputs = [], [], [], {}
    for name in ORDER:
        acc = accuracies.get(name, {})
        cost = costs.get(name, {})
        cells = [(f"{100 * acc[s]:.2f}" + ("*" if (name, s) in rescored else "")) if s in acc else "" for s in (1, 2, 3)]
        values = [100 * a for a in acc.values()]
        mean = f"{statistics.mean(values):.2f}" if values else ""
        sd = f"{statistics.stdev(values):.2f}" if len(values) > 1 else ""
        c = compare(name, acc, base) if name != "resnet20" else None
        half = c.half() if c else None
        vs = "" if c is None else f"{c.mean:+.2f}" + (f" ({c.mean - half:+.2f} to {c.mean + half:+.2f})" if half is not None else " (one seed)") + ("†" if c and name in UNPAIRED else "")
        params = f"{cost['params']:,}" if cost else ""
        step = f"{cost['ms_per_step']:.0f}" if cost else ""
        infer = f"{cost['inference_ms']:.0f}" if cost and cost.get("inference_ms") else ""
        peak = f"{cost['peak_rss_mb']:.0f}" if cost else ""
        lines.append(f"| {name} | {params} | {' | '.join(cells)} | {mean} | {sd} | {vs} | {step} | {infer} | {peak} |")
        if c is not None:
            comparisons.append(c)
            said = verdict(c)
            if said:
                sentences.append(said)
        if values and cost:
            points.append((name, cost["ms_per_step"], statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0))
    lines += ["", "Accuracies in %, after the last epoch, on the 10,000 test images. \"vs resnet20\": the mean over the "
              "seeds both have of (model - resnet20) in points, with the 95% interval of Student's t on those per-seed "
              "differences; the same seed gives both the same data order and augmentation, so pairing removes what the "
              "seed does to both. With 3 seeds the interval is wide: a difference is called real only when the interval "
              "excludes 0."]
    if any(c.name in UNPAIRED for c in comparisons):
        lines[-1] += (f" {DAGGER} attention56, the other backbone, has two seeds: paired, its interval would rest on one "
                      "degree of freedom. It is compared by Welch's t instead: the difference of the two means, its "
                      "seeds and all of resnet20's taken as unrelated samples, with Welch-Satterthwaite's degrees of "
                      "freedom (in the sentence below); were the seeds correlated through the data order they share, "
                      "this would overstate the spread of the difference (a wider interval), not understate it.")
        if "attention56" in costs and "resnet20" in costs:
            ratio = costs["attention56"]["params"] / costs["resnet20"]["params"]
            lines[-1] += (f" Nor is attention56 resnet20 with attention added: it is a deeper network of its own with "
                          f"{ratio:.1f} times the parameters, so its difference is that of the whole network, not of "
                          "its attention alone.")
    if rescored:
        lines += ["", "\\* The cell's log was lost with the machine it ran on; its accuracy is its shipped checkpoint's "
                  "score, `build/evaluate --checkpoint pretrained/MODEL_20epochs_seed1.ckpt --data DIR` "
                  "(bench/attention_table/rescore.sh), the same figure the log had ended with."]
    lines += [""]
    if costs:
        first_cost = next(iter(costs.values()))
        cpu, commit = first_cost.get("cpu", ""), first_cost.get("commit", "")
        lines += [f"Costs: `build/bench_step --model MODEL --threads 2` (batch 128, the median of 20 steps; inference: "
                  f"a forward in evaluation mode without a graph; peak: the process's resident memory){', on ' + cpu if cpu else ''}{', commit ' + commit if commit else ''}.", ""]
    notes = family_note(comparisons)
    # a comparison called real is read with the others, in the note
    sentences = [s + (" The note below holds it together with the others." if called and notes else "")
                 for s, called in sentences]
    lines += ["## What the table says", ""] + [f"- {s}" for s in sentences] + [""]
    lines += [note for sentence in notes for note in (sentence, "")]
    if points:
        outputs[args.plot] = svg_plot(points)
        lines += [f"![accuracy against step time]({os.path.relpath(args.plot, os.path.dirname(args.page))})", ""]
    lines += pictures_section(args.pictures, os.path.dirname(args.page))
    outputs[args.page] = "\n".join(lines)
    finished = sum(len(a) for a in accuracies.values())
    if args.check:
        stale = [path for path, text in outputs.items() if not os.path.exists(path) or open(path, encoding="utf-8").read() != text]
        for path in stale:
            print(f"{path} is not what make_page.py makes of the {finished} cells in {args.cells}: run it again")
        return 1 if stale else 0
    for path, text in outputs.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    print(f"wrote {args.page}: {finished} finished cells")
    return 0


if __name__ == "__main__":
    sys.exit(main())
