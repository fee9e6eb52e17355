"""Tables and plot of a bug-finding run (bench/run_bugs.py's trials.jsonl).

  /usr/bin/python3 bench/analyze.py RUN_DIR --results OUT_DIR [--note TEXT]

Writes OUT_DIR/table.md, OUT_DIR/table.json and OUT_DIR/plot.png, and copies
the run's trials.jsonl and run.json (the command line) next to them.

Per bug x target x arm: detections with the expected signature / trials,
other findings (the trial stopped on a finding whose signature does not
match), the median time of the detections, and the Kaplan-Meier median of
time to detection with trials censored at the budget (or at the time they
stopped on another finding): "> B" when fewer than half the trials detected
it within budget B. Arm comparisons (Mann-Whitney U, two-sided, on time to
detection with undetected trials at the budget; Vargha-Delaney A12) are
given only where both arms have at least 10 trials (benchmark-method.md §5).
A12 is P(structure detects earlier than the arm) + P(tie)/2.
"""

import argparse
import collections
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bugs as catalogue  # noqa: E402
import stats  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIN_TRIALS = 10
ARM_ORDER = ["structure", "bytes", "threads"]
BASELINE_OF = {"bytes": "structure", "threads": "structure"}


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cell_stats(rows):
    budget = max(r["budget"] for r in rows)
    samples = [(r["time"] if r["match"] else min(r["time"], budget), bool(r["match"]))
               for r in rows]
    det = [r["time"] for r in rows if r["match"]]
    return {
        "trials": len(rows),
        "detected": len(det),
        "other_findings": sum(1 for r in rows if r["finding"] and not r["match"]),
        "rate": len(det) / len(rows),
        "median_time": stats.median(det),
        "km_median": stats.km_median(samples),
        "budget": budget,
        "execs_median": stats.median([r["execs"] for r in rows]),
        "other_signatures": sorted({r["signature"] for r in rows
                                    if r["finding"] and not r["match"]}),
    }


def ranked_times(rows):
    """Time to detection with every undetected trial at the budget."""
    return [r["time"] if r["match"] else r["budget"] for r in rows]


def compare(a_rows, b_rows):
    if len(a_rows) < MIN_TRIALS or len(b_rows) < MIN_TRIALS:
        return None
    x, y = ranked_times(a_rows), ranked_times(b_rows)
    u, p = stats.mann_whitney(x, y)
    return {"u": u, "p": p, "a12": stats.a12(x, y), "n": [len(x), len(y)]}


def cell(text):
    """Text for a Markdown table cell: '|' would end the cell."""
    return str(text).replace("|", "\\|")


def fmt_t(v, budget):
    return f"> {budget:g}" if v is None else f"{v:.1f}"


def analyze(rows, entries):
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["bug"], r["target"], r["arm"])].append(r)
    cells = []
    for (bug, target, arm), rs in sorted(groups.items()):
        c = cell_stats(rs)
        c.update({"bug": bug, "target": target, "arm": arm})
        base = BASELINE_OF.get(arm)
        if base and (bug, target, base) in groups:
            c["vs"] = base
            c["comparison"] = compare(groups[(bug, target, base)], rs)
        cells.append(c)
    # Per arm over the bugs it ran on: detections per trial index, for a
    # Mann-Whitney on "bugs found per campaign" (Magma's measure).
    per_arm = {}
    for arm in ARM_ORDER:
        rs = [r for r in rows if r["arm"] == arm]
        if not rs:
            continue
        per_trial = collections.Counter()
        for r in rs:
            per_trial[r["trial"]] += 1 if r["match"] else 0
        per_arm[arm] = {"bugs_run": len({(r["bug"], r["target"]) for r in rs}),
                        "trials": len({r["trial"] for r in rs}),
                        "found_per_trial": [per_trial[i] for i in sorted({r["trial"] for r in rs})]}
    meta = {e["bug"]: {k: e[k] for k in ("class", "source", "concurrency", "expect")}
            for e in entries}
    return cells, per_arm, meta


def arm_comparisons(rows):
    """Arm vs structure on the (bug, target) pairs both ran: bugs found per trial."""
    out = {}
    for arm in ("bytes", "threads"):
        pairs = {(r["bug"], r["target"]) for r in rows if r["arm"] == arm}
        if not pairs:
            continue
        found = {a: collections.Counter() for a in ("structure", arm)}
        trials = {a: set() for a in ("structure", arm)}
        for r in rows:
            if (r["bug"], r["target"]) in pairs and r["arm"] in found:
                trials[r["arm"]].add(r["trial"])
                found[r["arm"]][r["trial"]] += 1 if r["match"] else 0
        xs = [found["structure"][i] for i in sorted(trials["structure"])]
        ys = [found[arm][i] for i in sorted(trials[arm])]
        res = {"pairs": len(pairs), "structure": xs, arm: ys}
        if len(xs) >= MIN_TRIALS and len(ys) >= MIN_TRIALS:
            u, p = stats.mann_whitney(ys, xs)
            res.update({"u": u, "p": p, "a12_structure_finds_more": stats.a12(ys, xs)})
        out[arm] = res
    return out


def markdown(cells, comps, meta, run, note):
    budget = max(c["budget"] for c in cells)
    lines = [f"# Bug-finding benchmark, budget B = {budget:g} s per trial", ""]
    if run:
        lines += [f"Command: `{run.get('command', '?')}`  ", f"Run: {run.get('started', '?')} to "
                  f"{run.get('finished', '?')} (UTC), {run.get('jobs', '?')} trials in parallel.", ""]
    if note:
        lines += [note, ""]
    lines += ["Detected = the trial's first finding has the bug's expected signature. "
              "KM median: Kaplan-Meier median time to detection, censored at B (or when a "
              "trial stopped on another finding); '> B' = not reached within budget B. "
              "p, A12: Mann-Whitney U (two-sided) and Vargha-Delaney A12 of `structure` against "
              "the arm on time to detection (undetected = B): A12 = P(structure detects "
              "earlier) + P(tie)/2, > 0.5 when `structure` is faster. Shown only with >= "
              f"{MIN_TRIALS} trials in both arms.", "",
              "| bug | target | arm | detected | other findings | median s | KM median s | "
              "median execs | p vs structure | A12 |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for c in cells:
        cmp = c.get("comparison")
        p = f"{cmp['p']:.3g}" if cmp else ""
        a12 = f"{cmp['a12']:.2f}" if cmp else ""
        med = "" if c["median_time"] is None else f"{c['median_time']:.1f}"
        lines.append(f"| {c['bug']} | {c['target']} | {c['arm']} | {c['detected']}/{c['trials']} "
                     f"| {c['other_findings']} | {med} | {fmt_t(c['km_median'], c['budget'])} | "
                     f"{c['execs_median']:.0f} | {p} | {a12} |")
    lines += ["", "## Arms over all bugs", ""]
    for arm, r in comps.items():
        s = (f"- `{arm}` vs `structure` on the {r['pairs']} (bug, target) pairs both ran: "
             f"bugs detected per trial, structure {r['structure']}, {arm} {r[arm]}")
        if "p" in r:
            s += (f"; Mann-Whitney p = {r['p']:.3g}, A12(structure finds more) = "
                  f"{r['a12_structure_finds_more']:.2f}")
        else:
            s += f"; no test (< {MIN_TRIALS} trials per arm)"
        lines.append(s + f", within budget B = {budget:g} s.")
    lines += ["", "## Bugs", "", "| bug | class | concurrency | source | expected signature |",
              "|---|---|---|---|---|"]
    for bug, m in sorted(meta.items()):
        lines.append(f"| {bug} | {cell(m['class'])} | {'yes' if m['concurrency'] else 'no'} | "
                     f"{cell(m['source'])} | `{cell(m['expect'])}` |")
    others = [(c["bug"], c["target"], c["arm"], s) for c in cells for s in c["other_signatures"]]
    if others:
        lines += ["", "## Other findings (first finding of a trial, not the expected signature)",
                  ""]
        lines += [f"- {b} {t} {a}: `{s}`" for b, t, a, s in others]
    return "\n".join(lines) + "\n"


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budget = max(r["budget"] for r in rows)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    # Left: every bug, the two arms that ran on all of them; right: the
    # (bug, target) pairs the threads arm ran on, all three arms.
    conc = {(r["bug"], r["target"]) for r in rows if r["arm"] == "threads"}
    panels = [("all bugs and targets", lambda r: r["arm"] != "threads"),
              ("concurrency bugs (lifetime_fuzzer)", lambda r: (r["bug"], r["target"]) in conc)]
    for ax, (title, keep) in zip(axes, panels):
        for arm in ARM_ORDER:
            rs = [r for r in rows if r["arm"] == arm and keep(r)]
            if not rs:
                continue
            times = sorted(r["time"] for r in rs if r["match"])
            xs = [0.0] + times + [budget]
            ys = [0.0] + [(i + 1) / len(rs) for i in range(len(times))] + [len(times) / len(rs)]
            ax.step(xs, ys, where="post", label=f"{arm} ({len(times)}/{len(rs)})")
        ax.set_title(title)
        ax.set_xlabel("seconds into the trial")
        ax.set_xlim(0, budget)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    axes[0].set_ylabel("fraction of (bug, target, trial) runs detected")
    fig.suptitle(f"Cumulative detections over time per arm, budget {budget:g} s per trial")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run_dir")
    ap.add_argument("--results", required=True)
    ap.add_argument("--note", default="")
    a = ap.parse_args(argv)
    trials_path = os.path.join(a.run_dir, "trials.jsonl")
    if not os.path.exists(trials_path):
        print(f"analyze: {trials_path}: no such file", file=sys.stderr)
        return 2
    rows = load(trials_path)
    if not rows:
        print(f"analyze: {trials_path}: no trials", file=sys.stderr)
        return 2
    entries = catalogue.load(os.path.join(REPO, "bench", "bugs"),
                             sorted({r["bug"] for r in rows}))
    # A detection is judged against the catalogue's current `expect` (the
    # signature itself is what the trial recorded).
    expect = {e["bug"]: e["expect"] for e in entries}
    for r in rows:
        r["match"] = r["finding"] and catalogue.signature_matches(expect[r["bug"]],
                                                                  r["signature"])
    run = {}
    run_path = os.path.join(a.run_dir, "run.json")
    if os.path.exists(run_path):
        with open(run_path) as f:
            run = json.load(f)
    cells, per_arm, meta = analyze(rows, entries)
    comps = arm_comparisons(rows)
    os.makedirs(a.results, exist_ok=True)
    with open(os.path.join(a.results, "table.md"), "w") as f:
        f.write(markdown(cells, comps, meta, run, a.note))
    with open(os.path.join(a.results, "table.json"), "w") as f:
        json.dump({"run": run, "cells": cells, "per_arm": per_arm, "arm_comparisons": comps,
                   "bugs": meta, "note": a.note}, f, indent=1, sort_keys=True)
    plot(rows, os.path.join(a.results, "plot.png"))
    shutil.copy2(trials_path, os.path.join(a.results, "trials.jsonl"))
    if run:
        shutil.copy2(run_path, os.path.join(a.results, "run.json"))
    print(f"analyze: {len(rows)} trials -> {a.results}/table.md, table.json, plot.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
