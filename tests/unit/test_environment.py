"""The environment the README promises: light plugin import, ONNX Runtime on CPU, torchvision."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "mist_qgis"
HEAVY = ("torch", "torchvision", "onnxruntime", "kornia", "transformers", "cv2", "sklearn", "requests")


def test_importing_the_plugin_imports_nothing_heavy():
    code = (
        f"import sys, mist_qgis; heavy = {HEAVY!r}; "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_core_store_needs_no_qgis():
    code = "import sys, mist_qgis.core.store; print('qgis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_qt_enums_are_fully_qualified():
    """Short enum access (Qt.AlignLeft) breaks on Qt 6; only Qt.AlignmentFlag.AlignLeft survives."""
    import re

    short = re.compile(r"\bQt\.(?!(?:[A-Z][a-z]+[A-Za-z]*)\.)[A-Z][a-z]\w*\b(?!\s*\()")
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in short.finditer(line):
                offenders.append(f"{path.name}:{lineno}: {match.group(0)}")
    assert offenders == []


def test_onnxruntime_cpu_provider_serves_without_gpu(tmp_path):
    """The GPU wheel must run everything on the CPU provider on machines without CUDA."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    weight = np.arange(6, dtype=np.float32).reshape(3, 2)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
        [onnx.numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    path = tmp_path / "tiny.onnx"
    onnx.save(model, path)
    session = ort.InferenceSession(
        str(path), providers=["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    assert "CPUExecutionProvider" in session.get_providers()
    x = np.ones((2, 3), dtype=np.float32)
    np.testing.assert_allclose(session.run(None, {"x": x})[0], x @ weight)


def test_numpy_is_1x_for_debian_gdal():
    import numpy
    from osgeo import gdal_array

    assert numpy.__version__.startswith("1.")
    assert gdal_array.OpenArray(numpy.zeros((4, 5), dtype="uint8")).RasterXSize == 5


@pytest.mark.slow
def test_torch_and_torchvision_import_together():
    code = "import torch, torchvision; print(torchvision.ops.nms is not None)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_dependency_check_names_the_install_command():
    from mist_qgis.core import dependencies

    with pytest.raises(dependencies.MissingDependencyError, match="--find-links"):
        dependencies.require("mist_package_that_does_not_exist")
    assert any(d.module == "onnxruntime" and d.available for d in dependencies.status())
