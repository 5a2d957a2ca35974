"""Screenshot of the "MIST Verify" dock inside a real QGIS main window, under Xvfb.

    .venv/bin/python scripts/screenshot_dock.py [--out docs/verify_dock.png]

Builds a small demo store (real photos from scikit-image), starts QGIS under `xvfb-run` with a
throwaway profile and `--code` pointing back at this file; inside QGIS the file adds the posts
layer, opens the dock on the store, judges a few photos, grabs the main window and quits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ENV_STORE = "MIST_SCREENSHOT_STORE"
ENV_OUT = "MIST_SCREENSHOT_OUT"
ENV_REPO = "MIST_SCREENSHOT_REPO"
# QGIS's --code runs the file through exec(), without __file__: the launcher passes the path on.
REPO = Path(os.environ[ENV_REPO]) if ENV_REPO in os.environ else Path(__file__).resolve().parents[1]
THIS = REPO / "scripts" / "screenshot_dock.py"

TEXTS = [
    "Jinshui Road under water, cars stuck #郑州暴雨", "Subway exit flooded, knee deep",
    "Sunny again in the park", "Water up to the waist near the hospital", "Traffic jam, no water",
    "Our street this morning", "Rescue boats on Huayuan Road", "Basement car park full of water",
    "Photo from yesterday's trip", "Kids playing in puddles", "Shop owners pumping water out",
    "Road reopened", "Bus stop under water", "Flood water receding", "Lunch",
    "Tunnel closed", "Volunteers handing out water", "Power cut in the district",
]


def build_demo_store(path: Path) -> None:
    sys.path.insert(0, str(REPO))
    from mist_qgis.core.store import open_store
    from mist_qgis.core.verify.records import Verdict
    from mist_qgis.core.verify.verdicts import write_verdicts
    from tests.helpers.verify_store import build_store

    scores = [0.93, 0.81, 0.12, 0.77, 0.35, 0.52, 0.88, 0.69, 0.05, 0.41, 0.63, 0.22, 0.84, 0.58, 0.09, 0.47,
              0.3, 0.26]
    with open_store(path) as store:
        data = build_store(store, n=len(TEXTS), scores=scores, texts=TEXTS, photo_size=640)
        p, m = data.post_fids, data.media_fids
        write_verdicts(store, [Verdict(p[0], "flood", "ana", m[0], 0.5), Verdict(p[1], "flood", "ana", m[1], 0.5),
                               Verdict(p[2], "not_flood", "ana", m[2]), Verdict(p[3], "flood", "ana", m[3], 1.0),
                               Verdict(p[0], "flood", "ben", m[0], 0.5), Verdict(p[2], "unsure", "ben", m[2])])


def launch(out: Path) -> int:
    work = Path(tempfile.mkdtemp(prefix="mist-shot-"))
    store = work / "demo.gpkg"
    build_demo_store(store)
    env = dict(os.environ, **{ENV_STORE: str(store), ENV_OUT: str(out.resolve()), ENV_REPO: str(REPO)})
    env.pop("QT_QPA_PLATFORM", None)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *[p for p in sys.path if p.endswith("site-packages")]])
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", "qgis", "--profiles-path", str(work / "profiles"),
           "--nologo", "--noversioncheck", "--noplugins", "--code", str(THIS)]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        returncode = proc.wait(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # xvfb-run, its Xvfb and QGIS: the group this script made
        proc.wait()
        print("QGIS did not finish within 300 s", file=sys.stderr)
        return 1
    if not out.exists():
        print("no screenshot was written", file=sys.stderr)
        return 1
    print(out)
    return returncode


def inside_qgis() -> None:
    """Runs in QGIS (`--code`): set the scene up, then grab the window."""
    from qgis.core import QgsProject, QgsVectorLayer
    from qgis.PyQt.QtCore import Qt, QTimer
    from qgis.PyQt.QtWidgets import QApplication
    from qgis.utils import iface

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import mist_qgis

    store = os.environ[ENV_STORE]
    out = os.environ[ENV_OUT]
    plugin = mist_qgis.classFactory(iface)
    plugin.initGui()
    keep = {"plugin": plugin}

    def step1() -> None:
        iface.mainWindow().resize(1600, 1000)
        iface.mainWindow().showMaximized()
        layer = QgsVectorLayer(f"{store}|layername=posts", "posts", "ogr")
        QgsProject.instance().addMapLayer(layer)
        iface.mapCanvas().setExtent(layer.extent().buffered(0.02))
        dock = plugin.verify_dock
        dock.show()
        dock.analyst_edit.setText("ana")
        dock.open_store(store)
        iface.mainWindow().resizeDocks([dock], [1050], Qt.Orientation.Horizontal)
        QTimer.singleShot(1500, step2)

    def step2() -> None:
        dock = plugin.verify_dock
        dock.table.setFocus()
        for _ in range(6):
            dock.handle_key(Qt.Key.Key_Right)
        dock.handle_key(Qt.Key.Key_2)  # "Rescue boats on Huayuan Road": flood, knee deep
        dock.handle_key(Qt.Key.Key_N)  # "Photo from yesterday's trip": not flood
        dock.previous()
        dock.previous()
        QTimer.singleShot(2000, step3)

    def step3() -> None:
        QApplication.processEvents()
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        iface.mainWindow().grab().save(out, "PNG")
        keep["plugin"].unload()
        QTimer.singleShot(200, lambda: os._exit(0))

    def guarded(step):
        def run() -> None:
            try:
                step()
            except Exception:  # noqa: BLE001 - report and leave, never hang on QGIS's error dialog
                import traceback

                traceback.print_exc()
                os._exit(1)

        return run

    step1, step2, step3 = guarded(step1), guarded(step2), guarded(step3)
    QTimer.singleShot(2000, step1)


if __name__ == "__main__" and os.environ.get(ENV_STORE) is None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "verify_dock.png")
    sys.exit(launch(parser.parse_args().out))
elif os.environ.get(ENV_STORE):
    inside_qgis()
