"""Throughput benchmark: execs/s of each fuzz target from its shipped corpus,
next to empty_fuzzer built with the same flags, in the same run; programs/s
and scheduling points/s of lifetime_fuzzer in deterministic mode (and, for
comparison, on real threads).

  /usr/bin/python3 bench/throughput.py [--seconds S] [--asan-dir D] [--tsan-dir D]
      [--out DIR]

One target at a time (nothing else of ours runs meanwhile), each for S
seconds with -seed=1, from a temporary copy of corpus/<target>/ (libFuzzer
writes new inputs into its first corpus directory: the shipped one is never
passed). empty_fuzzer runs from a copy of corpus/lifetime_fuzzer/. Figures
are libFuzzer's final stats (stat::number_of_executed_units,
stat::average_exec_per_sec) and the target's MCF_EXEC_STATS=1 line
(fuzzers/targets/target.h): scheduling points/s = points / (units / execs/s).
A target that is not built (e.g. no tsan build) is skipped with a note.

Writes DIR/throughput.md and DIR/throughput.json. Exit status: 0; 1 when a
target reported a finding or did not produce its stats; 2 bad usage.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trial  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# (label, preset, binary, corpus, extra environment)
RUNS = [
    ("empty_fuzzer", "asan", "empty_fuzzer", "lifetime_fuzzer", {}),
    ("mc_ioctl_fuzzer", "asan", "mc_ioctl_fuzzer", "mc_ioctl_fuzzer", {}),
    ("v4l2_ioctl_fuzzer", "asan", "v4l2_ioctl_fuzzer", "v4l2_ioctl_fuzzer", {}),
    ("lifetime_fuzzer", "asan", "lifetime_fuzzer", "lifetime_fuzzer", {}),
    ("lifetime_fuzzer (real threads)", "asan", "lifetime_fuzzer", "lifetime_fuzzer",
     {"MCF_EXEC_MODE": "threads"}),
    ("empty_fuzzer", "tsan", "empty_fuzzer", "lifetime_fuzzer", {}),
    ("race_fuzzer", "tsan", "race_fuzzer", "race_fuzzer", {}),
]
STAT_RE = re.compile(r"^stat::(\w+):\s*(\d+)", re.M)
EXEC_STATS_RE = re.compile(
    r"==mcfuzz== EXEC-STATS programs=(\d+) sched_points=(\d+) preemptions=(\d+)")


def run_one(binary, corpus_src, env_extra, seconds, work):
    corpus = tempfile.mkdtemp(prefix="corpus.", dir=work)
    for name in os.listdir(corpus_src):
        src = os.path.join(corpus_src, name)
        if os.path.isfile(src):
            shutil.copy(src, corpus)
    target = os.path.basename(corpus_src)
    flags = [f"-dict={os.path.join(REPO, 'corpus', target + '.dict')}"]
    if not os.path.exists(flags[0][6:]):
        flags = []
    env = trial.sanitizer_env(dict(env_extra, MCF_EXEC_STATS="1"))
    cmd = [binary, "-seed=1", f"-max_total_time={seconds}", "-print_final_stats=1",
           "-max_len=4096", f"-artifact_prefix={work}/", *flags, corpus]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                       timeout=seconds + trial.GRACE)
    log = p.stderr.decode(errors="replace")
    shutil.rmtree(corpus, ignore_errors=True)
    st = {k: int(v) for k, v in STAT_RE.findall(log)}
    out = {"rc": p.returncode, "execs": st.get("number_of_executed_units"),
           "execs_per_s": st.get("average_exec_per_sec")}
    m = EXEC_STATS_RE.search(log)
    if m:
        out.update({"programs": int(m.group(1)), "sched_points": int(m.group(2)),
                    "preemptions": int(m.group(3))})
    if p.returncode != 0 or out["execs"] is None:
        out["error"] = log[-2000:]
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--asan-dir", default=os.path.join(REPO, "build", "asan"))
    ap.add_argument("--tsan-dir", default=os.path.join(REPO, "build", "tsan"))
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench", "throughput"))
    a = ap.parse_args(argv)
    if a.seconds < 1:
        print("throughput: --seconds must be positive", file=sys.stderr)
        return 2
    dirs = {"asan": a.asan_dir, "tsan": a.tsan_dir}
    os.makedirs(a.out, exist_ok=True)
    rows, failed = [], False
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    for label, preset, binary, corpus, env in RUNS:
        path = os.path.join(dirs[preset], "fuzzers", "targets", binary)
        if not os.path.exists(path):
            print(f"throughput: {preset}/{binary}: not built, skipped", flush=True)
            continue
        r = run_one(path, os.path.join(REPO, "corpus", corpus), env, a.seconds, a.out)
        r.update({"label": label, "preset": preset, "binary": binary, "seconds": a.seconds})
        if "error" in r:
            failed = True
            print(f"throughput: {preset}/{label} failed (exit {r['rc']}):\n{r['error']}",
                  file=sys.stderr)
        else:
            print(f"throughput: {preset}/{label}: {r['execs']} execs, {r['execs_per_s']}/s",
                  flush=True)
        rows.append(r)
    empty = {r["preset"]: r["execs_per_s"] for r in rows
             if r["binary"] == "empty_fuzzer" and r.get("execs_per_s")}
    for r in rows:
        base = empty.get(r["preset"])
        r["ratio_to_empty"] = (r["execs_per_s"] / base) if base and r.get("execs_per_s") else None
        if r.get("sched_points") is not None and r.get("execs") and r.get("execs_per_s"):
            fuzz_s = r["execs"] / r["execs_per_s"]
            r["programs_per_s"] = r["programs"] / fuzz_s
            r["sched_points_per_s"] = r["sched_points"] / fuzz_s
            r["sched_points_per_program"] = r["sched_points"] / max(r["programs"], 1)
    lines = [f"# Throughput, {a.seconds} s per target, one at a time ({started} UTC)", "",
             "| preset | target | execs | execs/s | / empty_fuzzer | sched points/program | "
             "sched points/s |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = (f"{r['ratio_to_empty']:.2g} (1/{1 / r['ratio_to_empty']:.0f})"
                 if r.get("ratio_to_empty") else "")
        ppp = f"{r['sched_points_per_program']:.0f}" if r.get("sched_points") else ""
        pps = f"{r['sched_points_per_s']:.0f}" if r.get("sched_points") else ""
        lines.append(f"| {r['preset']} | {r['label']} | {r.get('execs')} | "
                     f"{r.get('execs_per_s')} | {ratio} | {ppp} | {pps} |")
    lines += ["", "execs/s of a model target = programs/s (one program per execution). "
              "Scheduling points are counted in deterministic mode only."]
    with open(os.path.join(a.out, "throughput.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(a.out, "throughput.json"), "w") as f:
        json.dump({"started": started, "seconds": a.seconds, "rows": rows}, f, indent=1)
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
