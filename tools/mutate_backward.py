#!/usr/bin/python3
"""Do the gradient checks catch a wrong backward? Mutation testing of the ops' backward code.

    /usr/bin/python3 tools/mutate_backward.py --list                    the mutants, without building
    /usr/bin/python3 tools/mutate_backward.py --build DIR [--out FILE.tsv] [--files conv2d.cpp,pool.cpp]
        [--tests REGEX] [--every N [--offset K]]

The backward code of engine/ops/*.cpp is every function whose name holds "backward" or "grad"
(and col2im, through_relu) and every node's backward methods. In it each line gets, one at a time,
the small wrong edits a slip of the pen makes:

    flip      the first `+=` becomes `-=`            (a gradient subtracted)
    overwrite the first `+=` becomes `=`             (a gradient that replaces instead of adding)
    sign      the first ` - ` or ` + ` swaps         (a wrong sign in a formula)
    delete    the line's statement is left out       (a term forgotten)

For each mutant the file is edited in place in DIR's source tree (a git worktree of its own: this
tool rewrites a file there for each mutant and restores it before the next), the test binary rebuilt, and the tests
whose name matches --tests (default: the gradient checks, `ctest -R ' grad$'`) run. A mutant is
"caught" when one of them fails (or crashes, or runs past 30 s), "missed" when all pass, and
left out when it does not compile. Every missed mutant is a place where a wrong backward would
pass the gradient checks: either the edit changes nothing the op computes (the line was dead or
the edit equivalent), or no check reaches that code. --every N [--offset K] keeps every Nth
mutant from the Kth (a sample, or a part of the whole run for one sitting).
Writes one row per mutant to --out (default: mutants.tsv in DIR) and prints the tally per file.
A run stopped part-way goes on where it stopped when started again with the same --out (on the same
commit: a row is known by its file, line and edit).
Not part of the product or the tests: a study (docs/TESTING.md says what it found).
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import time

BACKWARD_NAME = r"\w*(?:backward|grad|col2im|through_relu)\w*"
TOP_LEVEL = re.compile(r"^(?![\s/#}])[^;()=]*\b" + BACKWARD_NAME + r"\s*\(")  # a definition at column 0
DECLARATION = re.compile(r"^(?!return\b)[\w:<>,]+(?:\s+[\w:<>,]+)*[\s*&]+\w+\s*(?:[=({;]|\[)")  # `T name = ...;`: left alone
STRUCTURED_BINDING = re.compile(r"^(?:const\s+)?auto\s*&{0,2}\s*\[[\w\s,]+\]\s*=")  # `auto [a, b] = ...;`: too
METHOD = re.compile(r"^(\s+)void " + BACKWARD_NAME + r"\(.*\{\s*$")


def backward_regions(lines):
    """(first body line, line after the body) of every backward function and method."""
    regions, i = [], 0
    while i < len(lines):
        line = lines[i]
        method = METHOD.match(line)
        if TOP_LEVEL.match(line) and not line.rstrip().endswith(";"):
            while "{" not in lines[i] and not lines[i].rstrip().endswith(";"):
                i += 1
            if lines[i].rstrip().endswith(";"):  # a declaration
                i += 1
                continue
            end = next(j for j in range(i + 1, len(lines)) if lines[j].rstrip() == "}")
            regions.append((i + 1, end))
            i = end
        elif method:
            close = method.group(1) + "}"
            end = next(j for j in range(i + 1, len(lines)) if lines[j].rstrip() == close)
            regions.append((i + 1, end))
            i = end
        i += 1
    return regions


def code_of(line):
    """The line without its trailing // comment."""
    at = line.find("//")
    return line if at < 0 else line[:at]


def mutants_of_line(line, previous):
    """[(operator, mutated line)] for one line of backward code (previous: the line before it)."""
    code = code_of(line)
    stripped = code.strip()
    if not stripped or stripped.startswith(("}", "{", "//", "#")) or "fail(" in code:
        return []
    rest = line[len(code):]
    out = []
    if "+=" in code:
        out.append(("flip", code.replace("+=", "-=", 1) + rest))
        out.append(("overwrite", code.replace("+=", "=", 1) + rest))
    for a, b in ((" - ", " + "), (" + ", " - ")):
        if a in code:
            out.append(("sign", code.replace(a, b, 1) + rest))
            break
    declares = DECLARATION.match(stripped) or STRUCTURED_BINDING.match(stripped)
    if stripped.endswith(";") and not stripped.startswith(("return", "for (", "if (", "else")) and not declares \
            and code_of(previous).rstrip().endswith((";", "{", "}")):
        indent = code[:len(code) - len(code.lstrip())]
        out.append(("delete", indent + "// (left out by the mutation) " + line.strip()))
    return out


def all_mutants(source_dir, files):
    out = []
    for name in files:
        path = os.path.join(source_dir, "engine", "ops", name)
        with open(path) as f:
            lines = f.read().split("\n")
        for start, end in backward_regions(lines):
            for n in range(start, end):
                for operator, mutated in mutants_of_line(lines[n], lines[n - 1]):
                    out.append((name, n, operator, mutated))
    return out


def run(command, cwd, timeout):
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        return done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        return None, "timed out"


def failed_tests(output):
    tail = output.split("The following tests FAILED:")
    if len(tail) < 2:
        return []
    return [re.sub(r"^\s*\d+ - ", "", line).strip() for line in tail[1].strip().split("\n") if " - " in line][:3]


def rows_already_written(path):
    """The outcome of each mutant an earlier sitting wrote to path, so that a stopped run goes on."""
    if not os.path.exists(path):
        return {}
    done = {}
    for row in open(path).read().split("\n")[1:]:
        fields = row.split("\t")
        if len(fields) == 6:
            done[(fields[0], fields[1], fields[2], fields[5])] = fields[3]
    return done


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", help="a build directory whose source tree this tool may edit")
    parser.add_argument("--list", action="store_true", help="print the mutants and exit")
    parser.add_argument("--files", default="", help="comma-separated files of engine/ops (default: all)")
    parser.add_argument("--tests", default=" grad$", help="ctest -R regex of the tests that must catch a mutant")
    parser.add_argument("--every", type=int, default=1, help="keep every Nth mutant")
    parser.add_argument("--offset", type=int, default=0, help="with --every: start at this mutant (0 to N-1)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    source = os.path.normpath(os.path.join(here, ".."))
    if args.build:
        cache = open(os.path.join(args.build, "CMakeCache.txt")).read()
        source = re.search(r"^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$", cache, re.M).group(1)
    files = args.files.split(",") if args.files else sorted(
        f for f in os.listdir(os.path.join(source, "engine", "ops")) if f.endswith(".cpp"))
    mutants = all_mutants(source, files)[args.offset::args.every]
    if args.list or not args.build:
        for name, n, operator, mutated in mutants:
            print(f"{name}:{n + 1} {operator}: {mutated.strip()}")
        print(f"{len(mutants)} mutants", file=sys.stderr)
        return
    if subprocess.run(["git", "-C", source, "diff", "--quiet", "--", "engine/ops"]).returncode != 0:
        sys.exit(f"mutate_backward.py: {source}/engine/ops has uncommitted changes; use a clean worktree")

    out_path = args.out or os.path.join(args.build, "mutants.tsv")
    tally = collections.defaultdict(collections.Counter)  # file -> outcome -> mutants
    done = rows_already_written(out_path)
    with open(out_path, "a") as out:
        if out.tell() == 0:
            out.write("file\tline\toperator\toutcome\ttests that failed\tmutated line\n")
        for k, (name, n, operator, mutated) in enumerate(mutants):
            key = (name, str(n + 1), operator, mutated.strip())
            if key in done:  # tested by an earlier sitting of the same run
                tally[name][done[key]] += 1
                continue
            path = os.path.join(source, "engine", "ops", name)
            original = open(path).read()
            lines = original.split("\n")
            lines[n] = mutated
            try:  # one mutant at a time: its file is restored before the next is written
                with open(path, "w") as f:
                    f.write("\n".join(lines))
                status, log = run(["cmake", "--build", args.build, "--target", "glimpse_tests", "-j2"], source, 900)
                if status != 0:
                    outcome, caught_by = "does not compile", []
                else:
                    status, log = run(["ctest", "--test-dir", args.build, "-R", args.tests, "-j2", "--timeout", "30"],
                                      source, 600)
                    outcome = "missed" if status == 0 else "caught"
                    caught_by = failed_tests(log) if status else []
                tally[name][outcome] += 1
                out.write(f"{name}\t{n + 1}\t{operator}\t{outcome}\t{'; '.join(caught_by)}\t{mutated.strip()}\n")
                out.flush()
                print(f"[{k + 1}/{len(mutants)} {time.strftime('%H:%M:%S')}] {name}:{n + 1} {operator}: {outcome}",
                      flush=True)
            finally:
                with open(path, "w") as f:
                    f.write(original)
    print("\nfile\tcaught\tmissed\tdoes not compile")
    for name, counts in sorted(tally.items()):
        print(f"{name}\t{counts.get('caught', 0)}\t{counts.get('missed', 0)}\t{counts.get('does not compile', 0)}")
    print(f"rows: {out_path}")


if __name__ == "__main__":
    main()
