#!/usr/bin/python3
"""Checks of bench/attention_table/make_page.py, run by tests/test_cli.cpp: its Student's t
quantiles against printed tables and closed forms, its paired and Welch comparisons against
hand-worked examples, and docs/ATTENTION.md and its plot against what it makes of the cells.
Prints what failed and exits 1; standard library only."""
import contextlib
import io
import math
import os
import subprocess
import sys

root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(root, "bench", "attention_table"))
import make_page as page  # noqa: E402

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


# two-sided 95% quantiles, as any table of Student's t prints them
for df, t in {1: 12.706, 2: 4.303, 3: 3.182, 10: 2.228, 30: 2.042}.items():
    got = page.t_quantile(0.975, df)
    check(abs(got - t) < 5e-4, f"t_quantile(0.975, {df}) = {got}, the tables say {t}")
# 1 and 2 degrees of freedom have closed forms; Bonferroni's levels reach far into the tails
for p in (0.99, 0.99722):
    got1, got2 = page.t_quantile(p, 1), page.t_quantile(p, 2)
    check(math.isclose(got1, math.tan(math.pi * (p - 0.5)), rel_tol=1e-9), f"t_quantile({p}, 1) = {got1}")
    check(math.isclose(got2, (2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel_tol=1e-9), f"t_quantile({p}, 2) = {got2}")
# a df that is not a whole number (Welch's) falls between its neighbours'
check(page.t_quantile(0.975, 3) < page.t_quantile(0.975, 2.5) < page.t_quantile(0.975, 2), "t_quantile at df 2.5")

# paired by seed: differences 1, 2, 1 points; mean 4/3, standard error sqrt(1/3)/sqrt(3) = 1/3, 2 df
c = page.compare("se_resnet20", {1: 0.01, 2: 0.03, 3: 0.02}, {1: 0.00, 2: 0.01, 3: 0.01})
check(math.isclose(c.mean, 4 / 3) and math.isclose(c.se, 1 / 3) and c.df == 2, f"paired: {vars(c)}")
check(math.isclose(c.half(), 4.302653 / 3, rel_tol=1e-6), f"paired half-width {c.half()}")
# Welch: samples 1, 3 (variance 2) and 4, 6, 8 (variance 4): se^2 = 2/2 + 4/3 = 7/3,
# df = (7/3)^2 / (1^2/1 + (4/3)^2/2) = 49/17
c = page.compare("attention56", {1: 0.01, 2: 0.03}, {1: 0.04, 2: 0.06, 3: 0.08})
check(math.isclose(c.mean, -4) and math.isclose(c.se ** 2, 7 / 3) and math.isclose(c.df, 49 / 17),
      f"Welch: {vars(c)}")
check(c.excludes_zero() is False, "Welch: -4 +- t(0.975, 2.88) * 1.53 holds 0")

# the plot's labels: ten names at one point near the top, beside an error bar: none overlaps another or
# the bar, none leaves the plot
bar = (320, 326, 0, 160)  # a neighbour's error bar, where the first label would go
labels = page.place_labels([(f"model_{i}", 300, 25) for i in range(10)], top=20, bottom=300,
                           left_edge=10, right_edge=590, obstacles=[bar])


def label_boxes(labels):
    """(left, right, top, bottom) of each placed label, as the SVG draws it (text-anchor start or end)."""
    boxes = []
    for name, x, baseline, anchor in labels:
        width = 6.8 * len(name)
        left = x if anchor == "start" else x - width
        boxes.append((left, left + width, baseline - 11, baseline + 3))
    return boxes


boxes = label_boxes(labels)
check(len(labels) == 10 and not any(page.overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]),
      f"place_labels: labels overlap: {labels}")
check(not any(page.overlaps(b, bar) for b in boxes), f"place_labels: a label over the error bar: {labels}")
check(all(10 <= b[0] and b[1] <= 590 and 20 <= baseline <= 300 for b, (_, _, baseline, _) in zip(boxes, labels)),
      f"place_labels: a label outside the plot: {labels}")
# a point by the left edge has its label on the right, one by the right edge on the left
sides = {name: anchor for name, _, _, anchor in page.place_labels(
    [("by_the_left", 30, 100), ("by_the_right", 570, 100)], top=20, bottom=300, left_edge=10, right_edge=590)}
check(sides == {"by_the_left": "start", "by_the_right": "end"}, f"place_labels at the edges: {sides}")
# a neighbour's bar where a label would go, and the left side taken: the label moves up rather than
# just past the bar, whose line back to the point would cross the bar (read as the neighbour's label)
point, neighbour_bar = (100, 100), (125, 135, 60, 140)
[(_, end_x, baseline, _)] = page.place_labels([("aa_resnet20", *point)], top=20, bottom=300, left_edge=10,
                                              right_edge=590,
                                              obstacles=[(95, 105, 80, 120), neighbour_bar, (20, 93, 40, 160)])
check(not page.line_crosses(*point, end_x, baseline - 4, neighbour_bar),
      f"place_labels: the line to ({end_x}, {baseline}) crosses the neighbour's bar")
# no clear place: the label still gets one inside the plot, and the script says so
warned = io.StringIO()
with contextlib.redirect_stderr(warned):
    crowded = page.place_labels([(f"m{i}", 50, 50) for i in range(30)], top=20, bottom=90, left_edge=0, right_edge=120)
check(len(crowded) == 30 and "no clear place" in warned.getvalue(), f"place_labels, crowded: {warned.getvalue()!r}")

# the page and the plot in the repository are what the cells give
checked = subprocess.run([sys.executable, os.path.join(root, "bench", "attention_table", "make_page.py"), "--check"],
                         capture_output=True, text=True)
check(checked.returncode == 0, "make_page.py --check: " + checked.stdout + checked.stderr)

for failure in failures:
    print("FAILED:", failure)
sys.exit(1 if failures else 0)
