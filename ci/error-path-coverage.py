#!/usr/bin/env python3
"""Coverage of the model's error paths from a clang coverage profile.

    python3 ci/error-path-coverage.py --profdata P --binary B [--json OUT] [DIR...]

P and B: a ci/coverage.sh run's OUT/mcfuzz.profdata and the binary it ran,
build/coverage/fuzzers/targets/<target> (same sources as the tree).

DIR... default core drivers (relative to the repository root). For each, it
prints line, region and branch coverage (llvm-cov's own counts) and the
coverage of error paths, found in the source:

  error exits  every `if (...)` whose body leaves with an error: `return -E...`,
               `return ret/err/error/rc/nullptr/NULL/false`, or `goto <label>`;
               one is covered when its body ran (the count of the coverage
               region where the body starts, from llvm-cov's segments, is > 0).
               A bare `if (!p) return -ENOMEM;` counts, and so does an
               `if (int err = fault_point(...)) return err;`.
  unwind lines the statements after an unwind label (err*, fail*, unwind*,
               out_err*) up to the end of its function: kernel-style error
               unwinding;
  error lines  the lines of statements inside error-exit bodies, plus unwind
               lines; a line is covered when the region in effect where its
               statements start ran (for `if (!p) return -ENOMEM;` on one
               line: where `return` starts, not the `if`).

A proxy: an error exit whose condition is a plain state check (a node not
registered, -ENODEV) counts as well, as the kernel's own "error paths" do.
The same rules on the same build make two profiles comparable.

Exit status 0; 2 on bad usage (one line on stderr).
"""
import argparse
import bisect
import json
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LLVM_COV = "llvm-cov-14"

ERROR_EXIT = re.compile(
    r"\breturn\s+(-\s*E[A-Z0-9]+|ret|err|error|rc|nullptr|NULL|false)\s*;|\bgoto\s+\w+\s*;")
UNWIND_LABEL = re.compile(r"^\s*(err|fail|unwind|out_err)\w*:\s*$")
IF_OPEN = re.compile(r"\bif\s*(constexpr\s*)?\(")


def die(msg):
    print(f"ci/error-path-coverage.py: {msg}", file=sys.stderr)
    sys.exit(2)


def strip_comments_and_strings(src):
    """Same length and line structure, with comments and literals blanked."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in src[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + (c if j - i >= 2 else ""))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def match_close(text, i, open_ch, close_ch):
    """Index just past the bracket closing the one at text[i]."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == open_ch:
            depth += 1
        elif text[j] == close_ch:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(text)


class Source:
    def __init__(self, path):
        with open(path, encoding="utf-8", errors="replace") as f:
            self.raw = f.read()
        self.code = strip_comments_and_strings(self.raw)
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", self.code)]

    def pos(self, offset):  # -> (line, col), 1-based
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def error_exits(self):
        """(body start offset, body end offset) of every error-exit if."""
        code = self.code
        for m in IF_OPEN.finditer(code):
            cond_end = match_close(code, m.end() - 1, "(", ")")
            k = cond_end
            while k < len(code) and code[k].isspace():
                k += 1
            if k >= len(code):
                continue
            if code[k] == "{":
                end = match_close(code, k, "{", "}")
            else:
                end = code.find(";", k)
                if end < 0:
                    continue
                end += 1
            body = code[k:end]
            if code[k] != "{" and IF_OPEN.match(body):
                continue  # `if (a) if (b) ...`: the inner one is counted itself
            if ERROR_EXIT.search(body):
                yield k, end

    def unwind_lines(self):
        """Line numbers after each unwind label up to its function's end."""
        lines = self.code.split("\n")
        out = set()
        for i, text in enumerate(lines):
            if not UNWIND_LABEL.match(text):
                continue
            for j in range(i + 1, len(lines)):
                if lines[j].startswith("}"):
                    break
                out.add(j + 1)
        return out


class Counts:
    """The count in effect at a position, from llvm-cov's segments."""

    def __init__(self, segments):
        self.keys = [(s[0], s[1]) for s in segments]
        self.segs = segments

    def at(self, line, col):
        i = bisect.bisect_right(self.keys, (line, col)) - 1
        if i < 0:
            return None
        s = self.segs[i]
        return s[2] if s[3] else None  # [line, col, count, has_count, entry, gap]


def statement_lines(src, start, end):
    """Lines in [start, end) holding more than braces and blanks."""
    out = []
    first, _ = src.pos(start)
    last, _ = src.pos(max(start, end - 1))
    lines = src.code.split("\n")
    for ln in range(first, last + 1):
        if lines[ln - 1].strip(" \t{};") != "":
            out.append(ln)
    return out


def first_col(src, ln):
    text = src.code.split("\n")[ln - 1]
    return len(text) - len(text.lstrip()) + 1


def analyse(files, dirs):
    per_dir = {d: dict(lines=[0, 0], regions=[0, 0], branches=[0, 0], exits=[0, 0],
                       unwind=[0, 0], error_lines=[0, 0]) for d in dirs}
    for f in files:
        path = f["filename"]
        rel = os.path.relpath(path, REPO)
        d = next((d for d in dirs if rel.startswith(d.rstrip("/") + "/")), None)
        if d is None or not os.path.exists(path):
            continue
        acc = per_dir[d]
        for key in ("lines", "regions", "branches"):
            acc[key][0] += f["summary"][key]["covered"]
            acc[key][1] += f["summary"][key]["count"]
        src = Source(path)
        counts = Counts(f["segments"])
        # line -> where its statements start: the body's own start on the
        # line of `if (...) return ...;`, else the line's first character.
        error_lines = {}
        for start, end in src.error_exits():
            line, col = src.pos(start)
            c = counts.at(line, col)
            if c is None:
                continue  # not compiled in this binary
            acc["exits"][1] += 1
            acc["exits"][0] += c > 0
            for ln in statement_lines(src, start, end):
                error_lines.setdefault(ln, (line, col) if ln == line else (ln, first_col(src, ln)))
        lines = src.code.split("\n")
        unwind = {ln for ln in src.unwind_lines() if lines[ln - 1].strip(" \t{};") != ""}
        for ln in unwind:
            error_lines.setdefault(ln, (ln, first_col(src, ln)))
        for ln, (pl, pc) in sorted(error_lines.items()):
            c = counts.at(pl, pc)
            if c is None:
                continue
            for b in ["error_lines"] + (["unwind"] if ln in unwind else []):
                acc[b][1] += 1
                acc[b][0] += c > 0
    return per_dir


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        die(f"{message} (see --help)")


def main():
    ap = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profdata", required=True, help="merged profile (llvm-profdata-14 merge)")
    ap.add_argument("--binary", required=True, help="the coverage-preset binary that wrote it")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("dirs", nargs="*", default=["core", "drivers"],
                    help="directories under the repository root (default: core drivers)")
    args = ap.parse_args()
    for p in (args.profdata, args.binary):
        if not os.path.exists(p):
            die(f"{p}: no such file")
    try:
        out = subprocess.run([LLVM_COV, "export", "-format=text", "-skip-expansions",
                              f"-instr-profile={args.profdata}", args.binary],
                             check=True, capture_output=True).stdout
    except FileNotFoundError:
        die(f"{LLVM_COV} not found (bash ci/install-deps.sh)")
    except subprocess.CalledProcessError as e:
        die(f"llvm-cov export failed: {e.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
    data = json.loads(out)
    files = [f for unit in data["data"] for f in unit["files"]]
    per_dir = analyse(files, args.dirs)

    def pct(c):
        return f"{100.0 * c[0] / c[1]:5.1f}% {c[0]:>5}/{c[1]:<5}" if c[1] else "    -"
    cols = ["lines", "regions", "branches", "exits", "error_lines", "unwind"]
    print(f"{'dir':<9}" + "".join(f"{c:>20}" for c in cols))
    for d, acc in per_dir.items():
        print(f"{d + '/':<9}" + "".join(f"{pct(acc[c]):>20}" for c in cols))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({d: {k: {"covered": v[0], "total": v[1]} for k, v in acc.items()}
                       for d, acc in per_dir.items()}, f, indent=1)


if __name__ == "__main__":
    main()
