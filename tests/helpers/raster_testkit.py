"""Tiny real ONNX encoders and synthetic georeferenced rasters for the raster tests.

The image encoder embeds a crop as its mean normalised colour (3-D), the text encoder maps
colour words to the same space, so map behaviour is predictable: "red" lights up red pixels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

VOCAB = {"[PAD]": 0, "[UNK]": 1, "red": 2, "green": 3, "blue": 4, "water": 5, "flooded": 6, "road": 7}
WORD_VECTORS = {
    "red": [1, -1, -1], "green": [-1, 1, -1], "blue": [-1, -1, 1], "water": [-1, -0.5, 1],
    "flooded": [-0.5, -0.5, 0.8], "road": [0.2, 0.2, 0.2],
}


def _save(model: onnx.ModelProto, path: Path, meta: dict[str, object]) -> Path:
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = value if isinstance(value, str) else json.dumps(value)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def mean_colour_encoder(path: Path, input_size: int = 256, task: str = "clip_image", meta=None) -> Path:
    """image [N,3,S,S] -> GlobalAveragePool -> Flatten -> [N,3] (mean of mist.mean/std-normalised pixels)."""
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["embedding"], axis=1)],
        "mean_colour",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 3, input_size, input_size])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [None, 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    base = {"mist.task": task, "mist.input_size": input_size, "mist.mean": [0.5, 0.5, 0.5],
            "mist.std": [0.5, 0.5, 0.5]}
    base.update(meta or {})
    return _save(model, path, {k: v for k, v in base.items() if v is not None})


def conv_encoder(path: Path, dim: int = 32, seed: int = 0) -> Path:
    """A small random conv net: Conv 3->16 k8 s8, Relu, Conv 16->32 k4 s4, Relu, pool, MatMul -> dim."""
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 0.2, (16, 3, 8, 8)).astype(np.float32)
    w2 = rng.normal(0, 0.2, (32, 16, 4, 4)).astype(np.float32)
    w3 = rng.normal(0, 0.2, (32, dim)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["image", "w1"], ["c1"], strides=[8, 8]),
         helper.make_node("Relu", ["c1"], ["r1"]),
         helper.make_node("Conv", ["r1", "w2"], ["c2"], strides=[4, 4]),
         helper.make_node("Relu", ["c2"], ["r2"]),
         helper.make_node("GlobalAveragePool", ["r2"], ["p"]),
         helper.make_node("Flatten", ["p"], ["f"], axis=1),
         helper.make_node("MatMul", ["f", "w3"], ["embedding"])],
        "tiny_conv",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 3, 256, 256])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [None, dim])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(w3, "w3")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    return _save(model, path, {"mist.task": "image_embedding", "mist.input_size": 256,
                               "mist.mean": [0.5, 0.5, 0.5], "mist.std": [0.5, 0.5, 0.5]})


def colour_text_encoder(path: Path, context_length: int = 8, tokenizer_name: str = "tokenizer.json") -> Path:
    """input_ids [N,L] -> Gather(word table) -> ReduceSum over L -> [N,3]; [PAD] and [UNK] map to 0."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    table = np.zeros((len(VOCAB), 3), np.float32)
    for word, vec in WORD_VECTORS.items():
        table[VOCAB[word]] = vec
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["vecs"]),
         helper.make_node("ReduceSum", ["vecs", "axes"], ["embedding"], keepdims=0)],
        "colour_text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [None, context_length])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [None, 3])],
        [numpy_helper.from_array(table, "table"), axes],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    tok = Tokenizer(WordLevel(VOCAB, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    tok.save(str(path.with_name("tokenizer.json")))
    return _save(model, path, {"mist.task": "clip_text", "mist.tokenizer": tokenizer_name,
                               "mist.context_length": context_length})


def write_rgb_raster(path: Path, rgb: np.ndarray, epsg: int | None = 32633,
                     geotransform=(500000.0, 0.5, 0.0, 4000000.0, 0.0, -0.5), dtype=None) -> Path:
    from osgeo import gdal, gdal_array, osr

    bands = rgb.shape[2] if rgb.ndim == 3 else 1
    arr = rgb if rgb.ndim == 3 else rgb[..., None]
    gtype = gdal_array.NumericTypeCodeToGDALTypeCode(dtype or arr.dtype)
    ds = gdal.GetDriverByName("GTiff").Create(str(path), arr.shape[1], arr.shape[0], bands, gtype,
                                              ["TILED=YES"])
    ds.SetGeoTransform(geotransform)
    if epsg:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        ds.SetProjection(srs.ExportToWkt())
    for b in range(bands):
        ds.GetRasterBand(b + 1).WriteArray(arr[:, :, b])
    ds = None
    return path


def scene(height: int = 768, width: int = 1024, seed: int = 0) -> np.ndarray:
    """Green fields with a red block (rows 256-511, cols 512-767) and a blue pond, plus noise."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.uint8)
    img[..., 1] = 160
    img[256:512, 512:768] = (220, 30, 30)
    img[100:200, 100:260] = (20, 40, 210)
    noise = rng.integers(0, 20, img.shape, dtype=np.uint8)
    return np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def write_dem(path: Path, dem: np.ndarray, epsg: int | None = 32633,
              geotransform=(500000.0, 1.0, 0.0, 4000000.0, 0.0, -1.0), nodata: float | None = None) -> Path:
    """A float32 single-band GeoTIFF DEM."""
    from osgeo import gdal, osr

    ds = gdal.GetDriverByName("GTiff").Create(str(path), dem.shape[1], dem.shape[0], 1, gdal.GDT_Float32)
    ds.SetGeoTransform(geotransform)
    if epsg:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        ds.SetProjection(srs.ExportToWkt())
    band = ds.GetRasterBand(1)
    if nodata is not None:
        band.SetNoDataValue(nodata)
    band.WriteArray(dem.astype(np.float32))
    ds = None
    return path
