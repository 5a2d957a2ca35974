"""The LSGL segmentation mask: drop matches whose query keypoint lies on things that move or
that every street looks alike on (sky, trees, road, people, cars, water, ...).

Paper facts (specs/lsgl.md 1.3): MaskFormer (ADE20k, 150 classes) on the social photo resized to
640 x 480; matches on ADE classes {sky 2, tree 4, road 6, person 12, plant 17, car 20, water 21,
bus 80} are dropped; only the social (query) image is masked. Defects not copied: the mask is
kept in memory as a boolean array (the original wrote lossy JPEGs and then tested for exactly
255), the model is loaded once per run (not per image), and paths are never built by splitting
on '.'.

The model is an ONNX graph run by onnxruntime (task `segment` in its card, class names in
`mist.labels`), exported once from a local `transformers` folder by models/export_segmentation.py:
- MaskFormer (e.g. a copy of facebook/maskformer-swin-large-ade): the graph returns the class of
  every pixel (semantic segmentation, done inside the graph);
- DETR panoptic (the layout of facebook/detr-resnet-50-panoptic, COCO panoptic classes; card key
  `mist.segmentation` = "detr-panoptic"): the graph returns DETR's raw outputs (class logits per
  query, boxes, mask logits at a quarter of the input size) and `detr_panoptic` below turns them
  into segments exactly as transformers' `post_process_panoptic_segmentation` does, with its
  default thresholds. COCO names the masked classes differently (`COCO_NAMES`).
Without a model the result says the mask was not applied.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .matchers import MatchResult

# ADE20k-150, 0-based ids as the paper uses them (grey value = 256 - id in its saved maps).
PAPER_CLASSES: dict[int, str] = {
    2: "sky", 4: "tree", 6: "road", 12: "person", 17: "plant", 20: "car", 21: "water", 80: "bus",
}
OPTIONAL_CLASSES: dict[int, str] = {
    83: "truck", 102: "van", 76: "boat", 127: "bicycle", 116: "minibike",
}
ADE_NUM_LABELS = 150
PAPER_SIZE = (640, 480)  # W x H the paper segments at

DETR_PANOPTIC = "detr-panoptic"  # `mist.segmentation` of a DETR panoptic graph
# transformers' DetrImageProcessor.post_process_panoptic_segmentation defaults:
DETR_THRESHOLD = 0.5  # a query counts when its best class (not "no object") has probability above this
DETR_MASK_THRESHOLD = 0.5  # a query's own area: its score-weighted mask probability at or above this
DETR_OVERLAP_THRESHOLD = 0.8  # a query keeps its segment when it wins more than this share of its own area
# COCO panoptic names (DETR's labels) of the classes LSGL masks; ADE names are used as they are.
COCO_NAMES: dict[str, tuple[str, ...]] = {
    "sky": ("sky-other-merged",), "tree": ("tree-merged",), "plant": ("potted plant", "flower"),
    "water": ("water-other", "sea", "river"), "minibike": ("motorcycle",),
}


@dataclass
class MaskResult:
    """`drop` is True where matches are discarded; `applied` False means no segmentation ran
    (then `reason` says why and `drop` is all False)."""

    drop: np.ndarray
    applied: bool
    reason: str = ""
    class_map: np.ndarray | None = None
    classes: tuple[int, ...] = ()

    @property
    def dropped_share(self) -> float:
        return float(self.drop.mean()) if self.drop.size else 0.0


def not_applied(height: int, width: int, reason: str) -> MaskResult:
    return MaskResult(np.zeros((height, width), dtype=bool), applied=False, reason=reason)


def mask_from_class_map(class_map: np.ndarray, classes: set[int] | tuple[int, ...]) -> np.ndarray:
    """Boolean drop mask: True on pixels whose class is in `classes`."""
    return np.isin(class_map, np.fromiter(classes, dtype=np.int64))


def filter_matches(match: MatchResult, mask: MaskResult) -> tuple[MatchResult, int]:
    """Drop matches whose image0 (query) keypoint falls on a masked pixel.

    The keypoint is sampled at its pixel (rounded; coordinates are pixel centres), clipped to
    the image. Returns the kept matches and how many were dropped."""
    if not mask.applied or match.n == 0:
        return match, 0
    h, w = mask.drop.shape
    x = np.clip(np.rint(match.keypoints0[:, 0]).astype(np.int64), 0, w - 1)
    y = np.clip(np.rint(match.keypoints0[:, 1]).astype(np.int64), 0, h - 1)
    keep = ~mask.drop[y, x]
    return match.subset(keep), int((~keep).sum())


@dataclass(frozen=True)
class Segment:
    """One panoptic segment: its id in the segmentation map, class and the query's score."""

    id: int
    label: int
    score: float
    fused: bool = False


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-x.astype(np.float32)))).astype(np.float32)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x.astype(np.float32) - x.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def _resize_bilinear(stack: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Each (h, w) plane to size (H, W), half-pixel centres (torch's bilinear, align_corners False)."""
    import cv2

    return np.stack([cv2.resize(plane, (size[1], size[0]), interpolation=cv2.INTER_LINEAR) for plane in stack])


def detr_panoptic(logits: np.ndarray, mask_logits: np.ndarray, target_size: tuple[int, int] | None = None,
                  threshold: float = DETR_THRESHOLD, mask_threshold: float = DETR_MASK_THRESHOLD,
                  overlap_threshold: float = DETR_OVERLAP_THRESHOLD, fuse: frozenset[int] = frozenset(),
                  ) -> tuple[np.ndarray, list[Segment]]:
    """DETR panoptic post-processing for one image (transformers' `post_process_panoptic_segmentation`).

    `logits` (queries, classes + 1; the last is "no object"), `mask_logits` (queries, h, w).
    Queries whose best class is "no object" or whose probability is not above `threshold` are
    dropped; the rest have their mask probabilities (resized to `target_size`, bilinear) weighted
    by their score; each pixel goes to the query with the largest weighted probability; a query
    keeps the pixels it won when they are more than `overlap_threshold` of its own area (pixels
    where its weighted probability is at least `mask_threshold`), else they stay unassigned.
    Returns the segmentation (segment id per pixel, 0 unassigned; -1 everywhere when no query is
    kept, as transformers does) and the segments. Classes in `fuse` share one segment id."""
    if logits.ndim != 2 or mask_logits.ndim != 3 or logits.shape[0] != mask_logits.shape[0]:
        raise ValueError(f"DETR outputs of shapes {logits.shape} and {mask_logits.shape}: expected "
                         "(queries, classes + 1) and (queries, height, width)")
    probs = _softmax(logits)
    scores, labels = probs.max(axis=-1), probs.argmax(axis=-1)
    keep = (labels != logits.shape[-1] - 1) & (scores > threshold)
    size = tuple(target_size) if target_size is not None else mask_logits.shape[1:]
    if not keep.any():
        return np.full(size, -1, dtype=np.int32), []
    weighted = _sigmoid(mask_logits[keep])
    if target_size is not None:
        weighted = _resize_bilinear(weighted, size)
    weighted = weighted * scores[keep][:, None, None]
    kept_labels = labels[keep]
    kept_scores = scores[keep]
    winner = weighted.argmax(axis=0)
    segmentation = np.zeros(size, dtype=np.int32)
    segments: list[Segment] = []
    current = 0
    fused_ids: dict[int, int] = {}
    for k, label in enumerate(kept_labels.tolist()):
        won = winner == k
        area, own = int(won.sum()), int((weighted[k] >= mask_threshold).sum())
        if area == 0 or own == 0 or not area / own > overlap_threshold:
            continue
        if label in fused_ids:
            current = fused_ids[label]
        else:
            current += 1
        segmentation[won] = current
        segments.append(Segment(current, int(label), round(float(kept_scores[k]), 6), label in fuse))
        if label in fuse:
            fused_ids[label] = current
    return segmentation, segments


def class_map_of_segments(segmentation: np.ndarray, segments: list[Segment]) -> np.ndarray:
    """The class of every pixel from a panoptic result; -1 where no segment is."""
    out = np.full(segmentation.shape, -1, dtype=np.int32)
    for s in segments:
        out[segmentation == s.id] = s.label
    return out


def check_detr_outputs(model) -> None:
    """Refuse, at load, a graph whose outputs are not DETR panoptic's for its labels: class logits
    (batch, queries, labels + 1) and mask logits (batch, queries, h, w)."""
    from ..models.card import ModelCardError

    shapes = {o.name: list(o.shape) for o in model.session.get_outputs()}
    logits, masks = shapes[model.card.outputs["logits"]], shapes[model.card.outputs["masks"]]
    n = len(model.card.labels)
    where = str(model.path)
    if len(logits) != 3 or (isinstance(logits[2], int) and logits[2] != n + 1):
        raise ModelCardError(f"{where}: not a DETR panoptic model for its {n} labels: class logits have shape "
                             f"{logits}, expected [batch, queries, {n + 1}] (the labels and 'no object')")
    if len(masks) != 4:
        raise ModelCardError(f"{where}: not a DETR panoptic model: mask logits have shape {masks}, expected "
                             "[batch, queries, height, width]")
    if isinstance(logits[1], int) and isinstance(masks[1], int) and logits[1] != masks[1]:
        raise ModelCardError(f"{where}: not a DETR panoptic model: {logits[1]} class queries but {masks[1]} masks")


class SegmentationMasker:
    """An ONNX segmenter loaded once per run from a model file or a folder holding one: semantic
    on ADE20k-150 (exported MaskFormer) or panoptic on COCO (exported DETR).

    `include_optional` also drops truck, van, boat, bicycle and minibike, which the paper keeps.
    Class ids are resolved by label name when the card names its labels, else taken as
    ADE20k-150 ids (the model must then have 150 labels)."""

    def __init__(self, model: str | os.PathLike[str], include_optional: bool = False) -> None:
        from ..models.card import require_roles
        from ..models.runtime import load_model

        self.model = load_model(segmentation_model_file(Path(model)))
        self.panoptic = self.model.card.extra.get("segmentation") == DETR_PANOPTIC
        outputs = ("logits", "masks") if self.panoptic else ("labels",)
        require_roles(self.model.card, ("image",), outputs, task="segment")
        if self.panoptic:
            if not self.model.card.labels:
                raise ValueError(f"{self.model.path}: metadata key 'mist.labels' is missing (a DETR model's classes)")
            check_detr_outputs(self.model)
        if not self.model.card.input_size:
            raise ValueError(f"{self.model.path}: metadata key 'mist.input_size' is missing")
        self.size = (self.model.card.input_size[1], self.model.card.input_size[0])  # W x H
        wanted = dict(PAPER_CLASSES)
        if include_optional:
            wanted.update(OPTIONAL_CLASSES)
        self.classes = tuple(sorted(self._resolve(wanted)))

    def _resolve(self, wanted: dict[int, str]) -> set[int]:
        labels = [label.lower() for label in self.model.card.labels]
        named = labels and not all(v.startswith("label_") for v in labels)
        if named:
            by_name: dict[str, int] = {}
            for i, label in enumerate(labels):
                for part in label.replace(";", ",").split(","):
                    by_name.setdefault(part.strip(), i)
            names = set(wanted.values())
            if self.panoptic:  # COCO's names of the same things
                names |= {coco for name in wanted.values() for coco in COCO_NAMES.get(name, ())}
            ids = {by_name[name] for name in names if name in by_name}
            if not ids:
                raise ValueError("the segmentation model names none of the masked classes (sky, tree, road, ...)")
            return ids
        if self.panoptic:
            raise ValueError("the DETR panoptic model does not name its classes (COCO names expected in 'mist.labels')")
        if len(labels) != ADE_NUM_LABELS:
            raise ValueError(
                f"the segmentation model has {len(labels)} unnamed classes; an ADE20k model has {ADE_NUM_LABELS}"
            )
        return set(wanted)

    def class_map(self, image: np.ndarray) -> np.ndarray:
        """Class id per pixel (ADE for MaskFormer, COCO panoptic for DETR, where -1 is no segment)
        at the image's own resolution (segmented at the model's size, 640 x 480 for the paper's,
        then resized by nearest neighbour)."""
        import cv2

        from ..models.preprocess import normalise

        h, w = image.shape[:2]
        card = self.model.card
        small = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        batch = normalise(small[None], card)
        out = self.model.run_feeds({card.extra["inputs"]["image"]: batch})
        if self.panoptic:  # segments at the model's input size (-1: no segment, kept)
            segmentation, segments = detr_panoptic(out["logits"][0], out["masks"][0], (self.size[1], self.size[0]))
            labels = class_map_of_segments(segmentation, segments)
        else:
            labels = out["labels"][0]
        return cv2.resize(labels.astype(np.int32), (w, h), interpolation=cv2.INTER_NEAREST)

    def mask(self, image: np.ndarray) -> MaskResult:
        cmap = self.class_map(image)
        return MaskResult(mask_from_class_map(cmap, self.classes), applied=True, class_map=cmap,
                          classes=self.classes)


def segmentation_model_file(path: Path) -> Path:
    """The segmentation model: the file itself, or the one `segment` model in a folder."""
    from ..models.card import ModelCardError
    from ..models.runtime import read_card

    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"no segmentation model at {path}")
    found = []
    for candidate in sorted(path.glob("*.onnx")):
        try:
            if read_card(candidate).task == "segment":
                found.append(candidate)
        except (ModelCardError, ValueError, OSError):
            continue
    if not found:
        raise FileNotFoundError(
            f"no MIST segmentation model (.onnx, task segment) in {path}; export a local MaskFormer or DETR "
            "panoptic folder with python models/export_segmentation.py --model FOLDER"
        )
    return found[0]


def load_masker(model: str | os.PathLike[str] | None, include_optional: bool = False
                ) -> tuple[SegmentationMasker | None, str]:
    """A masker from an ONNX file or a folder holding one, or (None, reason) when none is
    configured or it does not load (a card that does not fit names the file and the key);
    geolocation then runs unmasked and records the reason."""
    if not model:
        return None, "segmentation mask not applied: no local segmentation model configured"
    try:
        return SegmentationMasker(model, include_optional=include_optional), ""
    except (OSError, ValueError) as exc:
        return None, f"segmentation mask not applied: {exc}"
