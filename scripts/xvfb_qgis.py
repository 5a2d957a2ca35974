"""Start the real QGIS desktop under Xvfb on a throwaway profile, running a script inside it
(`--code`): shared by `screenshots.py` and `tutorial_desktop.py`.

Set MIST_XVFB_DISPLAY (a number) to use that display instead of `xvfb-run -a`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def site_packages() -> list[str]:
    """The venv's packages (onnxruntime and friends) for QGIS's Python; not the repo's mist_qgis."""
    return [p for p in sys.path if p.endswith("site-packages")]


def run_qgis(profiles: Path, script: Path, env: dict[str, str], screen: tuple[int, int], timeout_s: int) -> int | None:
    """QGIS with `--profiles-path profiles --code script`; its exit status, None on timeout
    (then xvfb-run, its Xvfb and QGIS, the process group started here, are stopped)."""
    env = dict(env)
    env.pop("QT_QPA_PLATFORM", None)
    env["PYTHONPATH"] = os.pathsep.join(site_packages())
    display = os.environ.get("MIST_XVFB_DISPLAY")
    server = ["-n", display] if display else ["-a"]
    cmd = ["xvfb-run", *server, "-s", f"-screen 0 {screen[0]}x{screen[1]}x24", "qgis", "--profiles-path",
           str(profiles), "--nologo", "--noversioncheck", "--code", str(script)]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        return None
