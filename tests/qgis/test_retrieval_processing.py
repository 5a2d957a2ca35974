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
