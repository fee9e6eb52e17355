"""The scratch copy of the source tree that bench patches are applied to.

One copy, <build-root>/tree, is kept between runs so that each variant is an
incremental build (only the files a patch touches recompile). The copy is
made of the files git knows (tracked, plus untracked ones not ignored); a
file is copied only when its content differs, and always with a new mtime,
so ninja never sees an older source than its object. Restoring a patched
file is the same copy. Compiles go through ccache (CCACHE_BASEDIR and
CCACHE_NOHASHDIR let the copy share the worktree's cache entries).
"""

import filecmp
import os
import shutil
import subprocess


def source_files(repo):
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo, capture_output=True, check=True,
    )
    return [p for p in out.stdout.decode().split("\0") if p]


def copy_if_different(src, dst):
    if os.path.exists(dst) and filecmp.cmp(src, dst, shallow=False):
        return False
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.lexists(dst):
        os.unlink(dst)
    shutil.copyfile(src, dst)  # a new mtime: ninja rebuilds what depends on it
    shutil.copymode(src, dst)
    return True


def sync(repo, tree):
    """Makes `tree` hold the repository's files; returns how many were copied.

    The copy is a git repository of its own (empty: nothing is committed), so
    that `git apply` run there patches it: inside another repository's work
    tree (the default copy is under build/), git apply would take paths as
    relative to that repository and silently skip the ones outside the copy.
    """
    if not os.path.isdir(os.path.join(tree, ".git")):
        os.makedirs(tree, exist_ok=True)
        subprocess.run(["git", "init", "-q", tree], check=True)
    n = 0
    for rel in source_files(repo):
        src = os.path.join(repo, rel)
        if os.path.isfile(src) and copy_if_different(src, os.path.join(tree, rel)):
            n += 1
    return n


def same_as_source(repo, tree, rel):
    src, dst = os.path.join(repo, rel), os.path.join(tree, rel)
    return os.path.exists(src) and os.path.exists(dst) and filecmp.cmp(src, dst, shallow=False)


def restore(repo, tree, files):
    for rel in files:
        src = os.path.join(repo, rel)
        dst = os.path.join(tree, rel)
        if os.path.exists(src):
            copy_if_different(src, dst)
        elif os.path.exists(dst):
            os.unlink(dst)  # a file the patch created


def build_env(repo):
    env = dict(os.environ)
    if shutil.which("ccache"):
        env.setdefault("CMAKE_CXX_COMPILER_LAUNCHER", "ccache")
        env.setdefault("CMAKE_C_COMPILER_LAUNCHER", "ccache")
        env.setdefault("CCACHE_BASEDIR", os.path.abspath(repo))
        env.setdefault("CCACHE_NOHASHDIR", "1")
    return env


def build(repo, tree, preset, targets, jobs, log):
    """Configures (first time) and builds `targets` of `preset` in the copy."""
    env = build_env(repo)
    build_dir = os.path.join(tree, "build", preset)
    with open(log, "a") as out:
        if not os.path.exists(os.path.join(build_dir, "build.ninja")):
            subprocess.run(["cmake", "--preset", preset], cwd=tree, env=env, stdout=out,
                           stderr=subprocess.STDOUT, check=True)
        subprocess.run(["cmake", "--build", build_dir, "-j", str(jobs), "--target", *targets],
                       cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
    return build_dir
