"""The bug catalogue: bench/bugs/*.patch and the header each one opens with.

A patch file is a preamble of "key: value" lines, then a git diff (git apply
skips the preamble); next to it, <bug>.txt is the hand-check program: a text
program (fuzzers/prog/encoding_text.h) that lifetime_fuzzer built with the
patch reports with the expected signature. Keys:
  bug          the entry's name (the file name without .patch)
  class        the bug class, one line
  source       where it comes from: upstream fix, syzbot report, RFC rule
  change       what the patch does to the model
  concurrency  yes: needs an interleaving (the real-threads arm runs on it)
  targets      the fuzz targets that can reach it, space separated
  expect       a regular expression the finding's signature text must match
"""

import os
import re
import subprocess

REQUIRED = ("bug", "class", "source", "change", "concurrency", "targets", "expect")


class BadCatalogue(Exception):
    pass


def parse_header(path):
    meta = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("diff --git"):
                break
            m = re.match(r"^([a-z]+): (.*)$", line.rstrip("\n"))
            if m:
                meta[m.group(1)] = m.group(2).strip()
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise BadCatalogue(f"{path}: header lacks {', '.join(missing)}")
    name = os.path.basename(path)[: -len(".patch")]
    if meta["bug"] != name:
        raise BadCatalogue(f"{path}: 'bug: {meta['bug']}' does not match the file name")
    if meta["concurrency"] not in ("yes", "no"):
        raise BadCatalogue(f"{path}: concurrency must be yes or no")
    try:
        re.compile(meta["expect"])
    except re.error as e:
        raise BadCatalogue(f"{path}: expect is not a regular expression: {e}") from None
    meta["targets"] = meta["targets"].split()
    meta["concurrency"] = meta["concurrency"] == "yes"
    meta["path"] = path
    meta["program"] = path[: -len(".patch")] + ".txt"
    if not os.path.exists(meta["program"]):
        raise BadCatalogue(f"{path}: no hand-check program {os.path.basename(meta['program'])}")
    return meta


def load(bugs_dir, names=None):
    """Every entry (sorted by name), or the named ones; BadCatalogue on error."""
    paths = sorted(
        os.path.join(bugs_dir, f) for f in os.listdir(bugs_dir) if f.endswith(".patch")
    )
    entries = [parse_header(p) for p in paths]
    if names:
        by_name = {e["bug"]: e for e in entries}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise BadCatalogue(f"no such bug: {', '.join(unknown)}")
        entries = [by_name[n] for n in names]
    return entries


def touched_files(patch, tree):
    out = subprocess.run(
        ["git", "apply", "--numstat", patch], cwd=tree, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise BadCatalogue(f"{patch}: not a patch git apply reads: {out.stderr.strip()}")
    return [line.split("\t")[2] for line in out.stdout.splitlines() if line.strip()]


def check_applies(patch, tree):
    """None when it applies to `tree`, else git apply's message."""
    out = subprocess.run(
        ["git", "apply", "--check", patch], cwd=tree, capture_output=True, text=True
    )
    return None if out.returncode == 0 else out.stderr.strip()


def signature_matches(expect, signature):
    return bool(signature) and re.search(expect, signature) is not None
