"""Screenshots of the real QGIS desktop with MIST, for the README and docs/ (`make screenshots`).

    .venv/bin/python scripts/screenshots.py [--out docs/img] [--plugin build/mist_qgis]

Starts QGIS under Xvfb (`xvfb-run -a`) with a throwaway profile into which the packaged plugin
(`make package` builds build/mist_qgis) is installed and enabled, exactly as `make deploy` installs
it, so the shots show the plugin as users get it. Inside QGIS (`--code` runs this file again) it
loads the demo's store and rasters (run `make demo` first, or this script runs the demo), opens the
MIST docks and the Graphical Modeler with resources/mist_demo.model3, and grabs each window with
QWidget.grab():

    qgis_map.png      the demo's layers on the canvas with the MIST Posts dock
    qgis_verify.png   the MIST Verify dock on the demo store
    qgis_model.png    the demo's Processing model in the Graphical Modeler

and copies the demo's own map (flood_map.png, drawn through a print layout) as demo_flood_map.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import xvfb_qgis  # beside this file; inside QGIS, run_qgis puts its folder on the path

THIS = xvfb_qgis.script_path(globals())
REPO = THIS.parents[1]
ENV_WORK = "MIST_SHOTS_DEMO"
ENV_OUT = "MIST_SHOTS_OUT"
ENV_SAMPLE = "MIST_SHOTS_SAMPLE"
SHOTS = ("qgis_map.png", "qgis_verify.png", "qgis_model.png")
TIMEOUT_S = 300


def launch(out: Path, plugin: Path, work: Path) -> int:
    if not (plugin / "metadata.txt").is_file():
        print(f"screenshots: no packaged plugin in {plugin} (run `make package`)", file=sys.stderr)
        return 2
    if not (work / "mist-demo.gpkg").is_file():
        print("screenshots: no demo store yet; running the demo first", flush=True)
        done = subprocess.run([sys.executable, str(REPO / "scripts" / "demo.py"), "--work", str(work), "--quiet"])
        if done.returncode != 0:
            return done.returncode
    profiles = Path(tempfile.mkdtemp(prefix="mist-shots-"))
    xvfb_qgis.fresh_profile(profiles, plugin)
    out.mkdir(parents=True, exist_ok=True)
    for name in SHOTS:
        (out / name).unlink(missing_ok=True)
    env = dict(os.environ, **{ENV_WORK: str(work), ENV_OUT: str(out.resolve()),
                              ENV_SAMPLE: str(REPO / "resources" / "sample")})
    try:
        returncode = xvfb_qgis.run_qgis(profiles, THIS, env, (1600, 1000), TIMEOUT_S)
        if returncode is None:
            print(f"screenshots: QGIS did not finish within {TIMEOUT_S} s", file=sys.stderr)
            return 1
    finally:
        shutil.rmtree(profiles, ignore_errors=True)
    missing = [name for name in SHOTS if not (out / name).is_file()]
    if missing or returncode != 0:
        print(f"screenshots: QGIS exited with {returncode}; missing: {', '.join(missing) or 'none'}", file=sys.stderr)
        return returncode or 1
    shutil.copyfile(work / "flood_map.png", out / "demo_flood_map.png")  # the demo's print-layout map
    for name in (*SHOTS, "demo_flood_map.png"):
        print(out / name)
    return 0


def inside_qgis() -> None:
    """Runs inside QGIS (`--code`): build the scene step by step, grab, quit."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsProject
    from qgis.PyQt.QtCore import Qt, QTimer
    from qgis.PyQt.QtWidgets import QApplication
    from qgis.utils import iface, plugins

    work = Path(os.environ[ENV_WORK])
    out = Path(os.environ[ENV_OUT])
    sample = Path(os.environ[ENV_SAMPLE])
    keep: dict = {}

    def grab(widget, name: str) -> None:
        xvfb_qgis.grab(widget, out / name)

    def step_import() -> None:
        """A real import from the Posts dock (into a scratch store), so the dock shows its report."""
        plugin = plugins["mist_qgis"]  # the installed plugin, loaded by QGIS from the profile
        keep["plugin"] = plugin
        window = iface.mainWindow()
        window.resize(1600, 1000)
        window.showMaximized()
        dock = plugin.posts_dock
        dock.show()
        window.resizeDocks([dock], [560], Qt.Orientation.Horizontal)
        scratch = work / "screenshot-import.gpkg"
        for leftover in scratch.parent.glob(scratch.name + "*"):
            leftover.unlink()
        keep["scratch"] = scratch
        dock.add_paths([str(sample / "posts.jsonl")])
        dock.store.setText(str(scratch))
        dock.run_import()
        xvfb_qgis.later(5000, step_map)

    def step_map() -> None:
        from mist_qgis.demo.flood_map import build_layers
        from mist_qgis.demo.pipeline import DemoConfig, demo_map_inputs

        project = QgsProject.instance()
        project.removeAllMapLayers()  # the scratch import's layer; the demo's layers replace it
        config = DemoConfig(sample=sample, work=work)
        crs = QgsCoordinateReferenceSystem("EPSG:32649")
        project.setCrs(crs)
        layers = build_layers(demo_map_inputs(config), crs)
        for layer in reversed(layers.stack):  # bottom first: the layer tree lists the top layer first
            project.addMapLayer(layer)
        iface.mapCanvas().setExtent(layers.frame[0].extent().buffered(15))
        xvfb_qgis.later(4000, step_map_grab)

    def step_map_grab() -> None:
        iface.mapCanvas().refreshAllLayers()
        QApplication.processEvents()
        grab(iface.mainWindow(), "qgis_map.png")
        plugin = keep["plugin"]
        plugin.posts_dock.hide()
        dock = plugin.verify_dock
        dock.show()
        dock.analyst_edit.setText("demo-analyst")
        dock.open_store(str(work / "mist-demo.gpkg"))
        iface.mainWindow().resizeDocks([dock], [1000], Qt.Orientation.Horizontal)
        xvfb_qgis.later(3000, step_verify_grab)

    def step_verify_grab() -> None:
        dock = keep["plugin"].verify_dock
        dock.table.setFocus()
        xvfb_qgis.later(2000, step_model)

    def step_model() -> None:
        grab(iface.mainWindow(), "qgis_verify.png")
        keep["plugin"].verify_dock.hide()
        from processing.modeler.ModelerDialog import ModelerDialog
        from qgis.core import QgsProcessingModelAlgorithm

        model = QgsProcessingModelAlgorithm()
        if not model.fromFile(str(sample.parent / "mist_demo.model3")):
            raise RuntimeError("cannot load resources/mist_demo.model3")
        dialog = ModelerDialog.create(model)
        dialog.resize(1500, 950)
        dialog.show()
        keep["dialog"] = dialog
        xvfb_qgis.later(3000, step_model_grab)

    def step_model_grab() -> None:
        dialog = keep["dialog"]
        dialog.view().scene().setSceneRect(dialog.view().scene().itemsBoundingRect())
        dialog.view().fitInView(dialog.view().scene().itemsBoundingRect(), Qt.AspectRatioMode.KeepAspectRatio)
        QApplication.processEvents()
        grab(dialog, "qgis_model.png")
        for leftover in keep["scratch"].parent.glob(keep["scratch"].name + "*"):
            leftover.unlink()
        QTimer.singleShot(300, lambda: os._exit(0))

    xvfb_qgis.later(3000, step_import)


if xvfb_qgis.in_qgis():
    inside_qgis()
elif __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    parser.add_argument("--plugin", type=Path, default=REPO / "build" / "mist_qgis", help="the packaged plugin folder")
    parser.add_argument("--demo", type=Path, default=REPO / "build" / "demo", help="the demo's work folder")
    args = parser.parse_args()
    sys.exit(launch(args.out, args.plugin.resolve(), args.demo.resolve()))
