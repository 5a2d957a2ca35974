"""The LSGL segmentation mask: the right classes, the right keypoints dropped, a tiny real
MaskFormer exported to ONNX and run by onnxruntime, and a clear note when no model exists."""

from __future__ import annotations

import numpy as np
import pytest

from mist_qgis.core.geoloc import masks
from mist_qgis.core.geoloc.matchers import MatchResult


def _match(points):
    k0 = np.array(points, np.float32)
    return MatchResult(k0, k0 + 1, np.linspace(0.2, 0.9, len(points)).astype(np.float32), "t", (8, 6), (8, 6))


def test_paper_classes_are_the_ones_lsgl_masks():
    assert masks.PAPER_CLASSES == {2: "sky", 4: "tree", 6: "road", 12: "person", 17: "plant", 20: "car",
                                   21: "water", 80: "bus"}
    assert 1 not in masks.PAPER_CLASSES  # buildings are what is matched
    assert set(masks.OPTIONAL_CLASSES) == {83, 102, 76, 127, 116}


def test_matches_on_masked_classes_are_dropped():
    cmap = np.ones((6, 8), np.int32)  # building everywhere
    cmap[0:2, :] = 2  # sky on top
    cmap[4:6, 0:4] = 20  # a car bottom left
    cmap[4:6, 4:8] = 83  # a truck bottom right (kept by the paper)
    drop = masks.mask_from_class_map(cmap, tuple(masks.PAPER_CLASSES))
    mask = masks.MaskResult(drop, applied=True, class_map=cmap, classes=tuple(masks.PAPER_CLASSES))
    pts = [[1, 0.6], [3, 3], [1.4, 5], [6, 5], [7.6, 2.6], [-3, 3], [20, 20]]
    kept, dropped = masks.filter_matches(_match(pts), mask)
    # sky (1, 0.6 -> row 1), car (1.4, 5); (20, 20) clips to (7, 5): truck, kept; (-3, 3) clips to building
    assert dropped == 2
    np.testing.assert_allclose(kept.keypoints0, [[3, 3], [6, 5], [7.6, 2.6], [-3, 3], [20, 20]], rtol=1e-6)
    assert kept.confidence.shape == (5,)
    with_truck = masks.MaskResult(masks.mask_from_class_map(cmap, (*masks.PAPER_CLASSES, *masks.OPTIONAL_CLASSES)),
                                  applied=True)
    assert masks.filter_matches(_match(pts), with_truck)[1] == 4


def test_without_weights_the_mask_is_not_applied_and_says_so():
    masker, reason = masks.load_masker(None)
    assert masker is None and "not applied" in reason
    masker, reason = masks.load_masker("/nonexistent/maskformer")
    assert masker is None and "not applied" in reason and "no segmentation model at" in reason
    result = masks.not_applied(6, 8, reason)
    m = _match([[1, 1], [2, 2]])
    assert masks.filter_matches(m, result) == (m, 0)


def _export(folder, out):
    import sys

    from tests.helpers.built_models import REPO

    sys.path.insert(0, str(REPO / "models"))
    import export_segmentation

    return export_segmentation.export(folder, out)


@pytest.fixture(scope="module")
def tiny_maskformer(tmp_path_factory):
    """A tiny randomly initialised MaskFormer (Swin backbone, 150 ADE classes) saved locally and
    exported to ONNX beside it (`maskformer-ade.onnx`); returns the folder."""
    pytest.importorskip("transformers", reason="exporting a segmentation model needs transformers (build time)")
    from transformers import MaskFormerConfig, MaskFormerForInstanceSegmentation, MaskFormerImageProcessor, SwinConfig

    backbone = SwinConfig(embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], image_size=224, window_size=7,
                          out_features=["stage1", "stage2", "stage3", "stage4"])
    config = MaskFormerConfig(
        backbone_config=backbone, fpn_feature_size=32, mask_feature_size=32, num_labels=150, num_queries=10,
        decoder_config={"model_type": "detr", "encoder_layers": 1, "decoder_layers": 1, "d_model": 32,
                        "encoder_attention_heads": 1, "decoder_attention_heads": 1, "encoder_ffn_dim": 32,
                        "decoder_ffn_dim": 32, "num_queries": 10})
    folder = tmp_path_factory.mktemp("maskformer")
    MaskFormerForInstanceSegmentation(config).save_pretrained(folder)
    MaskFormerImageProcessor(size={"shortest_edge": 240, "longest_edge": 320}).save_pretrained(folder)
    _export(folder, folder / "onnx" / "maskformer-ade.onnx")
    return folder


def test_tiny_maskformer_segments_and_masks_in_memory(tiny_maskformer):
    from mist_qgis.core.geoloc import synthetic

    masker, reason = masks.load_masker(tiny_maskformer / "onnx")
    assert masker is not None, reason
    assert masker.classes == tuple(sorted(masks.PAPER_CLASSES))  # unnamed labels: ADE ids
    image = synthetic.photo("chelsea")
    result = masker.mask(image)
    assert result.applied
    assert result.class_map.shape == image.shape[:2] and result.drop.shape == image.shape[:2]
    assert result.drop.dtype == bool
    assert np.array_equal(result.drop, np.isin(result.class_map, masker.classes))
    # the drop decision per keypoint follows the class under it exactly (no lossy JPEG round trip)
    rng = np.random.default_rng(0)
    pts = np.column_stack([rng.integers(0, image.shape[1], 300), rng.integers(0, image.shape[0], 300)])
    kept, dropped = masks.filter_matches(_match(pts.astype(np.float32)), result)
    on_masked = np.isin(result.class_map[pts[:, 1], pts[:, 0]], masker.classes)
    assert dropped == int(on_masked.sum())
    assert kept.n == 300 - dropped


def test_named_labels_are_resolved_by_name(tiny_maskformer, tmp_path):
    import json
    import shutil

    folder = tmp_path / "named"
    shutil.copytree(tiny_maskformer, folder)
    config = json.loads((folder / "config.json").read_text())
    labels = {str(i): f"thing{i}" for i in range(150)}
    labels.update({"7": "sky", "9": "tree", "11": "car, auto, automobile", "40": "truck"})
    config["id2label"] = labels
    config["label2id"] = {v: int(k) for k, v in labels.items()}
    (folder / "config.json").write_text(json.dumps(config))
    model = _export(folder, tmp_path / "named.onnx")
    masker, reason = masks.load_masker(model)
    assert masker is not None, reason
    assert masker.classes == (7, 9, 11)
    optional, _ = masks.load_masker(model, include_optional=True)
    assert optional.classes == (7, 9, 11, 40)


@pytest.mark.slow  # the build-time comparison (transformers on PyTorch): `make test-all` and CI
def test_onnx_class_map_is_the_transformers_one(tiny_maskformer):
    """The exported graph gives the class map transformers' own post-processing gives, at 640 x 480."""
    import cv2
    import torch
    from transformers import MaskFormerForInstanceSegmentation, MaskFormerImageProcessor

    from mist_qgis.core.geoloc import synthetic
    from mist_qgis.core.models.preprocess import normalise

    masker, _ = masks.load_masker(tiny_maskformer / "onnx")
    small = cv2.resize(synthetic.photo("astronaut"), (640, 480), interpolation=cv2.INTER_AREA)
    batch = normalise(small[None], masker.model.card)
    got = masker.model.run_feeds({"pixel_values": batch})["labels"][0]
    model = MaskFormerForInstanceSegmentation.from_pretrained(str(tiny_maskformer), local_files_only=True).eval()
    with torch.inference_mode():
        out = model(pixel_values=torch.from_numpy(batch))
    want = MaskFormerImageProcessor().post_process_semantic_segmentation(out, target_sizes=[(480, 640)])[0]
    assert np.mean(got == want.numpy()) > 0.999


def test_a_model_that_is_not_a_segmenter_is_refused_with_its_file(tmp_path):
    from tests.helpers.modelkit import make_colour_model

    model = make_colour_model(tmp_path / "colour.onnx")
    masker, reason = masks.load_masker(model)
    assert masker is None and "colour.onnx" in reason and "'mist.task'" in reason
    masker, reason = masks.load_masker(tmp_path)  # a folder without a segmentation model
    assert masker is None and "no MIST segmentation model" in reason
