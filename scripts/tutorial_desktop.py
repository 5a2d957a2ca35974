"""The tutorial's desktop steps driven in a real QGIS window under Xvfb, with real clicks and key
presses (xdotool), on a fresh profile with the plugin installed from its zip (`make package`) and
the built models installed as `make deploy` installs them. Prints one JSON object of what it saw
(the test `tests/gui/test_tutorial_desktop.py` checks it) and writes screenshots.

    .venv/bin/python scripts/tutorial_desktop.py [--zip dist/mist_qgis-<version>.zip] [--out DIR]

Set MIST_XVFB_DISPLAY (a number) to use one display number instead of `xvfb-run -a`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import xvfb_qgis  # beside this file; inside QGIS, run_qgis puts its folder on the path

THIS = xvfb_qgis.script_path(globals())
REPO = THIS.parents[1]
ENV_WORK = "MIST_TOUR_WORK"
ENV_SAMPLE = "MIST_TOUR_SAMPLE"
ENV_RESULT = "MIST_TOUR_RESULT"
TIMEOUT_S = 900
SCREEN = (1920, 1080)


def launch(plugin_zip: Path, out: Path) -> int:
    if not plugin_zip.is_file():
        print(f"tutorial: no plugin zip {plugin_zip} (run `make package`)", file=sys.stderr)
        return 2
    models = sorted((REPO / "models" / "build").glob("*.onnx"))
    if not models:
        print("tutorial: no built model (run `make models`)", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="mist-tour-"))
    profile = xvfb_qgis.fresh_profile(root, plugin_zip)
    model_dir = profile / "mist" / "models"  # what `make deploy` / `make models` install
    model_dir.mkdir(parents=True)
    for model in models:
        shutil.copy2(model, model_dir / model.name)
    work = root / "work"
    work.mkdir()
    out.mkdir(parents=True, exist_ok=True)
    result = root / "result.json"
    env = dict(os.environ, **{ENV_WORK: str(work), ENV_SAMPLE: str(REPO / "resources" / "sample"),
                              ENV_RESULT: str(result), "MIST_TOUR_OUT": str(out.resolve())})
    returncode = xvfb_qgis.run_qgis(root, THIS, env, SCREEN, TIMEOUT_S)
    try:
        data = json.loads(result.read_text(encoding="utf-8")) if result.is_file() else {}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    data["returncode"] = -1 if returncode is None else returncode
    print(json.dumps(data, indent=1))
    return 0 if returncode == 0 and data.get("finished") else 1


def inside_qgis() -> None:  # noqa: C901 - one story, step by step
    """Runs inside QGIS (`--code`): the tutorial's steps with clicks and keys, then quit."""
    import processing
    from qgis.core import QgsProject
    from qgis.PyQt.QtCore import QTimer
    from qgis.PyQt.QtWidgets import QApplication, QToolBar
    from qgis.utils import iface, plugins

    work = Path(os.environ[ENV_WORK])
    sample = Path(os.environ[ENV_SAMPLE])
    shots = Path(os.environ["MIST_TOUR_OUT"])
    store = work / "flood.gpkg"
    seen: dict = {"steps": []}
    keep: dict = {}

    def save() -> None:
        Path(os.environ[ENV_RESULT]).write_text(json.dumps(seen, indent=1, default=str), encoding="utf-8")

    def xdo(*args: str) -> None:
        subprocess.run(["xdotool", *args], check=True, timeout=20)
        for _ in range(5):
            QApplication.processEvents()

    def click(widget, point=None) -> None:
        """A real mouse click (X events) on a widget, at its centre or at a local point. Without a
        window manager Qt's screen coordinates can be off from the X server's (QGIS 3.40's window
        sits 20 px above where Qt places it), so the pointer is moved once, the offset read back
        from where Qt sees it, and moved again."""
        from qgis.PyQt.QtGui import QCursor

        QApplication.processEvents()
        local = point if point is not None else widget.rect().center()
        where = widget.mapToGlobal(local)
        x, y = where.x(), where.y()
        for _ in range(2):
            xdo("mousemove", "--sync", str(x), str(y))
            seen_at = QCursor.pos()
            if seen_at == where:
                break
            x, y = x + where.x() - seen_at.x(), y + where.y() - seen_at.y()
        xdo("click", "1")

    def toolbar_button(text: str):
        bar = iface.mainWindow().findChild(QToolBar, "MistToolbar")
        action = next(a for a in bar.actions() if a.text().replace("&", "") == text)
        return bar.widgetForAction(action)

    def menu_action(text: str):
        return next(a for a in keep["plugin"].actions if a.text() == text)

    def grab(widget, name: str) -> None:
        xvfb_qgis.grab(widget, shots / name)

    def failed(error: str) -> None:
        seen["error"] = error
        save()

    def step(name: str, then, delay_ms: int = 1500):
        def run() -> None:
            seen["steps"].append(name)
            then()

        xvfb_qgis.later(delay_ms, run, failed)

    # 1. Import: the toolbar button opens the Posts dock; type the store; click Import
    def start() -> None:
        window = iface.mainWindow()
        window.setGeometry(QApplication.primaryScreen().availableGeometry())
        window.show()
        keep["plugin"] = plugins["mist_qgis"]
        click(toolbar_button("Import posts"))
        step("import", do_import)

    def do_import() -> None:
        dock = keep["plugin"].posts_dock
        seen["posts_dock_opened_by_click"] = dock.isVisible()
        dock.add_paths([str(sample / "posts.jsonl")])
        click(dock.store)
        xdo("key", "ctrl+a")
        xdo("type", "--delay", "2", str(store))
        seen["store_typed"] = dock.store.text()
        click(dock.run_button)
        step("after_import", wait_import, 3000)

    def wait_import() -> None:
        dock = keep["plugin"].posts_dock
        if dock.import_run is not None:
            step("after_import", wait_import, 1000)
            return
        from mist_qgis.gui.active_store import active_store

        seen["import_report"] = dock.report.toPlainText()[:400]
        seen["active_store"] = active_store()
        layers = [lyr.name() for lyr in QgsProject.instance().mapLayers().values()]
        seen["layers_after_import"] = layers
        grab(iface.mainWindow(), "tour_import.png")
        # 2. Fetch offline: the menu opens its dialog, Run is clicked
        run_dialog("fetch", "Fetch photos…", "Fetch post photos", {"OFFLINE": True, "MEDIA_DIR": str(sample / "media")},
                   after_fetch)

    def after_fetch() -> None:
        # the example verdicts of a colleague (a Toolbox algorithm, not in the MIST menu)
        processing.run("mist:importverifications", {"STORE": str(store),
                                                    "INPUT": str(sample / "verifications.csv")})
        step("dialogs", dialogs)

    # An algorithm's dialog from the MIST menu: values set, Run clicked, the run awaited, the log read
    def run_dialog(name: str, menu_text: str, title: str, values: dict, then, cancel_first: bool = False) -> None:
        step(f"{name}_dialog", lambda: fill_and_run(name, title, values, then, cancel_first), 2500)
        menu_action(menu_text).trigger()  # modal, as the toolbox opens it: the step runs inside its loop

    def fill_and_run(name: str, title: str, values: dict, then, cancel_first: bool) -> None:
        dialog = find_dialog(title)
        seen[f"{name}_store_prefilled"] = dialog.mainWidget().wrappers["STORE"].parameterValue()
        if values:
            dialog.setParameters(values)
        keep[name] = {"dialog": dialog, "cancel": cancel_first, "then": then, "waited": 0}
        click(dialog.runButton())
        step(f"{name}_running", lambda: await_run(name), 1000)

    def log_text(dialog) -> str:
        from qgis.PyQt.QtWidgets import QTextEdit

        log = dialog.findChild(QTextEdit, "txtLog")
        return log.toPlainText() if log is not None else ""

    def run_again(name: str) -> None:
        """Back to the parameters (the dialog shows its log after a run), then Run."""
        from qgis.PyQt.QtWidgets import QPushButton

        dialog = keep[name]["dialog"]
        if not dialog.runButton().isVisible():
            change = next(b for b in dialog.findChildren(QPushButton)
                          if b.isVisible() and "Change Parameters" in b.text().replace("&", ""))
            click(change)
        click(dialog.runButton())
        step(f"{name}_running", lambda: await_run(name), 1000)

    def await_run(name: str) -> None:
        state = keep[name]
        dialog = state["dialog"]
        state["waited"] += 1
        if state["waited"] > 240:
            raise RuntimeError(f"{name}: the run did not end in 4 minutes; log: {log_text(dialog)[-800:]}")
        if state["cancel"] and getattr(dialog, "feedback", None) is not None:
            state["cancel"] = False  # the analyst thinks better of it: Cancel, then Run again
            click(dialog.cancelButton())
            state["cancelled"] = True
        if getattr(dialog, "feedback", None) is not None:
            step(f"{name}_running", lambda: await_run(name), 1000)
            return
        text = log_text(dialog)
        if state.pop("cancelled", False):
            seen[f"{name}_cancel_log"] = text[-600:]
            seen[f"{name}_cancel_says_cancelled"] = text.count("Cancelled.") == 1
            seen[f"{name}_cancel_says_failed"] = "Execution failed" in text
            step(f"{name}_again", lambda: run_again(name), 500)
            return
        seen[f"{name}_log"] = text[-1500:]
        seen[f"{name}_completed"] = "Execution completed" in text and "Execution failed" not in text
        grab(dialog, f"tour_{name}_dialog.png")
        dialog.close()
        step(f"{name}_done", state["then"], 500)

    # 3. Dialogs open with the store filled in; the model is a choice of the installed models
    def dialogs() -> None:
        # the menu item opens the dialog modally (as the toolbox does): look at it from inside its loop
        step("classify_dialog", classify_dialog, 2500)
        menu_action("Classify photos…").trigger()

    def find_dialog(title_part: str):
        from qgis.PyQt.QtWidgets import QDialog

        for widget in [*QApplication.topLevelWidgets(), *iface.mainWindow().findChildren(QDialog)]:
            if widget.isVisible() and title_part in widget.windowTitle():
                return widget
        seen.setdefault("windows", []).append([w.windowTitle() for w in iface.mainWindow().findChildren(QDialog)
                                               if w.isVisible()])
        return None

    def classify_dialog() -> None:
        dialog = find_dialog("Classify photos")
        seen["classify_dialog_open"] = dialog is not None
        wrappers = dialog.mainWidget().wrappers
        seen["classify_store_prefilled"] = wrappers["STORE"].parameterValue()
        combo = wrappers["MODEL"].combo
        seen["classify_models_listed"] = [combo.itemData(i) for i in range(combo.count())]
        grab(dialog, "tour_classify_dialog_open.png")
        keep["classify"] = {"dialog": dialog, "cancel": False, "then": classified, "waited": 0}
        click(dialog.runButton())
        step("classify_running", lambda: await_run("classify"), 1000)

    def classified() -> None:
        step("summary_dialog", summary_dialog, 2000)
        menu_action("Store summary…").trigger()

    def summary_dialog() -> None:
        dialog = find_dialog("Store summary")
        seen["summary_store_prefilled"] = dialog.mainWidget().wrappers["STORE"].parameterValue()
        dialog.close()
        step("open_verify", open_verify, 500)

    def open_verify() -> None:
        click(toolbar_button("Verify photos"))
        step("verify", verify, 2500)

    # 5. Verify: the dock opens on the active store; a click on a flood photo, then N
    def verify() -> None:
        dock = keep["plugin"].verify_dock
        seen["verify_dock_store"] = str(dock.store.path) if dock.store else None
        dock.analyst_edit.setText("tour-analyst")
        dock.verdict_filter.setCurrentIndex(2)  # Flood: a colleague's flood to override
        dock.refresh(keep_place=False)
        QApplication.processEvents()
        table = dock.table
        rect = table.visualRect(dock.model.index(0, 2))
        click(table.viewport(), rect.center())
        row = dock.current_row()
        keep["row"] = row
        seen["overridden_post"] = row.post_id
        seen["verdict_before"] = row.verdict
        xdo("key", "n")
        step("agreement", agreement, 1500)

    def agreement() -> None:
        dock = keep["plugin"].verify_dock
        row = keep["row"]
        dock.model.refresh_rows([row.media_fid])
        fresh = dock.model.row_at(dock.model.row_of(row.media_fid)) if dock.model.row_of(row.media_fid) >= 0 else None
        from mist_qgis.core.store import open_store
        from mist_qgis.core.store import verify_sql as store_verify

        with open_store(store, read_only=True) as s:
            current = store_verify.rows_by_media(s, [row.media_fid], "", "")[0]
        seen["dock_verdict_after"] = (fresh.verdict if fresh else None, current["verdict"], current["verified_by"])
        posts = next(lyr for lyr in QgsProject.instance().mapLayers().values() if lyr.name() == "MIST posts")
        feature = posts.getFeature(row.post_fid)
        seen["layer_verdict_after"] = feature["verified"]
        seen["layer_editable"] = posts.isEditable()
        out = work / "verified_flood.gpkg"
        processing.run("mist:exportverified", {"STORE": str(store), "OUTPUT": str(out)})
        from osgeo import ogr

        ds = ogr.Open(str(out))
        ids = [f.GetField("post_id") for f in ds.GetLayer(0)]
        ds = None
        seen["exported_flood_posts"] = ids
        seen["override_in_export"] = row.post_id in ids
        step("undo", undo_on_map, 500)

    # QGIS's own Ctrl+Z, on the map with the posts layer active, takes the verdict back
    def undo_on_map() -> None:
        posts = next(lyr for lyr in QgsProject.instance().mapLayers().values() if lyr.name() == "MIST posts")
        iface.setActiveLayer(posts)
        canvas = iface.mapCanvas()
        click(canvas)  # the pan tool: a click focuses the map, moves nothing
        seen["undo_focus_on_map"] = QApplication.focusWidget() is canvas
        xdo("key", "ctrl+z")
        step("undone", undone, 1500)

    def undone() -> None:
        posts = next(lyr for lyr in QgsProject.instance().mapLayers().values() if lyr.name() == "MIST posts")
        seen["layer_verdict_after_undo"] = posts.getFeature(keep["row"].post_fid)["verified"]
        seen["undo_status"] = keep["plugin"].verify_dock.status.text()
        seen["layer_editable_after_undo"] = posts.isEditable()
        run_dialog("density", "Post density…", "Post density", {"RADIUS": 100.0, "PIXEL_SIZE": 5.0}, geolocate)

    def geolocate() -> None:
        processing.run("mist:importreferences", {"STORE": str(store), "INPUT": str(sample / "references.csv")})
        run_dialog("geolocate", "Geolocate photos…", "Geolocate photos",
                   {"GAZETTEER": str(sample / "roads.geojson"), "NAME_FIELD": "name", "TOP_K": 3,
                    "MIN_CONFIDENCE": 0.8}, inundation, cancel_first=True)

    def inundation() -> None:
        run_dialog("inundation", "Inundation from verified depths…", "Inundation", {"DEM": str(sample / "dem.tif")},
                   after_steps)

    def after_steps() -> None:
        seen["layers_after_steps"] = [node.layer().name()
                                      for node in QgsProject.instance().layerTreeRoot().findLayers()]
        grab(iface.mainWindow(), "tour_map.png")
        step("window", window_height, 500)

    # The window with Verify + Posts in the right dock area fits the 1080-pixel screen
    def window_height() -> None:
        plugin = keep["plugin"]
        plugin.posts_dock.show()
        plugin.verify_dock.show()
        for _ in range(20):
            QApplication.processEvents()
        window = iface.mainWindow()
        screen = QApplication.primaryScreen().availableGeometry()
        seen["window_height"] = window.frameGeometry().height()
        seen["window_bottom"] = window.frameGeometry().bottom()
        seen["screen_height"] = screen.height()
        grab(window, "tour_verify_and_posts.png")
        step("identify", identify, 300)

    # ... and with Verify + Identify Results: the identify tool clicked on a post
    def identify() -> None:
        from qgis.core import QgsPointXY
        from qgis.PyQt.QtCore import QPoint

        keep["plugin"].posts_dock.hide()
        canvas = iface.mapCanvas()
        posts = next(lyr for lyr in QgsProject.instance().mapLayers().values() if lyr.name() == "MIST posts")
        iface.setActiveLayer(posts)
        canvas.setExtent(posts.extent().buffered(0.001))
        canvas.refresh()
        for _ in range(10):
            QApplication.processEvents()
        feature = next(f for f in posts.getFeatures() if f.hasGeometry() and not f.geometry().isEmpty())
        pixel = canvas.getCoordinateTransform().transform(QgsPointXY(feature.geometry().asPoint()))
        iface.actionIdentify().trigger()
        click(canvas, QPoint(int(pixel.x()), int(pixel.y())))
        step("identify_measured", identify_measured, 2000)

    def identify_measured() -> None:
        from qgis.PyQt.QtWidgets import QDockWidget

        window = iface.mainWindow()
        docks = [d for d in window.findChildren(QDockWidget) if d.isVisible()]
        seen["identify_docks"] = [d.objectName() for d in docks]
        seen["identify_window_height"] = window.frameGeometry().height()
        grab(window, "tour_verify_and_identify.png")
        seen["finished"] = True
        save()
        QTimer.singleShot(300, lambda: os._exit(0))

    step("start", start, 4000)


if xvfb_qgis.in_qgis():
    inside_qgis()
elif __name__ == "__main__":
    import argparse

    version = next(line.split("=", 1)[1].strip() for line in (REPO / "metadata.txt").read_text().splitlines()
                   if line.startswith("version="))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", type=Path, default=REPO / "dist" / f"mist_qgis-{version}.zip")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "tour")
    args = parser.parse_args()
    sys.exit(launch(args.zip.resolve(), args.out))
