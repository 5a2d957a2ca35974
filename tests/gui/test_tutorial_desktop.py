"""The tutorial's desktop steps in a real QGIS window under Xvfb, clicked and typed with xdotool,
on a fresh profile with the plugin installed from its zip: models listed, the store filled in,
one verdict agreeing across the dock, the layer and the export, QGIS's Ctrl+Z taking it back, each
step's dialog run (and one cancelled) by clicking Run, and a window that fits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = next(line.split("=", 1)[1].strip() for line in (ROOT / "metadata.txt").read_text().splitlines()
               if line.startswith("version="))
ZIP = ROOT / "dist" / f"mist_qgis-{VERSION}.zip"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not all(shutil.which(t) for t in ("qgis", "xvfb-run", "xdotool")),
                       reason="needs the qgis binary, xvfb-run and xdotool"),
    pytest.mark.skipif(not ZIP.is_file(), reason="run `make package` first"),
    pytest.mark.skipif(not list((ROOT / "models" / "build").glob("*.onnx")), reason="run `make models` first"),
]


def test_the_tour_works_click_by_click(tmp_path):
    env = dict(os.environ)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "tutorial_desktop.py"), "--zip", str(ZIP),
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=1000, env=env, cwd=ROOT)
    seen = json.loads(done.stdout[done.stdout.index("{"):])
    assert seen.get("finished"), (seen.get("error"), done.stderr[-2000:])
    store = seen["store_typed"]
    # the toolbar button opened the Posts dock; the import made its store the active one
    assert seen["posts_dock_opened_by_click"] and seen["active_store"] == store
    assert seen["layers_after_import"] == ["MIST posts"]
    # dialogs open with the store filled in; the installed model is listed
    assert seen["classify_store_prefilled"] == store and seen["summary_store_prefilled"] == store
    assert "efficientnet-lite0@1" in seen["classify_models_listed"]
    # the Verify dock opened on the active store; N on a colleague's flood: dock, layer and export agree
    assert seen["verify_dock_store"] == store and seen["verdict_before"] == "flood"
    assert seen["dock_verdict_after"] == ["not_flood", "not_flood", "tour-analyst"]
    assert seen["layer_verdict_after"] == "not_flood" and not seen["layer_editable"]
    assert not seen["override_in_export"] and seen["exported_flood_posts"]
    # QGIS's own Ctrl+Z on the map (posts layer active, nothing being edited) takes the verdict back
    assert seen["undo_focus_on_map"] and seen["layer_verdict_after_undo"] == "flood"
    assert not seen["layer_editable_after_undo"]
    # fetch, classify, density, geolocation and inundation: opened from the MIST menu, Run clicked
    for name in ("fetch", "classify", "density", "geolocate", "inundation"):
        assert seen[f"{name}_store_prefilled"] == store, name
        assert seen[f"{name}_completed"], (name, seen[f"{name}_log"])
    # a geolocation cancelled from its dialog says "Cancelled." once and nothing failed
    assert seen["geolocate_cancel_says_cancelled"] and not seen["geolocate_cancel_says_failed"]
    assert {"Water depth", "density_all", "MIST posts"} <= set(seen["layers_after_steps"])
    # Verify + Posts in the right dock area: the window fits the 1080-pixel screen
    assert seen["window_height"] <= seen["screen_height"] <= 1080
    # ... and with Verify + Identify Results (the identify tool clicked on a post)
    assert "MistVerifyDock" in seen["identify_docks"] and "IdentifyResultsDock" in seen["identify_docks"]
    assert seen["identify_window_height"] <= seen["screen_height"]
    for shot in ("tour_import.png", "tour_classify_dialog.png", "tour_verify_and_posts.png", "tour_map.png",
                 "tour_inundation_dialog.png"):
        assert (tmp_path / shot).stat().st_size > 10_000
