"""DETR panoptic masks: a tiny DETR-shaped ONNX graph built here (real onnxruntime session) whose
outputs are known in closed form, so the segments and the drop mask are checked pixel by pixel;
the post-processing against transformers' own; a graph of the wrong shape refused at load."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mist_qgis.core.geoloc import masks
from mist_qgis.core.geoloc.matchers import MatchResult
from mist_qgis.core.models.card import ModelCard, embed_card

H, W = 32, 48
LABELS = ("person", "car", "sky-other-merged", "building-other-merged", "road")
NO_OBJECT = len(LABELS)
# (class, probability of that class, mask logit = a . (R, G, B) + b): pixel values are in [0, 1]
QUERIES = [
    (2, 0.90, (40, 0, 0), -20),   # q0 sky on red
    (1, 0.95, (0, 40, 0), -20),   # q1 car on green
    (3, 0.90, (0, 0, 40), -10),   # q2 building on any blue: loses the bright half to q6, so < 80 % of its area
    (NO_OBJECT, 0.99, (0, 0, 0), 10),  # q3 "no object" everywhere: dropped
    (0, 0.40, (0, 0, 0), 10),     # q4 person everywhere at 0.40: below the 0.5 threshold, dropped
    (4, 0.93, (0, 40, 0), -20),   # q5 road on green, weaker than the car: wins no pixel
    (0, 0.96, (0, 0, 40), -30),   # q6 person on bright blue only
]


def _logit_row(cls: int, p: float) -> list[float]:
    """Logits whose softmax gives `p` to `cls` and shares the rest evenly."""
    others = NO_OBJECT  # classes + 1 - 1
    row = [0.0] * (NO_OBJECT + 1)
    row[cls] = math.log(others * p / (1 - p))
    return row


def build_detr(path: Path, labels=LABELS, logits_classes: int | None = None) -> Path:
    """pixel_values (1, 3, H, W) -> logits (1, Q, classes + 1) constant, pred_boxes (1, Q, 4)
    constant, pred_masks (1, Q, H, W) = a 1x1 convolution of the colour channels."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    q = len(QUERIES)
    logits = np.array([[_logit_row(c, p) for c, p, _, _ in QUERIES]], np.float32)
    if logits_classes is not None:
        logits = logits[:, :, :logits_classes]
    weight = np.array([a for _, _, a, _ in QUERIES], np.float32).reshape(q, 3, 1, 1)
    bias = np.array([b for _, _, _, b in QUERIES], np.float32)
    boxes = np.tile(np.array([0.5, 0.5, 1.0, 1.0], np.float32), (1, q, 1))
    graph = helper.make_graph(
        [helper.make_node("Conv", ["pixel_values", "W", "B"], ["pred_masks"]),
         helper.make_node("Identity", ["L"], ["logits"]),
         helper.make_node("Identity", ["X"], ["pred_boxes"])],
        "tiny-detr",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [1, 3, H, W])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, list(logits.shape)),
         helper.make_tensor_value_info("pred_boxes", TensorProto.FLOAT, [1, q, 4]),
         helper.make_tensor_value_info("pred_masks", TensorProto.FLOAT, [1, q, H, W])],
        [numpy_helper.from_array(weight, "W"), numpy_helper.from_array(bias, "B"),
         numpy_helper.from_array(logits, "L"), numpy_helper.from_array(boxes, "X")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    card = ModelCard(
        id="tiny-detr", version="1", task="segment", licence="CC0-1.0", source="tests", labels=tuple(labels),
        input_size=(H, W), layout="NCHW", color_order="RGB", pixel_scale=255.0, mean=(0.0, 0.0, 0.0),
        std=(1.0, 1.0, 1.0), outputs={"logits": "logits", "boxes": "pred_boxes", "masks": "pred_masks"},
        extra={"inputs": {"image": "pixel_values"}, "segmentation": masks.DETR_PANOPTIC})
    embed_card(model, card)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def scene() -> np.ndarray:
    """Top half red; bottom: green, bright blue, dim blue (one third of the width each)."""
    image = np.zeros((H, W, 3), np.uint8)
    image[: H // 2, :, 0] = 255
    image[H // 2:, : W // 2, 1] = 255
    image[H // 2:, W // 2: 3 * W // 4, 2] = 255
    image[H // 2:, 3 * W // 4:, 2] = 128
    return image


def expected_classes() -> np.ndarray:
    want = np.full((H, W), -1, np.int32)
    want[: H // 2] = 2  # sky
    want[H // 2:, : W // 2] = 1  # car (the road query loses every pixel to it)
    want[H // 2:, W // 2: 3 * W // 4] = 0  # person
    # dim blue: the building query won only half of its own area (0.5 <= 0.8): no segment
    return want


def test_tiny_detr_segments_and_masks_exactly(tmp_path):
    model = build_detr(tmp_path / "detr" / "tiny-detr.onnx")
    masker, reason = masks.load_masker(model.parent)
    assert masker is not None, reason
    assert masker.panoptic
    # COCO's names: sky-other-merged is the sky; person, car and road as they are; buildings kept
    assert masker.classes == (0, 1, 2, 4)
    out = masker.model.run_feeds({"pixel_values": (scene().astype(np.float32) / 255).transpose(2, 0, 1)[None]})
    segmentation, segments = masks.detr_panoptic(out["logits"][0], out["masks"][0], (H, W))
    assert [(s.id, s.label, s.score) for s in segments] == [(1, 2, 0.9), (2, 1, 0.95), (3, 0, 0.96)]
    assert set(np.unique(segmentation)) == {0, 1, 2, 3}
    result = masker.mask(scene())
    assert result.applied
    np.testing.assert_array_equal(result.class_map, expected_classes())
    np.testing.assert_array_equal(result.drop, expected_classes() >= 0)  # sky, car, person dropped
    # a photo twice the model's size: segmented at the model's size, mapped back by nearest neighbour
    big = np.repeat(np.repeat(scene(), 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(masker.mask(big).class_map, np.repeat(np.repeat(expected_classes(), 2, 0), 2, 1))
    # matches on the sky and the car are dropped, on the unsegmented dim blue kept
    pts = np.array([[5, 5], [10, 20], [30, 20], [44, 28], [40, 20]], np.float32)
    m = MatchResult(pts, pts + 1, np.full(len(pts), 0.5, np.float32), "t", (W, H), (W, H))
    kept, dropped = masks.filter_matches(m, result)
    assert dropped == 3 and kept.keypoints0.tolist() == [[44, 28], [40, 20]]


def test_fused_classes_share_one_segment():
    logits = np.array([_logit_row(2, 0.9), _logit_row(2, 0.9), _logit_row(1, 0.9)], np.float32)
    mask_logits = np.full((3, 4, 6), -20, np.float32)
    mask_logits[0, :, :2] = 20
    mask_logits[1, :, 2:4] = 20
    mask_logits[2, :, 4:] = 20
    seg, segments = masks.detr_panoptic(logits, mask_logits)
    assert [s.id for s in segments] == [1, 2, 3]
    seg, segments = masks.detr_panoptic(logits, mask_logits, fuse=frozenset({2}))
    assert [(s.id, s.label, s.fused) for s in segments] == [(1, 2, True), (1, 2, True), (2, 1, False)]
    np.testing.assert_array_equal(seg[0], [1, 1, 1, 1, 2, 2])
    empty, none = masks.detr_panoptic(np.array([_logit_row(NO_OBJECT, 0.9)], np.float32), mask_logits[:1])
    assert none == [] and (empty == -1).all()


@pytest.mark.slow  # the build-time comparison (transformers on PyTorch): `make test-all` and CI
def test_post_processing_is_transformers_own():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from types import SimpleNamespace

    from transformers import DetrImageProcessor

    rng = np.random.default_rng(0)
    processor = DetrImageProcessor()
    for trial in range(6):
        q, classes, h, w = 6, 7, 10, 14
        logits = rng.normal(0, 2, (1, q, classes + 1)).astype(np.float32)
        for k in range(q):  # most queries confident in one class, a few "no object" or unsure
            logits[0, k, rng.integers(0, classes + 1)] += rng.choice([0.0, 6.0, 8.0])
        mask_logits = rng.normal(-6, 1.5, (1, q, h, w)).astype(np.float32)
        for k in range(q):  # each query a noisy rectangle, some overlapping
            y, x = rng.integers(0, h - 3), rng.integers(0, w - 3)
            mask_logits[0, k, y:y + rng.integers(3, 7), x:x + rng.integers(3, 9)] += 12
        size = None if trial % 2 == 0 else (23, 31)
        fuse = {1, 3} if trial >= 4 else set()
        outputs = SimpleNamespace(logits=torch.from_numpy(logits), pred_masks=torch.from_numpy(mask_logits))
        want = processor.post_process_panoptic_segmentation(
            outputs, label_ids_to_fuse=fuse, target_sizes=[size] if size else None)[0]
        seg, segments = masks.detr_panoptic(logits[0], mask_logits[0], size, fuse=frozenset(fuse))
        assert [(s.id, s.label, s.fused) for s in segments] == \
            [(d["id"], d["label_id"], d["was_fused"]) for d in want["segments_info"]]
        assert [s.score for s in segments] == pytest.approx([d["score"] for d in want["segments_info"]], abs=1e-6)
        assert segments, "a trial without segments tests nothing"
        agree = np.mean(seg == want["segmentation"].numpy())
        assert agree == 1.0 if size is None else agree > 0.995  # cv2's and torch's bilinear differ in rounding


def test_a_detr_of_the_wrong_shape_is_refused_at_load(tmp_path):
    # logits for 5 classes + no object, but the card names 7 classes
    wrong = build_detr(tmp_path / "wrong.onnx", labels=(*LABELS, "tree-merged", "sea"))
    masker, reason = masks.load_masker(wrong)
    assert masker is None
    assert "wrong.onnx" in reason and "not a DETR panoptic model for its 7 labels" in reason
    assert "shape [1, 7, 6], expected [batch, queries, 8]" in reason
    with pytest.raises(ValueError, match="expected \\(queries, classes \\+ 1\\)"):
        masks.detr_panoptic(np.zeros((3, 4), np.float32), np.zeros((2, 5, 5), np.float32))


def _export(folder, out):
    import sys

    from tests.helpers.built_models import REPO

    sys.path.insert(0, str(REPO / "models"))
    import export_segmentation

    return export_segmentation.export(folder, out, "tiny-detr")


def _tiny_detr_config(**overrides):
    from transformers import DetrConfig, ResNetConfig

    backbone = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16, 16, 32], depths=[1, 1, 1, 1],
                            out_features=["stage1", "stage2", "stage3", "stage4"])
    id2label = dict(enumerate(LABELS))
    return DetrConfig(use_timm_backbone=False, backbone_config=backbone, use_pretrained_backbone=False, d_model=32,
                      encoder_layers=1, decoder_layers=1, encoder_attention_heads=8, decoder_attention_heads=8,
                      encoder_ffn_dim=32, decoder_ffn_dim=32, num_queries=8, num_labels=len(LABELS),
                      id2label=id2label, label2id={v: k for k, v in id2label.items()}, **overrides)


@pytest.fixture(scope="module")
def tiny_detr(tmp_path_factory):
    """A tiny randomly initialised DetrForSegmentation (ResNet backbone, the COCO names above)
    saved locally and exported by models/export_segmentation.py; its class bias makes some
    queries confident, so segments exist."""
    pytest.importorskip("transformers", reason="exporting a segmentation model needs transformers (build time)")
    import torch
    from transformers import DetrForSegmentation

    torch.manual_seed(0)
    model = DetrForSegmentation(_tiny_detr_config()).eval()
    with torch.no_grad():
        model.detr.class_labels_classifier.bias.copy_(torch.tensor([0.0, 3.0, 4.0, 0.0, 2.5, 0.0]))
    folder = tmp_path_factory.mktemp("detr")
    model.save_pretrained(folder)
    _export(folder, folder / "onnx" / "tiny-detr.onnx")
    return folder


@pytest.mark.slow  # the export script and transformers on PyTorch (build time): `make test-all` and CI
def test_an_exported_detr_masks_what_transformers_segments(tiny_detr):
    import cv2
    import torch
    from transformers import DetrForSegmentation, DetrImageProcessor

    from mist_qgis.core.geoloc import synthetic
    from mist_qgis.core.models.preprocess import normalise

    masker, reason = masks.load_masker(tiny_detr / "onnx")
    assert masker is not None, reason
    assert masker.panoptic and masker.model.card.labels == LABELS and masker.size == (640, 480)
    image = cv2.resize(synthetic.photo("astronaut"), (640, 480), interpolation=cv2.INTER_AREA)
    got = masker.mask(image)
    model = DetrForSegmentation.from_pretrained(str(tiny_detr), local_files_only=True).eval()
    with torch.inference_mode():
        out = model(pixel_values=torch.from_numpy(normalise(image[None], masker.model.card)))
    want = DetrImageProcessor().post_process_panoptic_segmentation(out, target_sizes=[(480, 640)])[0]
    want_classes = np.full((480, 640), -1, np.int32)
    for segment in want["segments_info"]:
        want_classes[want["segmentation"].numpy() == segment["id"]] = segment["label_id"]
    assert want["segments_info"], "no segment: the comparison would test nothing"
    assert np.mean(got.class_map == want_classes) > 0.995
    assert np.mean(got.drop == np.isin(want_classes, masker.classes)) > 0.995


@pytest.mark.slow  # the export script and transformers on PyTorch (build time): `make test-all` and CI
def test_a_detection_detr_without_mask_head_is_refused_at_export(tmp_path):
    pytest.importorskip("transformers", reason="exporting a segmentation model needs transformers (build time)")
    from transformers import DetrForObjectDetection

    DetrForObjectDetection(_tiny_detr_config()).save_pretrained(tmp_path / "det")
    with pytest.raises(SystemExit, match="DetrForObjectDetection.*needs DetrForSegmentation"):
        _export(tmp_path / "det", tmp_path / "det.onnx")
