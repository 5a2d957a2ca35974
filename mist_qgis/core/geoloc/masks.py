"""The LSGL segmentation mask: drop matches whose query keypoint lies on things that move or
that every street looks alike on (sky, trees, road, people, cars, water, ...).

Paper facts (specs/lsgl.md 1.3): MaskFormer (ADE20k, 150 classes) on the social photo resized to
640 x 480; matches on ADE classes {sky 2, tree 4, road 6, person 12, plant 17, car 20, water 21,
bus 80} are dropped; only the social (query) image is masked. Defects not copied: the mask is
kept in memory as a boolean array (the original wrote lossy JPEGs and then tested for exactly
255), the model is loaded once per run (not per image), and paths are never built by splitting
on '.'.

Weights come only from a local folder (a `save_pretrained` copy of e.g.
facebook/maskformer-swin-large-ade). Without one the result says the mask was not applied.
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
    """MaskFormer (or another `transformers` semantic/panoptic segmenter on ADE20k-150) loaded
    once from a local folder.

    `include_optional` also drops truck, van, boat, bicycle and minibike, which the paper keeps.
    Class ids are resolved by label name when the model's config names its labels, else taken
    as ADE20k-150 ids (the config must then have 150 labels)."""

    def __init__(self, model_dir: str | os.PathLike[str], include_optional: bool = False,
                 size: tuple[int, int] = PAPER_SIZE) -> None:
        import torch
        from transformers import AutoImageProcessor, MaskFormerForInstanceSegmentation

        folder = Path(model_dir)
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(f"no segmentation model in {folder} (config.json missing)")
        self._torch = torch
        self.model = MaskFormerForInstanceSegmentation.from_pretrained(
            str(folder), local_files_only=True).eval()
        try:
            self.processor = AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)
        except (OSError, ValueError):
            from transformers import MaskFormerImageProcessor

            self.processor = MaskFormerImageProcessor()
        self.size = size
        wanted = dict(PAPER_CLASSES)
        if include_optional:
            wanted.update(OPTIONAL_CLASSES)
        self.classes = tuple(sorted(self._resolve(wanted)))

    def _resolve(self, wanted: dict[int, str]) -> set[int]:
        id2label = {int(k): str(v).lower() for k, v in (self.model.config.id2label or {}).items()}
        named = id2label and not all(v.startswith("label_") for v in id2label.values())
        if named:
            by_name: dict[str, int] = {}
            for i, label in id2label.items():
                for part in label.replace(";", ",").split(","):
                    by_name.setdefault(part.strip(), i)
            ids = {by_name[name] for name in wanted.values() if name in by_name}
            if not ids:
                raise ValueError("the segmentation model names none of the masked classes (sky, tree, road, ...)")
            return ids
        if len(id2label) != ADE_NUM_LABELS and self.model.config.num_labels != ADE_NUM_LABELS:
            raise ValueError(
                f"the segmentation model has {self.model.config.num_labels} unnamed classes; "
                f"an ADE20k model has {ADE_NUM_LABELS}"
            )
        return set(wanted)

    def class_map(self, image: np.ndarray) -> np.ndarray:
        """ADE class id per pixel at the image's own resolution (segmented at 640 x 480)."""
        import cv2

        h, w = image.shape[:2]
        small = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        inputs = self.processor(images=small, return_tensors="pt")
        with self._torch.inference_mode():
            out = self.model(pixel_values=inputs["pixel_values"])
        seg = self.processor.post_process_semantic_segmentation(out, target_sizes=[(h, w)])[0]
        return seg.cpu().numpy().astype(np.int32)

    def mask(self, image: np.ndarray) -> MaskResult:
        cmap = self.class_map(image)
        return MaskResult(mask_from_class_map(cmap, self.classes), applied=True, class_map=cmap,
                          classes=self.classes)


def load_masker(model_dir: str | os.PathLike[str] | None, include_optional: bool = False
                ) -> tuple[SegmentationMasker | None, str]:
    """A masker, or (None, reason) when no local weights are configured or they do not load;
    geolocation then runs unmasked and records the reason."""
    if not model_dir:
        return None, "segmentation mask not applied: no local segmentation weights configured"
    try:
        return SegmentationMasker(model_dir, include_optional=include_optional), ""
    except ImportError as exc:
        return None, f"segmentation mask not applied: {exc}"
    except (OSError, ValueError, FileNotFoundError) as exc:
        return None, f"segmentation mask not applied: {exc}"
