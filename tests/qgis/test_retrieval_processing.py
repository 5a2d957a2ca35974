"""Retrieval geolocation through the CLI (and so the Processing algorithm) on a real store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("faiss")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from geoloc_helpers import add_embedded_post, offset  # noqa: E402

from mist_qgis.core.geoloc.retrieval import index_base, index_paths  # noqa: E402
from mist_qgis.core.store import open_store  # noqa: E402
from tests.helpers.cli import run_cli as _cli  # noqa: E402


def test_cli_locate_retrieval_writes_rasters_and_explains_mistakes(tmp_path, store_path):
    vecs = np.random.default_rng(3).normal(size=(6, 32)).astype(np.float32)
    with open_store(store_path) as store:
        for i in range(5):
            add_embedded_post(store, f"p{i}", offset(i * 60, 0), "exif", vecs[i])
        query = add_embedded_post(store, "q", None, "none", vecs[4] + 0.02)
    out = _cli("locate-retrieval", "--store", str(store_path), "--k", "3", "--rasters", str(tmp_path / "r"))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)["result"]
    assert result["indexed"] == 5 and result["placed"] == 1
    photo = result["photos"][0]
    assert photo["media_fid"] == query and photo["lon"] == pytest.approx(offset(240, 0)[0], abs=0.003)
    with open_store(store_path) as store:
        index_file = index_paths(index_base(store))[0]
    assert Path(photo["raster"]).is_file() and index_file.is_file()
    bad = _cli("locate-retrieval", "--store", str(store_path), "--model", "other")
    assert bad.returncode != 0 and "emb-a" in bad.stderr and "Traceback" not in bad.stderr


def test_geolocate_with_an_unknown_retrieval_model_is_one_line(tmp_path, store_path):
    with open_store(store_path) as store:
        add_embedded_post(store, "p0", offset(0, 0), "gps", np.ones(8, dtype=np.float32))
    bad = _cli("geolocate", "--store", str(store_path), "--matcher", "sift", "--retrieval-model", "nope")
    assert bad.returncode != 0 and "nope" in bad.stderr and "emb-a" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_probability_rasters_go_on_the_map_below_the_points_and_a_rerun_replaces_them(tmp_path, store_path):
    import processing
    from qgis.core import QgsProject, QgsRasterLayer, QgsSingleBandPseudoColorRenderer

    from mist_qgis.qgis_ops.layers import STEP_PROPERTY, add_posts_layer

    vecs = np.random.default_rng(4).normal(size=(7, 32)).astype(np.float32)
    with open_store(store_path) as store:
        for i in range(5):
            add_embedded_post(store, f"p{i}", offset(i * 60, 0), "gps", vecs[i])
        queries = [add_embedded_post(store, "q0", None, "none", vecs[1] + 0.02),
                   add_embedded_post(store, "q1", None, "none", vecs[3] + 0.02)]
        media_dir = store.media_dir
    project = QgsProject.instance()
    posts = add_posts_layer(store_path, project)
    try:
        result = processing.runAndLoadResults("mist:retrievalgeolocation", {"STORE": str(store_path), "K": 3})
        assert result["PLACED"] == 2
        loaded = [lyr for lyr in project.mapLayers().values() if lyr.customProperty(STEP_PROPERTY)]
        assert sorted(lyr.name() for lyr in loaded) == [f"Location probability, photo {q}" for q in queries]
        names = [n.layer().name() for n in project.layerTreeRoot().findLayers()]
        assert names[0] == posts.name() and len(names) == 3  # the rasters below the points
        for layer in loaded:
            assert isinstance(layer, QgsRasterLayer) and layer.source().startswith(str(media_dir / "retrieval"))
            renderer = layer.renderer()
            assert isinstance(renderer, QgsSingleBandPseudoColorRenderer)
            items = renderer.shader().rasterShaderFunction().colorRampItemList()
            assert items[0].value == 0.0 and items[0].color.alpha() == 0  # zero probability is transparent
            stats = layer.dataProvider().bandStatistics(1)
            assert items[-1].value == pytest.approx(stats.maximumValue, rel=1e-6)
        result = processing.runAndLoadResults("mist:retrievalgeolocation", {
            "STORE": str(store_path), "K": 2, "RASTERS": str(tmp_path / "again")})
        again = [lyr for lyr in project.mapLayers().values() if lyr.customProperty(STEP_PROPERTY)]
        assert len(again) == 2 and all(lyr.source().startswith(str(tmp_path / "again")) for lyr in again)
        assert len(project.layerTreeRoot().findLayers()) == 3
    finally:
        project.removeAllMapLayers()
