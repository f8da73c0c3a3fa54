#!/usr/bin/python3
"""How close is each gradient check to failing?

    /usr/bin/python3 tools/gradcheck_margins.py --build DIR [--top N] [--tests REGEX]

Runs the gradient checks of DIR (`ctest -R " grad$"`, every `<op> grad` test) with
GLIMPSE_GRADCHECK_MARGIN set, so that each gradcheck and module_gradcheck prints its worst entry as
a fraction of its tolerance (tests/gradcheck.h), and lists the tests from the closest to failing,
with the entry that came closest: a test at 1.00 fails. A
passing check near 1 may fail where float rounding differs: another compiler, another CPU's
OpenBLAS kernels (OPENBLAS_CORETYPE=SkylakeX, Haswell, Zen in the environment), or a step that
nears a kink of the function. Not part of the product or the tests: a study (docs/TESTING.md).
"""
import argparse
import os
import re
import subprocess


def worst_fraction_per_test(output):
    names, worst = {}, {}
    for line in output.splitlines():
        command = re.match(r'^(\d+): Test command: .*glimpse_tests "(.*)"', line)
        if command:
            names[command.group(1)] = command.group(2).replace("\\,", ",")
            continue
        margin = re.match(r"^(\d+): .*worst entry at (\S+) of the tolerance \((.*)\)", line)
        if margin:
            number, fraction, where = margin.group(1), float(margin.group(2)), margin.group(3)
            if fraction >= worst.get(number, (0.0, ""))[0]:
                worst[number] = (fraction, where)
    return {names.get(number, number): entry for number, entry in worst.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", required=True, help="a build directory with glimpse_tests built")
    parser.add_argument("--top", type=int, default=15, help="how many tests to list")
    parser.add_argument("--tests", default=" grad$",
                        help="ctest -R regex of the tests to run (default: the `<op> grad` checks)")
    args = parser.parse_args()

    environment = dict(os.environ, GLIMPSE_GRADCHECK_MARGIN="1")
    done = subprocess.run(["ctest", "--test-dir", args.build, "-R", args.tests, "-j2", "-V"], env=environment,
                          capture_output=True, text=True)
    worst = worst_fraction_per_test(done.stdout + done.stderr)
    if not worst:
        raise SystemExit("gradcheck_margins.py: no check reported a margin; is glimpse_tests built in " + args.build)
    print("worst entry / tolerance\ttest\tthe entry")
    for name, (fraction, where) in sorted(worst.items(), key=lambda item: -item[1][0])[:args.top]:
        print(f"{fraction:.2f}\t{name}\t{where}")
    print(f"({len(worst)} tests with a gradient check; ctest exit status {done.returncode})")


if __name__ == "__main__":
    main()
