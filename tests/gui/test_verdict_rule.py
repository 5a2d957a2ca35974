"""One rule for which verdict counts, seen from every place that shows a verdict: a colleague's
imported verdicts, then another analyst in the dock (overrides and a depth change). The dock, the
posts layer, the inundation and density inputs, the exported points and the Quality tab agree."""

from __future__ import annotations

import csv

from osgeo import ogr
from qgis.core import QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import Qt

from mist_qgis.core.store import open_store
from mist_qgis.core.store.flood_evidence import density_points, depth_points
from mist_qgis.core.verify.export import export_points
from mist_qgis.core.verify.verdict_table import import_verdict_table
from mist_qgis.qgis_ops.layers import store_layer_source
from tests.helpers.verify_store import build_store

JUDGED = 11  # posts p000..p010 judged by both analysts; p011 by nobody


def _colleague_table(tmp_path):
    path = tmp_path / "ben.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["post_id", "verdict", "water_depth_m", "analyst"])
        for i in range(JUDGED):
            writer.writerow([f"p{i:03d}", "flood", "1.0", "ben"])
    return path


def _press(qtbot, dock, key):
    dock.table.setFocus()
    qtbot.keyClick(dock.table, key)


def test_two_analysts_agree_everywhere(qtbot, tmp_path, store_path, open_verify_dock):
    with open_store(store_path) as store:
        data = build_store(store, n=12)
    source, provider = store_layer_source(store_path, "posts")  # OGR on a file, `postgres` on a team store
    layer = QgsVectorLayer(source, "posts", provider)
    QgsProject.instance().addMapLayer(layer)
    try:
        dock = open_verify_dock(store_path)
        assert dock.quality.analyst_a.count() == 0
        # the colleague's table arrives from another session; Refresh shows it, analyst list included
        with open_store(store_path) as other:
            summary = import_verdict_table(other, _colleague_table(tmp_path))
        assert summary.written == JUDGED
        dock.refresh_button.click()
        names = {dock.quality.analyst_a.itemText(i) for i in range(dock.quality.analyst_a.count())}
        assert names == {"ben"}

        # ana: N on the first two (overrides), knee depth on the third (a depth change), and waist
        # depth (ben's 1.0 m) on the rest
        assert dock.current_row().post_fid == data.post_fids[0]
        for i in range(JUDGED):
            key = Qt.Key.Key_N if i < 2 else Qt.Key.Key_2 if i == 2 else Qt.Key.Key_3
            _press(qtbot, dock, key)
        expected = {data.post_fids[i]: ("not_flood", None) if i < 2 else ("flood", 0.5 if i == 2 else 1.0)
                    for i in range(JUDGED)}
        expected[data.post_fids[JUDGED]] = (None, None)

        # the dock
        shown = {}
        for media_fid, post_fid in zip(data.media_fids, data.post_fids, strict=True):
            dock.model.refresh_rows([media_fid])
            row = dock.model.row_at(dock.model.row_of(media_fid))
            shown[post_fid] = (row.verdict, row.water_depth_m)
        assert shown == expected
        # the posts layer
        on_layer = {f["fid"]: (f["verified"] or None, f["water_depth_m"] or None) for f in layer.getFeatures()}
        assert on_layer == expected
        flood = {p for p, (v, _) in expected.items() if v == "flood"}
        with open_store(store_path, read_only=True) as store:
            # the inundation input and the verified density
            assert {p.fid: p.water_depth_m for p in depth_points(store)} == {p: expected[p][1] for p in flood}
            assert {p.fid for p in density_points(store, "verified")} == flood
            # the export
            out = tmp_path / "verified_flood.gpkg"
            export_points(store, out)
        by_id = {f"p{i:03d}": data.post_fids[i] for i in range(12)}
        ds = ogr.Open(str(out))
        exported = {by_id[f.GetField("post_id")]: (f.GetField("verified"), f.GetField("water_depth_m"))
                    for f in ds.GetLayer(0)}
        ds = None
        assert exported == {p: expected[p] for p in flood}

        # the Quality tab: both analysts listed, 11 photos judged by both, two conflicts
        dock.tabs.setCurrentIndex(1)
        panel = dock.quality
        names = sorted(panel.analyst_a.itemText(i) for i in range(panel.analyst_a.count()))
        assert names == ["ana", "ben"]
        panel.refresh()
        assert panel.kappa_label.text().startswith(f"{JUDGED} photos judged by both")
        assert panel.conflicts.rowCount() == 2
    finally:
        if layer.isEditable():
            layer.rollBack()
        QgsProject.instance().removeAllMapLayers()
