"""The ONNX models `make models` builds, built here when a test needs them and they are missing
(the same export scripts, without their slower comparison with PyTorch).

The folder is `models/build`, or `MIST_MODELS_BUILD` when set (a checkout that must not write
into a shared build folder)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("MIST_MODELS_BUILD") or REPO / "models" / "build").resolve()
SCRIPTS = {
    "disk.onnx": ["models/export_matchers.py", "--only", "disk"],
    "lightglue-disk.onnx": ["models/export_matchers.py", "--only", "disk"],
    "aliked-n16.onnx": ["models/export_matchers.py", "--only", "aliked"],
    "lightglue-aliked.onnx": ["models/export_matchers.py", "--only", "aliked"],
    "xfeat.onnx": ["models/export_matchers.py", "--only", "xfeat"],
    "lightglue-xfeat.onnx": ["models/export_matchers.py", "--only", "xfeat"],
    "all-MiniLM-L6-v2.onnx": ["models/export_minilm.py"],
}


def ensure(*names: str) -> Path:
    """Build the named files into models/build unless they are there; returns the folder.

    Parallel test workers may ask at once: one builds while the others wait on a lock file. The
    lock lives in the temporary folder, not in the build folder that `make install-models` copies
    into a QGIS profile."""
    BUILD.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(str(BUILD).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"mist-models-build-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name in names:
            if not (BUILD / name).is_file():
                subprocess.run([sys.executable, *SCRIPTS[name], "--out", str(BUILD), "--no-check"], cwd=REPO,
                               check=True, capture_output=True, timeout=900)
    return BUILD
