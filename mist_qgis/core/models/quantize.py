"""int8 variants of image models, offered only when they agree with the float model.

Static QDQ quantisation (per-channel weights, percentile calibration on real photos; of MinMax,
entropy and percentile calibration, percentile agreed best with float on EfficientNet-Lite0) is
tried first, dynamic quantisation second;
a variant is kept only if its top-1 label matches the float model's on at least `min_agreement`
of a real photo set that was not used for calibration. Otherwise nothing is written and the
report says why.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .card import embed_card
from .runtime import read_card

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Int8Offer:
    offered: bool
    mode: str | None
    agreement: dict[str, float]
    path: str | None
    n_photos: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def augment(photos: list[np.ndarray], per_photo: int = 12, seed: int = 0) -> list[np.ndarray]:
    """Variants a photo stream really contains: crops, flips, rotations, exposure, grey, blur."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    for img in photos:
        img = img if img.ndim == 3 else np.dstack([img] * 3)
        img = img[..., :3]
        out.append(img)
        for _ in range(per_photo):
            h, w = img.shape[:2]
            s = rng.uniform(0.45, 1.0)
            ch, cw = max(16, int(h * s)), max(16, int(w * s * rng.uniform(0.8, 1.25)))
            cw = min(cw, w)
            y0, x0 = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
            v = img[y0:y0 + ch, x0:x0 + cw].astype(np.float32)
            if rng.random() < 0.5:
                v = v[:, ::-1]
            if rng.random() < 0.25:
                v = np.rot90(v, k=int(rng.integers(1, 4)))
            v = v * rng.uniform(0.6, 1.4) + rng.uniform(-30, 30)
            if rng.random() < 0.15:
                v = np.repeat(v.mean(axis=2, keepdims=True), 3, axis=2)
            v = np.clip(v, 0, 255).astype(np.uint8)
            if rng.random() < 0.3:
                v = cv2.GaussianBlur(np.ascontiguousarray(v), (5, 5), 0)
            out.append(np.ascontiguousarray(v))
    return out


def _batches(images: list[np.ndarray], card, size: int = 16):
    import numpy as np

    from .preprocess import normalise, resize_for

    for i in range(0, len(images), size):
        yield normalise(np.stack([resize_for(img, card) for img in images[i:i + size]]), card)


def top1(path: str | Path, images: list[np.ndarray]) -> np.ndarray:
    import numpy as np

    from .runtime import load_model

    model = load_model(path)
    return np.concatenate([np.argmax(model.run(b)["scores"], axis=1) for b in _batches(images, model.card)])


def quantize(src: Path, dst: Path, mode: str, calibration: list[np.ndarray]) -> Path:
    """Write an int8 copy of `src` ("static" QDQ per-channel, or "dynamic")."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType
    from onnxruntime.quantization import quantize_dynamic as q_dynamic
    from onnxruntime.quantization import quantize_static as q_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    card = read_card(src)
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        raw = Path(tmp) / "int8.onnx"
        if mode == "static":
            batches = list(_batches(calibration, card, size=1))  # the histogram calibrators need equal shapes
            proto = onnx.load(str(pre))
            name = proto.graph.input[0].name
            # The classifier layer stays float: it is tiny and its rounding flips close top-1 calls.
            keep_float = [n.name for n in proto.graph.node if n.op_type == "Gemm"]

            class Reader(CalibrationDataReader):
                def __init__(self) -> None:
                    self.it = iter(batches)

                def get_next(self):
                    b = next(self.it, None)
                    return None if b is None else {name: b}

            q_static(str(pre), str(raw), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                     activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_exclude=keep_float,
                     calibrate_method=CalibrationMethod.Percentile, extra_options={"CalibPercentile": 99.99})
        elif mode == "dynamic":
            q_dynamic(str(pre), str(raw), weight_type=QuantType.QUInt8)
        else:
            raise ValueError(f"unknown quantisation mode {mode!r}")
        model = onnx.load(str(raw))
    int8_card = replace(card, id=f"{card.id}-int8", extra={**card.extra, "quantized_from": card.tag,
                                                           "quantization": mode},
                        description=f"int8 ({mode}) variant of {card.tag}")
    embed_card(model, int8_card)
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dst))
    return dst


def offer_int8(src: str | Path, dst: str | Path, photos: list[np.ndarray], min_agreement: float = 0.98,
               modes: tuple[str, ...] = ("static", "dynamic")) -> Int8Offer:
    """Quantise `src` and keep the first variant whose top-1 agrees with float on >= min_agreement
    of augmented real photos (calibration uses a different augmentation draw)."""
    import numpy as np

    src, dst = Path(src), Path(dst)
    calibration = augment(photos, per_photo=4, seed=1)
    evaluation = augment(photos, per_photo=12, seed=2)
    reference = top1(src, evaluation)
    agreement: dict[str, float] = {}
    for mode in modes:
        quantize(src, dst, mode, calibration)
        agreement[mode] = float(np.mean(top1(dst, evaluation) == reference))
        if agreement[mode] >= min_agreement:
            model = read_card(dst)
            import onnx

            proto = onnx.load(str(dst))
            embed_card(proto, replace(model, extra={**model.extra, "top1_agreement": agreement[mode],
                                                    "agreement_photos": len(evaluation)}))
            onnx.save(proto, str(dst))
            return Int8Offer(True, mode, agreement, str(dst), len(evaluation))
    dst.unlink(missing_ok=True)
    return Int8Offer(False, None, agreement, None, len(evaluation))
