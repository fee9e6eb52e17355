"""One fuzzing trial: a libFuzzer target run from a copy of a seed corpus (or
an empty one) for at most `seconds`, stopped by libFuzzer at its first
finding; and the one-shot run of a bug's hand-check program.

The time to detection is taken when the finding's first report line reaches
stderr (measured from the process start), not at process exit, so the time
the sanitizer spends symbolizing is not counted. The signature is computed
offline from the trial's log by `mcf-repro signature` (fuzzers/repro/
signature.h), the same way for every arm.
"""

import os
import re
import shutil
import subprocess
import threading
import time

# The first line of a finding, as fuzzers/repro/signature.h lists them.
FINDING_RE = re.compile(
    r"==mcfuzz== REPORT |ERROR: AddressSanitizer:|WARNING: ThreadSanitizer:|"
    r": runtime error:|ERROR: LeakSanitizer:|ERROR: libFuzzer:|==mcfuzz== CHILD TIMEOUT"
)
EXECS_RE = re.compile(r"^#(\d+)\s")
STAT_RE = re.compile(r"^stat::number_of_executed_units:\s*(\d+)")

# Seconds a trial may run past its budget (start-up, the final report)
# before it is killed.
GRACE = 60


def sanitizer_env(extra):
    """The sanitizer options of ci/test.sh, then `extra` (the arm's switches)."""
    env = dict(os.environ)
    sym = "/usr/bin/llvm-symbolizer-14"
    sym_opt = f":external_symbolizer_path={sym}" if os.path.exists(sym) else ""
    env["ASAN_OPTIONS"] = f"halt_on_error=1:detect_leaks=1:symbolize=1{sym_opt}"
    env["UBSAN_OPTIONS"] = f"halt_on_error=1:print_stacktrace=1:symbolize=1{sym_opt}"
    env["LSAN_OPTIONS"] = f"symbolize=1{sym_opt}"
    env["TSAN_OPTIONS"] = f"halt_on_error=1:second_deadlock_stack=1:symbolize=1{sym_opt}"
    for k in ("MCF_MUTATOR", "MCF_EXEC_MODE", "MCF_EXEC_STATS"):
        env.pop(k, None)
    env.update(extra)
    return env


def signature_of(repro, log_path):
    """(id, text) of the log's first finding, ("", "") when none."""
    # mcf-repro prints "<id> <text>" (signature.h).
    out = subprocess.run([repro, "signature", log_path], capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.strip():
        return "", ""
    sig_id, _, text = out.stdout.strip().splitlines()[0].partition(" ")
    return sig_id, text


def reproduce(binary, program, repro, log_path, timeout=120):
    """Runs `binary` once on a text program; the signature text of its finding."""
    with open(log_path, "w") as log:
        subprocess.run([binary, program], stdout=subprocess.DEVNULL, stderr=log,
                       env=sanitizer_env({}), timeout=timeout)
    return signature_of(repro, log_path)[1]


def run(binary, flags, env_extra, seed, seconds, trial_dir, repro, seed_dir=None):
    """Runs one trial in `trial_dir`, from a copy of `seed_dir` (None: an
    empty corpus); returns its record (see run_bugs.py)."""
    corpus = os.path.join(trial_dir, "corpus")
    shutil.rmtree(trial_dir, ignore_errors=True)
    os.makedirs(corpus)
    if seed_dir is not None:
        for name in sorted(os.listdir(seed_dir)):
            if os.path.isfile(os.path.join(seed_dir, name)):
                shutil.copy(os.path.join(seed_dir, name), corpus)
    log_path = os.path.join(trial_dir, "log")
    cmd = [binary, f"-seed={seed}", f"-max_total_time={seconds}", "-print_final_stats=1",
           f"-artifact_prefix={trial_dir}/", *flags, corpus]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=sanitizer_env(env_extra))
    killer = threading.Timer(seconds + GRACE, proc.kill)
    killer.start()
    t_finding = None
    execs = 0
    with open(log_path, "w", errors="replace") as log:
        for raw in proc.stderr:
            line = raw.decode(errors="replace")
            log.write(line)
            if t_finding is None and FINDING_RE.search(line):
                t_finding = time.monotonic() - start
            m = EXECS_RE.match(line) or STAT_RE.match(line)
            if m:
                execs = max(execs, int(m.group(1)))
    rc = proc.wait()
    killer.cancel()
    wall = time.monotonic() - start
    record = {"seed": seed, "budget": seconds, "rc": rc, "execs": execs, "wall": round(wall, 3)}
    signature = signature_id = ""
    if rc != 0:
        signature_id, signature = signature_of(repro, log_path)
        if t_finding is None:
            t_finding = wall  # killed, or a crash with no report header
    record["finding"] = rc != 0
    record["time"] = round(t_finding if rc != 0 else seconds, 3)
    record["signature"] = signature
    record["signature_id"] = signature_id
    shutil.rmtree(corpus, ignore_errors=True)
    if rc == 0:
        os.unlink(log_path)  # nothing to look at; findings keep their log
    return record
