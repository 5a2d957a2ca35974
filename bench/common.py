"""What the benchmarks share: the repository on the import path, a command line described by the
benchmark's own docstring, a scratch folder, a child process measured (wall time, CPU, peak
memory), the team store's throwaway PostgreSQL server, and the last line every benchmark prints,
`speed ratio: X` (the peer's time over MIST's, measured in the same run).

A benchmark runs as a script (`python bench/bench_x.py`), so this folder is first on its path and
`from common import ...` finds this module.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def command_line(doc: str) -> argparse.ArgumentParser:
    """A parser described by the first line of the benchmark's docstring."""
    return argparse.ArgumentParser(description=doc.splitlines()[0])


def speed_ratio(peer_seconds: float, mist_seconds: float, digits: int = 2) -> float:
    """Print the last line of a benchmark, `speed ratio: X` = peer / MIST, and return X."""
    ratio = peer_seconds / mist_seconds
    print(f"speed ratio: {ratio:.{digits}f}")
    return ratio


def need_tool(name: str, package: str) -> str:
    """The path of a peer's command-line tool, or exit saying which package installs it."""
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} not found (install {package})")
    return path


@contextmanager
def scratch(prefix: str, keep: str | Path | None = None) -> Iterator[Path]:
    """A folder for the run's inputs and outputs, removed afterwards unless `keep` names it."""
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    try:
        yield work
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


@contextmanager
def team_server() -> Iterator:
    """A throwaway PostgreSQL 15 + PostGIS cluster (the tests' own), removed afterwards."""
    from tests.helpers.pgcluster import start_cluster

    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.remove()


def run_measured(cmd: list[str], env: dict | None = None) -> tuple[float, float, float, str]:
    """Wall seconds, peak RSS (MB), CPU seconds (user + system) and stdout of one child process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        out.seek(0)
        stdout = out.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.strip()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, stdout
