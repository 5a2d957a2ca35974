"""Export a torchvision classifier from a LOCAL checkpoint to a MIST ONNX model.

For the screening paper's flood CNN (VGG16 with a 2-class head) and any other torchvision
classifier whose last layer is a Linear (ResNet, DenseNet, Inception, MobileNet, EfficientNet,
ConvNeXt, ViT ...). The model gets two outputs: the logits and the input of the last Linear
(an embedding that few-shot heads can use). The checkpoint is read with
`torch.load(weights_only=True)` (or safetensors): a file that holds code is refused.

    python models/export_torchvision.py --arch vgg16 --checkpoint flood_vgg16.pth \\
        --labels flood,not_flood --id flood-vgg16 --version 1 --out models/build/flood-vgg16.onnx
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

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def last_linear(model):
    """(parent module, attribute name, Linear) of the module's final Linear layer."""
    import torch

    found = None
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, torch.nn.Linear):
                found = (parent, name, child)
    if found is None:
        raise ValueError("the model has no Linear layer to read logits from")
    return found


def with_embedding(model):
    """Wrap a copy of a classifier so it returns (logits, input of its last Linear)."""
    import copy

    import torch

    model = copy.deepcopy(model)
    parent, name, linear = last_linear(model)
    setattr(parent, name, torch.nn.Identity())

    class TwoOutputs(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = model
            self.fc = linear

        def forward(self, image):
            embedding = torch.flatten(self.body(image), 1)
            return self.fc(embedding), embedding

    return TwoOutputs().eval()


def build(arch: str, num_classes: int, checkpoint: Path | None):
    """A torchvision architecture with `num_classes` outputs and the checkpoint's weights."""
    import torchvision

    from mist_qgis.core.models.export import load_into, load_state_dict

    if arch not in torchvision.models.list_models(module=torchvision.models):
        raise ValueError(f"unknown torchvision classifier {arch!r}")
    kwargs = {"aux_logits": False, "init_weights": False} if arch == "inception_v3" else {}
    model = torchvision.models.get_model(arch, weights=None, num_classes=num_classes, **kwargs)
    if checkpoint is not None:
        load_into(model, load_state_dict(checkpoint), checkpoint)
    return model.eval()


def export(model, out: Path, card: ModelCard) -> Path:
    import torch

    from mist_qgis.core.models.export import export_onnx

    h, w = card.input_size or (224, 224)
    wrapped = with_embedding(model)
    with torch.no_grad():
        dim = int(wrapped(torch.zeros(1, 3, h, w))[1].shape[1])
    from dataclasses import replace

    card = replace(card, embedding_dim=dim)
    return export_onnx(
        wrapped, (torch.zeros(1, 3, h, w),), out, card, input_names=["image"],
        output_names=["logits", "embedding"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}, "embedding": {0: "batch"}},
    )


def make_card(args: argparse.Namespace, labels: list[str], weights_sha256: str) -> ModelCard:
    return ModelCard(
        id=args.id, version=args.version, task="classify", licence=args.licence, source=args.source,
        labels=tuple(labels), input_size=(args.size, args.size), layout="NCHW", color_order="RGB",
        mean=tuple(args.mean), std=tuple(args.std), resize=args.resize, scores="logits",
        outputs={"scores": "logits", "embedding": "embedding"}, weights_sha256=weights_sha256,
        thresholds=json.loads(args.thresholds) if args.thresholds else {},
        description=f"torchvision {args.arch} exported by MIST",
    )


def main(argv: list[str] | None = None) -> int:
    from mist_qgis.core.models.registry import sha256_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", required=True, help="torchvision model name, e.g. vgg16, resnet50, densenet201")
    parser.add_argument("--checkpoint", type=Path, required=True, help="local state dict (.pth/.pt/.safetensors)")
    parser.add_argument("--labels", required=True, help="comma-separated labels in output order")
    parser.add_argument("--id", required=True)
    parser.add_argument("--version", default="1")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--mean", type=float, nargs=3, default=IMAGENET_MEAN)
    parser.add_argument("--std", type=float, nargs=3, default=IMAGENET_STD)
    parser.add_argument("--resize", choices=("stretch", "center_crop"), default="stretch")
    parser.add_argument("--thresholds", help='JSON, e.g. {"flood": 0.7}')
    parser.add_argument("--licence", default="unknown (set --licence)")
    parser.add_argument("--source", default="user checkpoint")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    labels = [s.strip() for s in args.labels.split(",") if s.strip()]
    model = build(args.arch, len(labels), args.checkpoint)
    path = export(model, args.out, make_card(args, labels, sha256_file(args.checkpoint)))
    print(json.dumps({"model": str(path), "labels": labels}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
