"""Run time needs no PyTorch: with torch, torchvision, kornia, transformers and
sentence-transformers unimportable, every MIST module imports, the default matcher keeps its
quality on the Middlebury pair and post texts are embedded (the whole demo: tests/qgis/test_demo.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import built_models

PROBE = r"""
import importlib, json, pkgutil, sys
import numpy as np
import skimage.data

import mist_qgis
from mist_qgis.core.geoloc import matchers
from mist_qgis.core.geoloc.evaluate import stereo_disparity_quality
from mist_qgis.core.models.text import embed_texts

modules = [m.name for m in pkgutil.walk_packages(mist_qgis.__path__, "mist_qgis.") if not m.name.endswith("__main__")]
for name in modules:
    importlib.import_module(name)
left, right, disparity = skimage.data.stereo_motorcycle()
quality = stereo_disparity_quality(matchers.create(models_dir=sys.argv[1]).match(left, right), disparity)
vectors = embed_texts(["Water is up to the doors of the houses on Main Street, cars are under water",
                       "Our street is completely flooded, the river broke its banks",
                       "Great coffee at the new place downtown this morning"], model_path=sys.argv[1])
print(json.dumps({"modules": len(modules), "quality": quality, "similar": float(vectors[0] @ vectors[1]),
                  "unrelated": float(vectors[0] @ vectors[2]),
                  "loaded": sorted({m.split(".")[0] for m in sys.modules} & {"torch", "kornia", "transformers"})}))
"""


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(built_models.REPO / "tests" / "helpers" / "without_torch.py"), "-c",
                           code, *args], cwd=built_models.REPO, capture_output=True, text=True, timeout=600)


def test_the_blocker_really_blocks():
    out = _run("import kornia")
    assert out.returncode != 0 and "No module named 'kornia' (build-time only" in out.stderr
    out = _run("import importlib.util; importlib.util.find_spec('sentence_transformers')")
    assert out.returncode != 0 and "sentence_transformers" in out.stderr


@pytest.mark.slow  # three fresh interpreters with the build tools blocked: `make test-all` and CI
def test_modules_matcher_and_text_embeddings_without_build_tools():
    folder = built_models.ensure("disk.onnx", "lightglue-disk.onnx", "all-MiniLM-L6-v2.onnx")
    out = _run(PROBE, str(folder))
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["modules"] > 100 and report["loaded"] == []
    assert report["quality"]["matches"] >= 300 and report["quality"]["within_3px"] >= 0.8
    assert report["similar"] > report["unrelated"] + 0.2
