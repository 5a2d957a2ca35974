"""The CLI as a user runs it: `python -m mist_qgis VERB ...` in a process of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run one CLI verb and return its exit code, stdout and stderr (text)."""
    return subprocess.run([sys.executable, "-m", "mist_qgis", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)
