"""The Python interpreter for MIST's child processes.

Inside QGIS, `sys.executable` is not to be trusted: it is the QGIS program (qgis-bin.exe), or
whatever `python3` comes first on PATH (another Python, a pyenv shim). The child must run the
interpreter of the installation QGIS embeds, found under `sys.exec_prefix`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def python_executable() -> str | None:
    """The interpreter of this Python installation (or virtual environment), or None."""
    major, minor = sys.version_info[:2]
    if os.name == "nt":
        names: tuple[str, ...] = ("python.exe", f"python{major}.exe")
    else:
        names = (f"python{major}.{minor}", f"python{major}", "python")
    for prefix in dict.fromkeys((Path(sys.exec_prefix), Path(sys.base_exec_prefix))):
        for folder in (prefix / "bin", prefix / "Scripts", prefix):
            for name in names:
                candidate = folder / name
                if candidate.is_file():
                    return str(candidate)
    exe = Path(sys.executable) if sys.executable else None
    if exe is not None and exe.name.lower().startswith("python") and exe.is_file():
        return str(exe)
    return None


def child_environment() -> dict[str, str]:
    """This environment with this process's module path, so a child imports the same MIST and
    the same packages whichever interpreter it is."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
    return env
