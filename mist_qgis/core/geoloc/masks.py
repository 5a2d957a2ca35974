"""The LSGL segmentation mask: drop matches whose query keypoint lies on things that move or
that every street looks alike on (sky, trees, road, people, cars, water, ...).

Paper facts (specs/lsgl.md 1.3): MaskFormer (ADE20k, 150 classes) on the social photo resized to
640 x 480; matches on ADE classes {sky 2, tree 4, road 6, person 12, plant 17, car 20, water 21,
bus 80} are dropped; only the social (query) image is masked. Defects not copied: the mask is
kept in memory as a boolean array (the original wrote lossy JPEGs and then tested for exactly
255), the model is loaded once per run (not per image), and paths are never built by splitting
on '.'.

The model is an ONNX graph run by onnxruntime (task `segment` in its card, class names in
`mist.labels`), exported once from a local `transformers` folder (e.g. a copy of
facebook/maskformer-swin-large-ade) by models/export_segmentation.py. Without one the result says
the mask was not applied.
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


class SegmentationMasker:
    """An ONNX semantic segmenter on ADE20k-150 (exported MaskFormer), loaded once per run from a
    model file or a folder holding one.

    `include_optional` also drops truck, van, boat, bicycle and minibike, which the paper keeps.
    Class ids are resolved by label name when the card names its labels, else taken as
    ADE20k-150 ids (the model must then have 150 labels)."""

    def __init__(self, model: str | os.PathLike[str], include_optional: bool = False) -> None:
        from ..models.card import require_roles
        from ..models.runtime import load_model

        self.model = load_model(segmentation_model_file(Path(model)))
        require_roles(self.model.card, ("image",), ("labels",), task="segment")
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
            ids = {by_name[name] for name in wanted.values() if name in by_name}
            if not ids:
                raise ValueError("the segmentation model names none of the masked classes (sky, tree, road, ...)")
            return ids
        if len(labels) != ADE_NUM_LABELS:
            raise ValueError(
                f"the segmentation model has {len(labels)} unnamed classes; an ADE20k model has {ADE_NUM_LABELS}"
            )
        return set(wanted)

    def class_map(self, image: np.ndarray) -> np.ndarray:
        """ADE class id per pixel at the image's own resolution (segmented at the model's size,
        640 x 480 for the paper's, then resized by nearest neighbour)."""
        import cv2

        from ..models.preprocess import normalise

        h, w = image.shape[:2]
        card = self.model.card
        small = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        batch = normalise(small[None], card)
        labels = self.model.run_feeds({card.extra["inputs"]["image"]: batch})["labels"][0]
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
            f"no MIST segmentation model (.onnx, task segment) in {path}; export a local MaskFormer folder with "
            "python models/export_segmentation.py --model FOLDER"
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
