"""SeLo v1/v2 maps: window layouts, cell-grid equality with the naive procedure, cache, queries."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from osgeo import gdal

from mist_qgis.core.errors import Cancelled
from mist_qgis.core.rasters import selo, selo_grid, selo_median
from mist_qgis.core.rasters.encoders import (
    EncoderError,
    OnnxImageEncoder,
    OnnxTextEncoder,
    embed_photos,
    resize_crop,
)
from mist_qgis.core.rasters.selo_queries import HeadQuery, TextQuery, VectorQuery, chaotic_text_vector
from mist_qgis.core.rasters.slm_metrics import evaluate
from mist_qgis.core.stage import Monitor
from tests.helpers.raster_testkit import (
    colour_text_encoder,
    conv_encoder,
    mean_colour_encoder,
    scene,
    write_rgb_raster,
)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    return {
        "image": OnnxImageEncoder(mean_colour_encoder(d / "image.onnx")),
        "text": OnnxTextEncoder(colour_text_encoder(d / "text.onnx")),
        "dir": d,
    }


@pytest.fixture(scope="module")
def raster(tmp_path_factory):
    return write_rgb_raster(tmp_path_factory.mktemp("img") / "scene.tif", scene())


# -- layouts ---------------------------------------------------------------------------------


def test_grid_spans_snap_windows_reaching_the_edge():
    assert selo_grid.grid_spans(1000, 256, 0) == [(0, 256), (256, 512), (512, 768), (744, 1000)]
    assert selo_grid.grid_spans(1000, 256, 128) == [(128, 384), (384, 640), (640, 896), (744, 1000)]
    assert selo_grid.grid_spans(768, 256, 0) == [(0, 256), (256, 512), (512, 768)]  # end == dim snaps to itself
    assert selo_grid.grid_spans(300, 512, 0) == [(0, 300)]  # larger than the image: the whole image
    assert selo_grid.grid_spans(300, 768, 384) == []


def test_v1_windows_two_offset_grids_per_size_deduplicated():
    boxes = selo_grid.v1_windows(1000, 1000, (256,))
    assert len(boxes) == len({tuple(b) for b in boxes})
    # aligned 4 x 4, shifted 4 x 4, minus the snapped corner windows both grids produce
    spans0 = selo_grid.grid_spans(1000, 256, 0)
    spans1 = selo_grid.grid_spans(1000, 256, 128)
    expected = {(a, b, c, d) for (a, b) in spans0 for (c, d) in spans0} | \
        {(a, b, c, d) for (a, b) in spans1 for (c, d) in spans1}
    assert {tuple(b) for b in boxes} == expected
    assert all(b[1] - b[0] == 256 and b[3] - b[2] == 256 for b in boxes)
    big = selo_grid.v1_windows(10_000, 10_000)
    # per size both grids end in the same snapped bottom-right window, counted once
    assert len(big) == 40 * 40 + 39 * 39 + 20 * 20 + 20 * 20 + 14 * 14 + 13 * 13 - 3


def test_v2_tiles_and_anchor_boxes():
    tiles = selo_grid.v2_tiles(1200, 1100)
    assert {tuple(t) for t in tiles} == {(r0, r1, c0, c1) for r0, r1 in [(0, 512), (512, 1024), (688, 1200)]
                                          for c0, c1 in [(0, 512), (512, 1024), (588, 1100)]}
    assert selo_grid.v2_keep_count(9) == 2 and selo_grid.v2_keep_count(100) == 16 and selo_grid.v2_keep_count(1) == 1
    boxes = selo_grid.v2_anchor_boxes((0, 512, 0, 512), 1200, 1100)
    assert len(boxes) == 18
    assert boxes[0] == (0, 128, 0, 128)  # corner (0, 0), size 64: start clamps to 0, end 128
    assert boxes[1] == (0, 256, 0, 256)
    assert (448, 576, 448, 576) in boxes  # anchor (512, 512) size 64
    assert (128, 384, 128, 384) in boxes and (192, 320, 192, 320) in boxes  # centre, both sizes
    edge = selo_grid.v2_anchor_boxes((688, 1200, 588, 1100), 1200, 1100)
    assert all(b[1] <= 1200 and b[3] <= 1100 for b in edge)
    assert (1072, 1200, 972, 1100) in edge  # bottom-right corner, size 64: clipped at the image edge


# -- the cell grid equals the naive full-size procedure ----------------------------------------


def _naive_heat(boxes, scores, h, w):
    heat = np.zeros((h, w))
    cnt = np.zeros((h, w))
    for (r0, r1, c0, c1), s in zip(boxes, scores, strict=True):
        heat[r0:r1, c0:c1] += s
        cnt[r0:r1, c0:c1] += 1
    out = np.zeros((h, w))
    np.divide(heat, cnt, out=out, where=cnt > 0)
    return out


def _naive_u8(heat):
    p = (heat - heat.min()) / (heat.max() - heat.min())
    return (255 * p).astype(np.uint8)


def test_cell_accumulation_is_bit_identical_to_full_size_arrays():
    rng = np.random.default_rng(1)
    h, w = 700, 900
    boxes = selo_grid.v1_windows(h, w, (128, 256, 384))
    scores = rng.normal(size=len(boxes))
    cells, covered = selo_grid.accumulate(boxes, scores, h, w)
    assert covered.all()
    naive = _naive_heat(boxes, scores, h, w)
    assert np.array_equal(cells.full(), naive)
    assert np.array_equal(selo_grid.CellMap(cells.row_edges, cells.col_edges, selo_grid.to_uint8(cells.values)).full(),
                          _naive_u8(naive))
    # sparse boxes (v2): uncovered pixels are 0
    sparse = np.array([[10, 50, 20, 80], [30, 90, 60, 100]])
    cells, covered = selo_grid.accumulate(sparse, [0.7, -0.2], 120, 130)
    assert np.array_equal(cells.full(), _naive_heat(sparse, [0.7, -0.2], 120, 130))
    assert not covered.all()


@pytest.mark.parametrize(("version", "sizes", "cell_median"),
                         [("v1", (128, 256), False), ("v1", (256, 512), True), ("v2", (128, 256), False)])
def test_tiled_smoothing_equals_one_whole_image_filter(tmp_path, version, sizes, cell_median):
    rng = np.random.default_rng(2)
    h, w = 1100, 900
    boxes = selo_grid.v1_windows(h, w, sizes)
    cells, _ = selo_grid.accumulate(boxes, rng.random(len(boxes)), h, w)
    u8 = selo_grid.CellMap(cells.row_edges, cells.col_edges, selo_grid.to_uint8(cells.values))
    # which path v1 takes: the median from cell counts, or cv2 on tiles with margins
    assert (selo_median.cells_per_window(u8, 251) <= selo_median.MAX_CELLS_PER_WINDOW) == cell_median
    out = tmp_path / "m.tif"
    selo.write_smoothed(u8, version, out, (0, 1, 0, 0, 0, -1), "", {}, tile=300)
    got = gdal.Open(str(out)).ReadAsArray()
    full = u8.full()
    want = cv2.medianBlur(full, 251) if version == "v1" else cv2.GaussianBlur(full, (255, 255), 0)
    assert np.array_equal(got, want)


@pytest.mark.parametrize(("h", "w", "sizes"), [
    (1300, 700, (256, 512, 768)),  # the default windows, edge-snapped cells of 4 to 252 px
    (517, 263, (64, 128)),  # 11 x 11 cells per window (the writer would use cv2 here)
    (200, 90, (256,)),  # smaller than the kernel: borders replicated beyond both sides
    (1, 400, (256,)),  # one row
])
@pytest.mark.parametrize("ksize", [251, 31])
def test_cell_median_is_bit_identical_to_cv2_median_blur(h, w, sizes, ksize):
    rng = np.random.default_rng(h + w + ksize)
    boxes = selo_grid.v1_windows(h, w, sizes)
    for scores in (rng.normal(size=len(boxes)), rng.integers(0, 3, len(boxes)).astype(float)):  # ties too
        cells, _ = selo_grid.accumulate(boxes, scores, h, w)
        u8 = selo_grid.CellMap(cells.row_edges, cells.col_edges, selo_grid.to_uint8(cells.values))
        strips = list(selo_median.median_strips(u8, ksize))
        assert [y0 for y0, _ in strips] == list(np.cumsum([0] + [len(s) for _, s in strips[:-1]]))
        got = np.concatenate([s for _, s in strips])
        assert got.dtype == np.uint8 and np.array_equal(got, cv2.medianBlur(u8.full(), ksize))
    with pytest.raises(ValueError, match="odd kernel"):
        next(selo_median.median_strips(u8, 250))


# -- end to end ------------------------------------------------------------------------------


def _naive_selo_v1(raster, encoder, query_vec, sizes):
    """The reference procedure: crop every window, encode it, accumulate at full size, blur."""
    ds = gdal.Open(str(raster))
    img = ds.ReadAsArray().transpose(1, 2, 0)
    h, w = img.shape[:2]
    boxes = selo_grid.v1_windows(h, w, sizes)
    crops = np.stack([resize_crop(img[r0:r1, c0:c1]) for r0, r1, c0, c1 in boxes])
    emb = encoder(crops)
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    q = query_vec / np.linalg.norm(query_vec)
    sims = (emb @ q).astype(np.float64)
    return cv2.medianBlur(_naive_u8(_naive_heat(boxes, sims, h, w)), 251)


def test_v1_text_map_matches_naive_procedure_and_keeps_georeferencing(tmp_path, models, raster):
    out = tmp_path / "red.tif"
    query = TextQuery(models["text"], "red")
    res = selo.selo_map(raster, out, models["image"], query, "v1", cache_dir=tmp_path / "cache")
    ds_in, ds_out = gdal.Open(str(raster)), gdal.Open(str(out))
    assert ds_out.GetGeoTransform() == ds_in.GetGeoTransform()
    assert ds_out.GetProjection() == ds_in.GetProjection()
    assert ds_out.GetMetadataItem("MIST_SELO_VERSION") == "v1" and ds_out.GetMetadataItem("MIST_QUERY") == "red"
    got = ds_out.ReadAsArray()
    want = _naive_selo_v1(raster, models["image"], models["text"].encode_text(["red"])[0], (256, 512, 768))
    assert np.array_equal(got, want)
    assert res.encoded == res.windows and res.from_cache == 0
    # the map finds the red block: SLM metrics against its polygon
    m = evaluate(got, [[[512, 256], [767, 256], [767, 511], [512, 511]]])
    assert m["Rsu"] > 0.7 and m["Ras"] < 0.2
    # second query on the same raster: no window is encoded again
    res2 = selo.selo_map(raster, tmp_path / "blue.tif", models["image"], TextQuery(models["text"], "blue"), "v1",
                         cache_dir=tmp_path / "cache")
    assert res2.encoded == 0 and res2.from_cache == res2.windows
    blue = gdal.Open(str(tmp_path / "blue.tif")).ReadAsArray()
    assert blue[150, 180] > blue[380, 640]


def test_v2_map_matches_naive_procedure(tmp_path, models, raster):
    out = tmp_path / "v2.tif"
    query = TextQuery(models["text"], "red road", seed=3)
    selo.selo_map(raster, out, models["image"], query, "v2", cache_dir=tmp_path / "cache")
    got = gdal.Open(str(out)).ReadAsArray()

    img = gdal.Open(str(raster)).ReadAsArray().transpose(1, 2, 0)
    h, w = img.shape[:2]
    vec = chaotic_text_vector(models["text"], "red road", seed=3)

    def sims(boxes):
        e = models["image"](np.stack([resize_crop(img[a:b, c:d]) for a, b, c, d in boxes]))
        e = e / np.linalg.norm(e, axis=1, keepdims=True)
        return (e @ (vec / np.linalg.norm(vec))).astype(np.float64)

    tiles = selo_grid.v2_tiles(h, w)
    ts = sims(tiles)
    keep = np.argsort(-ts, kind="stable")[:selo_grid.v2_keep_count(len(tiles))]
    boxes = [b for t in tiles[keep] for b in selo_grid.v2_anchor_boxes(t, h, w)]
    all_boxes = list(map(tuple, tiles[keep])) + boxes
    all_scores = np.concatenate([ts[keep], sims(boxes)])
    want = cv2.GaussianBlur(_naive_u8(_naive_heat(all_boxes, all_scores, h, w)), (255, 255), 0)
    assert np.array_equal(got, want)


class _WordOrderEncoder:
    """A text encoder that hears word order (each word's vector weighted by its position), unlike
    the colour model's sum of word vectors, so a shuffle changes the embedding; it keeps what it
    was asked to embed."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def encode_text(self, texts):
        self.asked.append(list(texts))
        out = np.zeros((len(texts), 16), dtype=np.float32)
        for row, text in enumerate(texts):
            for position, word in enumerate(text.split()):
                out[row, sum(map(ord, word)) % 16] += position + 1
        return out


def test_chaotic_vector_is_the_mean_of_caption_and_four_shuffles():
    caption = "red water on the road"
    encoder = _WordOrderEncoder()
    vec = chaotic_text_vector(encoder, caption, seed=0)
    (texts,) = encoder.asked
    assert len(texts) == 5 and texts[0] == caption
    assert all(sorted(t.split()) == sorted(caption.split()) for t in texts[1:])  # shuffles of the same words
    assert len(set(texts[1:]) - {caption}) >= 3  # shuffled for real, not the caption again
    assert np.allclose(vec, encoder.encode_text(texts).mean(axis=0))
    assert not np.allclose(vec, encoder.encode_text([caption])[0])
    assert np.allclose(chaotic_text_vector(_WordOrderEncoder(), caption, seed=0), vec)  # the seed fixes them


def test_v2_queries_use_the_chaotic_vector_and_v1_the_caption():
    query = TextQuery(_WordOrderEncoder(), "red water on the road", seed=3)
    assert np.allclose(query.vector("v2"), chaotic_text_vector(_WordOrderEncoder(), "red water on the road", seed=3))
    assert np.allclose(query.vector("v1"), _WordOrderEncoder().encode_text(["red water on the road"])[0])
    assert not np.allclose(query.vector("v1"), query.vector("v2"))


def test_exemplar_and_head_queries(tmp_path, models, raster):
    red_photo = np.zeros((300, 400, 3), np.uint8)
    red_photo[..., 0] = 230
    emb = embed_photos(models["image"], [red_photo])
    query = VectorQuery.from_embeddings(emb, "1 photo")
    out = tmp_path / "ex.tif"
    selo.selo_map(raster, out, models["image"], query, "v1", sizes=(256,), cache_dir=tmp_path / "c")
    m = gdal.Open(str(out)).ReadAsArray()
    assert m[380, 640] == m.max() and m[600, 100] < 50

    from osgeo import ogr, osr

    layer = tmp_path / "boxes.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(layer))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    lyr = ds.CreateLayer("boxes", srs, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("label", ogr.OFTString))
    gt = gdal.Open(str(raster)).GetGeoTransform()
    for (r0, r1, c0, c1), label in [((300, 400, 550, 700), "flood"), ((600, 700, 50, 200), "not_flood"),
                                    ((120, 180, 120, 240), "0")]:
        x0, x1 = gt[0] + c0 * gt[1], gt[0] + c1 * gt[1]
        y0, y1 = gt[3] + r0 * gt[5], gt[3] + r1 * gt[5]
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetGeometry(ogr.CreateGeometryFromWkt(f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"))
        f["label"] = label
        lyr.CreateFeature(f)
    ds = None
    boxes, labels = selo.boxes_from_layer(layer, raster, "label")
    assert boxes.tolist() == [[300, 400, 550, 700], [600, 700, 50, 200], [120, 180, 120, 240]]
    assert labels == [1, 0, 0]
    emb = selo.embed_layer_boxes(raster, models["image"], boxes, cache_dir=tmp_path / "c")
    head = HeadQuery.train(emb, labels)
    out = tmp_path / "head.tif"
    selo.selo_map(raster, out, models["image"], head, "v1", sizes=(256,), cache_dir=tmp_path / "c")
    m = gdal.Open(str(out)).ReadAsArray()
    assert m[380, 640] == m.max()
    with pytest.raises(EncoderError, match="positive and one negative"):
        HeadQuery.train(emb, [1, 1, 1])
    with pytest.raises(EncoderError, match="dimensions"):
        VectorQuery(np.ones(5, np.float32)).scores(emb, "v1")


def test_cancel_leaves_no_map_and_resumes_from_the_cache(tmp_path, raster):
    encoder = OnnxImageEncoder(conv_encoder(tmp_path / "conv.onnx"))
    calls = {"n": 0}

    def cancelled():
        calls["n"] += 1
        return calls["n"] > 3

    out = tmp_path / "cancelled.tif"
    with pytest.raises(Cancelled):
        selo.selo_map(raster, out, encoder, VectorQuery(np.ones(32, np.float32)), "v1",
                      cache_dir=tmp_path / "c", monitor=Monitor(is_cancelled=cancelled), embed_batch=4)
    assert not out.exists() and not list(tmp_path.glob("*.part.tif"))
    res = selo.selo_map(raster, out, encoder, VectorQuery(np.ones(32, np.float32)), "v1", cache_dir=tmp_path / "c")
    assert 0 < res.from_cache < res.windows and res.encoded == res.windows - res.from_cache
    assert out.exists()


def test_non_byte_single_band_raster_and_flat_map(tmp_path, models):
    grey = (np.arange(400 * 500, dtype=np.uint16).reshape(400, 500) % 4000) * 10
    path = write_rgb_raster(tmp_path / "u16.tif", grey, epsg=None)
    out = tmp_path / "m.tif"
    res = selo.selo_map(path, out, models["image"], TextQuery(models["text"], "red"), "v1", sizes=(128,),
                        cache_dir=tmp_path / "c")
    assert any("no CRS" in w for w in res.warnings)
    flat = write_rgb_raster(tmp_path / "flat.tif", np.full((300, 300, 3), 90, np.uint8))
    res = selo.selo_map(flat, tmp_path / "f.tif", models["image"], TextQuery(models["text"], "red"), "v1",
                        sizes=(128,), cache_dir=tmp_path / "c")
    assert any("scored the same" in w for w in res.warnings)
    assert gdal.Open(str(tmp_path / "f.tif")).ReadAsArray().max() == 0


def test_encoder_files_are_validated(tmp_path, models):
    import onnx
    from onnx import TensorProto, helper

    with pytest.raises(EncoderError, match="does not exist"):
        OnnxImageEncoder(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(EncoderError, match="not a loadable"):
        OnnxImageEncoder(tmp_path / "junk.onnx")
    with pytest.raises(EncoderError, match="not an image encoder"):
        OnnxImageEncoder(models["dir"] / "text.onnx")
    with pytest.raises(EncoderError, match="not a CLIP text encoder"):
        OnnxTextEncoder(models["dir"] / "image.onnx")
    with pytest.raises(EncoderError, match="three numbers"):
        OnnxImageEncoder(mean_colour_encoder(tmp_path / "bad.onnx", meta={"mist.mean": [1, 2]}))
    with pytest.raises(EncoderError, match="positive"):
        OnnxImageEncoder(mean_colour_encoder(tmp_path / "bad2.onnx", meta={"mist.std": [0, 1, 1]}))
    with pytest.raises(EncoderError, match="beside the model"):
        OnnxTextEncoder(colour_text_encoder(tmp_path / "t.onnx", tokenizer_name="../../etc/passwd"))
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    bare = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.save(bare, str(tmp_path / "bare.onnx"))
    with pytest.raises(EncoderError, match="mist.task"):
        OnnxImageEncoder(tmp_path / "bare.onnx")
    # an image encoder with a smaller input size gets crops resized to it
    small = OnnxImageEncoder(mean_colour_encoder(tmp_path / "small.onnx", input_size=64))
    crops = np.zeros((2, 256, 256, 3), np.uint8)
    crops[1, ..., 2] = 255
    emb = small(crops)
    assert emb.shape == (2, 3) and np.allclose(emb[1], [-1, -1, 1])
    with pytest.raises(EncoderError, match="uint8"):
        small(crops.astype(np.float32))
