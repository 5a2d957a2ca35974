"""`mist:exportverified` in Processing and `export-verified` on the command line."""

from __future__ import annotations

import json

import processing
import pytest
from qgis.core import QgsProcessingException, QgsVectorLayer

from mist_qgis.core.store import open_store
from mist_qgis.core.verify.records import Verdict
from mist_qgis.core.verify.verdicts import write_verdicts
from tests.helpers.cli import run_cli as _cli
from tests.helpers.verify_store import build_store


@pytest.fixture
def judged_store(store_path):
    with open_store(store_path) as store:
        data = build_store(store, n=5, unlocated=(4,))
        p, m = data.post_fids, data.media_fids
        write_verdicts(store, [
            Verdict(p[0], "flood", "ana", m[0], 0.5), Verdict(p[1], "flood", "ana", m[1], 1.0),
            Verdict(p[2], "not_flood", "ana", m[2]), Verdict(p[4], "flood", "ana", m[4]),
        ])
    return store_path


def test_processing_exports_points_and_training_set(judged_store, tmp_path):
    out = tmp_path / "flood.gpkg"
    result = processing.run("mist:exportverified", {
        "STORE": str(judged_store), "OUTPUT": str(out), "TRAINING_SET": str(tmp_path / "train")})
    assert result["POINTS"] == 2 and result["UNLOCATED_SKIPPED"] == 1
    training = json.loads(result["TRAINING"])
    assert training["copied"] == {"flood": 3, "not_flood": 1}
    layer = QgsVectorLayer(str(out), "flood", "ogr")
    assert layer.isValid() and layer.featureCount() == 2 and layer.crs().authid() == "EPSG:4326"
    assert sorted(f["water_depth_m"] for f in layer.getFeatures()) == [0.5, 1.0]


@pytest.mark.gpkg_only("a team store has no file that an export could overwrite")
def test_processing_reports_export_mistakes(judged_store):
    with pytest.raises(QgsProcessingException, match="would overwrite the store itself"):
        processing.run("mist:exportverified", {"STORE": str(judged_store), "OUTPUT": str(judged_store)})


def test_cli_export_verified(judged_store, tmp_path):
    out = tmp_path / "points.txt"
    done = _cli("export-verified", "--store", str(judged_store), "--out", str(out), "--format", "csv",
                "--verdicts", "flood,not_flood", "--training-set", str(tmp_path / "ts"))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["points"] == 3 and result["format"] == "csv"
    assert result["training"]["copied"]["flood"] == 3
    assert out.read_text().splitlines()[0].startswith("X,Y,post_id")
    bad = _cli("export-verified", "--store", str(judged_store), "--out", str(out), "--verdicts", "wet")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_the_export_is_added_to_the_map_once(judged_store, tmp_path):
    from qgis.core import QgsProject

    try:
        for _ in range(2):  # a re-run replaces the layer of the earlier run
            processing.runAndLoadResults("mist:exportverified", {"STORE": str(judged_store),
                                                                 "OUTPUT": str(tmp_path / "flood.gpkg")})
        layers = [lyr for lyr in QgsProject.instance().mapLayers().values() if lyr.name() == "Verified points"]
        assert len(layers) == 1 and layers[0].featureCount() == 2
    finally:
        QgsProject.instance().removeAllMapLayers()
