"""Bug-finding benchmark: time to first detection of each bench/bugs/ entry,
per fuzz target and arm, N trials of T seconds each. See bench/README.md.

  /usr/bin/python3 bench/run_bugs.py [--trials N] [--seconds T] [--jobs J]
      [--bugs a,b] [--arms a,b] [--targets a,b] [--out DIR] [--check-only]

Steps:
 1. every patch is checked to apply to the current tree (git apply --check on
    the scratch copy, tree.py); one that does not fails the run (exit 1);
 2. for each bug: apply its patch to the copy, build the targets it names
    (incremental, ccache), keep the binaries under DIR/bin/<bug>/, restore
    the copy;
 2b. each variant runs the entry's hand-check program (bugs/<bug>.txt) once
    with lifetime_fuzzer: its signature must match the entry's `expect`;
 3. trials, at most J at a time: -seed=1000+i (the same for every arm), from
    a copy of corpus/<target>/ (--seeds=corpus, default) or an empty corpus,
    the target's dictionary and options; one JSON line per trial in
    DIR/trials.jsonl (a re-run skips the trials already there).

Arms (same binary, switched by environment, fuzzers/targets/target.h):
  structure  the target as shipped: structure-aware mutator, the target's
             executor mode (deterministic scheduling for lifetime_fuzzer)
  bytes      MCF_MUTATOR=bytes: libFuzzer's byte mutations of the binary
             encoding, no structure-aware mutator or crossover
  threads    MCF_EXEC_MODE=threads: real threads instead of deterministic
             scheduling (concurrency bugs of lifetime_fuzzer only)

Exit status: 0 done; 1 a patch does not apply, a build failed, a hand check
did not give the expected signature, or (with
--require-detection) a bug was not detected in every arm; 2 bad usage.
"""

import argparse
import concurrent.futures
import configparser
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bugs as catalogue  # noqa: E402
import trial  # noqa: E402
import tree  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARMS = {
    "structure": {},
    "bytes": {"MCF_MUTATOR": "bytes"},
    "threads": {"MCF_EXEC_MODE": "threads"},
}
PRESET_OF = {"race_fuzzer": "tsan"}  # every other target: asan


def fail(code, msg):
    print(f"run_bugs: {msg}", file=sys.stderr)
    sys.exit(code)


def arms_for(bug, target, wanted):
    out = []
    for arm in wanted:
        if arm == "threads" and (not bug["concurrency"] or target != "lifetime_fuzzer"):
            continue
        out.append(arm)
    return out


def target_flags(target):
    """The target's dictionary and its .options values (OSS-Fuzz style)."""
    flags = []
    d = os.path.join(REPO, "corpus", f"{target}.dict")
    if os.path.exists(d):
        flags.append(f"-dict={d}")
    opts = os.path.join(REPO, "corpus", f"{target}.options")
    if os.path.exists(opts):
        cp = configparser.ConfigParser()
        cp.read(opts)
        if cp.has_section("libfuzzer"):
            flags += [f"-{k}={v}" for k, v in cp.items("libfuzzer")]
    return flags


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=2, help="trials in parallel (at most 2 here)")
    ap.add_argument("--bugs", default="", help="comma-separated entries (default: all)")
    ap.add_argument("--arms", default="structure,bytes,threads")
    ap.add_argument("--targets", default="", help="only these targets (default: each bug's)")
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench", "run"))
    ap.add_argument("--tree", default=os.path.join(REPO, "build", "bench", "tree"),
                    help="the scratch copy of the source tree (kept for incremental builds)")
    ap.add_argument("--seeds", choices=("corpus", "empty"), default="corpus",
                    help="start each trial from a copy of corpus/<target>/ (default) or "
                         "from an empty corpus")
    ap.add_argument("--build-jobs", type=int, default=2)
    ap.add_argument("--repro", default="",
                    help="an mcf-repro binary for signatures (default: built in the copy)")
    ap.add_argument("--check-only", action="store_true",
                    help="only check that every patch applies")
    ap.add_argument("--build-only", action="store_true",
                    help="stop after building the variants (for checking a patch by hand)")
    ap.add_argument("--require-detection", action="store_true",
                    help="exit 1 unless every bug x target x arm was detected with its "
                         "expected signature at least once (the ctest quick mode)")
    a = ap.parse_args(argv)
    if a.trials < 1 or a.seconds < 1 or a.jobs < 1:
        fail(2, "--trials, --seconds and --jobs must be positive")
    a.arms = [x for x in a.arms.split(",") if x]
    bad = [x for x in a.arms if x not in ARMS]
    if bad:
        fail(2, f"--arms: unknown arm {', '.join(bad)} (arms: {', '.join(ARMS)})")
    a.bugs = [x for x in a.bugs.split(",") if x]
    a.targets = [x for x in a.targets.split(",") if x]
    return a


def check_all(entries, tree_dir):
    bad = []
    for e in entries:
        msg = catalogue.check_applies(e["path"], tree_dir)
        if msg:
            bad.append(f"{e['bug']}: {msg}")
    return bad


def build_variant(e, targets, a, log):
    """Builds the targets with the bug's patch in; returns {target: binary}."""
    files = catalogue.touched_files(e["path"], a.tree)
    bin_dir = os.path.join(a.out, "bin", e["bug"])
    os.makedirs(bin_dir, exist_ok=True)
    out = {}
    applied = False
    try:
        subprocess.run(["git", "apply", e["path"]], cwd=a.tree, check=True,
                       capture_output=True)
        applied = True
        unchanged = [f for f in files if tree.same_as_source(REPO, a.tree, f)]
        if unchanged:
            raise RuntimeError(f"git apply left {', '.join(unchanged)} unchanged in {a.tree}")
        for preset in sorted({PRESET_OF.get(t, "asan") for t in targets}):
            ts = [t for t in targets if PRESET_OF.get(t, "asan") == preset]
            build_dir = tree.build(REPO, a.tree, preset, ts, a.build_jobs, log)
            for t in ts:
                dst = os.path.join(bin_dir, t)
                shutil.copy2(os.path.join(build_dir, "fuzzers", "targets", t), dst)
                out[t] = dst
    finally:
        if applied:
            tree.restore(REPO, a.tree, files)
    return out


def main(argv):
    a = parse_args(argv)
    try:
        entries = catalogue.load(os.path.join(REPO, "bench", "bugs"), a.bugs or None)
        all_entries = catalogue.load(os.path.join(REPO, "bench", "bugs"))
    except catalogue.BadCatalogue as e:
        fail(2, str(e))
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.tree, exist_ok=True)
    copied = tree.sync(REPO, a.tree)
    print(f"run_bugs: scratch tree {a.tree} ({copied} files updated)", flush=True)

    # 1. Every patch still applies (all of them, whatever --bugs says).
    bad = check_all(all_entries, a.tree)
    for b in bad:
        print(f"run_bugs: patch does not apply: {b}", file=sys.stderr)
    if bad:
        return 1
    print(f"run_bugs: all {len(all_entries)} patches apply", flush=True)
    if a.check_only:
        return 0

    # 2. The plan and its worst-case cost.
    plan = []
    for e in entries:
        targets = [t for t in e["targets"] if not a.targets or t in a.targets]
        for t in targets:
            for arm in arms_for(e, t, a.arms):
                for i in range(a.trials):
                    plan.append((i, e["bug"], t, arm))
    plan.sort()
    if not plan:
        fail(2, "nothing to run (check --bugs, --targets, --arms)")
    worst = len(plan) * a.seconds / a.jobs
    print(f"run_bugs: {len(plan)} trials of <= {a.seconds} s, {a.jobs} at a time: "
          f"<= {worst / 60:.1f} min of fuzzing (early stop at first detection)", flush=True)

    results_path = os.path.join(a.out, "trials.jsonl")
    done = set()
    if os.path.exists(results_path):
        with open(results_path) as f:
            for line in f:
                r = json.loads(line)
                if r["budget"] == a.seconds:
                    done.add((r["trial"], r["bug"], r["target"], r["arm"]))
    todo = [p for p in plan if p not in done]

    # 3. Builds, one variant at a time (never two builds at once).
    log = os.path.join(a.out, "build.log")
    repro = a.repro
    if not repro:
        repro_dir = tree.build(REPO, a.tree, "asan", ["mcf-repro"], a.build_jobs, log)
        repro = os.path.join(a.out, "bin", "mcf-repro")
        os.makedirs(os.path.dirname(repro), exist_ok=True)
        shutil.copy2(os.path.join(repro_dir, "fuzzers", "tools", "mcf-repro"), repro)
    elif not os.access(repro, os.X_OK):
        fail(2, f"--repro {repro}: not an executable")
    binaries = {}
    hand_checks = {}
    for e in entries:
        needed = sorted({t for (_, b, t, _) in plan if b == e["bug"]})
        if not needed:
            continue
        print(f"run_bugs: building {e['bug']} ({', '.join(needed)})", flush=True)
        try:
            for t, path in build_variant(e, needed, a, log).items():
                binaries[(e["bug"], t)] = path
        except Exception as ex:  # a build error: the log says which
            print(f"run_bugs: build of {e['bug']} failed ({ex}); see {log}", file=sys.stderr)
            return 1
        # The hand check: the entry's program must give the expected signature.
        if "lifetime_fuzzer" in needed:
            sig = trial.reproduce(binaries[(e["bug"], "lifetime_fuzzer")], e["program"], repro,
                                  os.path.join(a.out, "bin", e["bug"], "program.log"))
            hand_checks[e["bug"]] = sig
            if not catalogue.signature_matches(e["expect"], sig):
                print(f"run_bugs: {e['bug']}: {os.path.basename(e['program'])} gives "
                      f"'{sig or 'no finding'}', not /{e['expect']}/", file=sys.stderr)
                return 1
            print(f"run_bugs: {e['bug']}: hand check: {sig}", flush=True)

    if a.build_only:
        print(f"run_bugs: binaries in {os.path.join(a.out, 'bin')}", flush=True)
        return 0

    # 4. Trials.
    by_name = {e["bug"]: e for e in entries}
    lock = threading.Lock()
    started = datetime.datetime.now(datetime.timezone.utc)
    load_at_start = os.getloadavg()

    def one(p):
        i, bug, target, arm = p
        tdir = os.path.join(a.out, "trials", bug, f"{target}.{arm}", str(i))
        seeds = os.path.join(REPO, "corpus", target) if a.seeds == "corpus" else None
        r = trial.run(binaries[(bug, target)], target_flags(target), ARMS[arm], 1000 + i,
                      a.seconds, tdir, repro, seeds)
        r.update({"bug": bug, "target": target, "arm": arm, "trial": i})
        r["match"] = r["finding"] and catalogue.signature_matches(by_name[bug]["expect"],
                                                                 r["signature"])
        with lock:
            with open(results_path, "a") as f:
                f.write(json.dumps(r, sort_keys=True) + "\n")
            state = ("detected" if r["match"] else "other finding" if r["finding"]
                     else "not found")
            print(f"run_bugs: {bug} {target} {arm} #{i}: {state} at {r['time']:.1f} s "
                  f"({r['execs']} execs) {r['signature'][:100]}", flush=True)
        return r

    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        list(pool.map(one, todo))
    meta = {
        "command": " ".join(shlex.quote(x) for x in ["bench/run_bugs.py", *argv]),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "trials": a.trials, "seconds": a.seconds, "jobs": a.jobs, "arms": a.arms,
        "seeds": a.seeds, "hand_checks": hand_checks,
        "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                                 text=True).stdout.strip(),
        "tree_dirty": subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                     cwd=REPO, capture_output=True, text=True).stdout != "",
        "cpus": os.cpu_count(),
        "load_at_start": load_at_start,
        "load_at_end": os.getloadavg(),
    }
    with open(os.path.join(a.out, "run.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"run_bugs: results in {results_path}", flush=True)
    if a.require_detection:
        hit = set()
        with open(results_path) as f:
            for line in f:
                r = json.loads(line)
                if r["match"] and r["budget"] == a.seconds:
                    hit.add((r["bug"], r["target"], r["arm"]))
        missed = sorted({(b, t, arm) for (_, b, t, arm) in plan} - hit)
        for b, t, arm in missed:
            print(f"run_bugs: {b} not detected by {t} ({arm}) within {a.seconds} s",
                  file=sys.stderr)
        if missed:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
