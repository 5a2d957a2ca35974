"""The QGIS window never grows past a 1080-pixel screen when the Verify dock shares the right
dock area with the Posts dock or with an Identify Results dock (measured under Xvfb)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs Xvfb (xvfb-run)")
@pytest.mark.parametrize("scenario", ["posts", "identify"])
def test_main_window_fits_a_1080_pixel_screen(scenario):
    # ROOT ahead of the QGIS bindings scripts/qgis_env.sh put on PYTHONPATH (3.40 or the system's)
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", PYTHONPATH=pythonpath)
    env.pop("DISPLAY", None)
    out = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, str(ROOT / "tests/gui/window_probe.py"),
         scenario],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("{")), None)
    assert line, out.stderr[-2000:]
    m = json.loads(line)
    assert m["screen_height"] <= 1080
    assert m["window_height"] <= m["screen_height"], m
    assert m["window_bottom"] <= m["screen_bottom"], m
    assert m["verify_height"] >= 240 and m["other_height"] >= 100, m
