"""Export a MaskFormer semantic segmentation model (ADE20k-150) from a local folder to ONNX, for
the LSGL mask that drops matches on sky, trees, road, people, cars, water and buses.

    python models/export_segmentation.py --model maskformer-ade --out models/build/maskformer-ade.onnx

`--model` is a `save_pretrained` folder of a `transformers` MaskFormer (for example
facebook/maskformer-swin-large-ade, fetched once where a network is allowed; MIST never downloads
weights). The graph takes the photo at the paper's 640 x 480, normalised with the folder's
preprocessor mean and std, and returns the ADE class of every pixel at that size: the class
probabilities of the queries times their mask probabilities, summed over queries, upsampled
bilinearly, arg-max (what transformers' `post_process_semantic_segmentation` does). The class
names go into the card (`mist.labels`); the run time needs neither torch nor transformers.
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

SIZE = (480, 640)  # H x W: the paper segments every photo at 640 x 480
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def load_maskformer(folder: Path):
    """The transformers model from a local folder (never a hub) and its normalisation."""
    from transformers import MaskFormerForInstanceSegmentation

    if not (folder / "config.json").is_file():
        raise SystemExit(f"no MaskFormer in {folder} (config.json missing)")
    model = MaskFormerForInstanceSegmentation.from_pretrained(str(folder), local_files_only=True).eval()
    mean, std = IMAGENET_MEAN, IMAGENET_STD
    pre = folder / "preprocessor_config.json"
    if pre.is_file():
        config = json.loads(pre.read_text(encoding="utf-8"))
        mean = tuple(config.get("image_mean", mean))
        std = tuple(config.get("image_std", std))
    return model, mean, std


def semantic_module(model):
    import torch

    class Semantic(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, pixel_values):
            out = self.model(pixel_values=pixel_values)
            classes = out.class_queries_logits.softmax(-1)[..., :-1]
            masks = out.masks_queries_logits.sigmoid()
            scores = torch.einsum("bqc,bqhw->bchw", classes, masks)
            scores = torch.nn.functional.interpolate(scores, size=SIZE, mode="bilinear", align_corners=False)
            return scores.argmax(1)

    return Semantic(model).eval()


def card(model, mean, std, model_id: str, source: str, sha: str) -> ModelCard:
    id2label = {int(k): str(v) for k, v in (model.config.id2label or {}).items()}
    labels = tuple(id2label.get(i, f"label_{i}") for i in range(model.config.num_labels))
    return ModelCard(
        id=model_id, version="1", task="segment", licence="see the model's own card", source=source,
        labels=labels, input_size=SIZE, layout="NCHW", color_order="RGB", pixel_scale=255.0, mean=tuple(mean),
        std=tuple(std), resize="stretch", outputs={"labels": "labels"}, weights_sha256=sha,
        description="semantic segmentation: the class of every pixel at 640 x 480",
        extra={"inputs": {"image": "pixel_values"}},
    )


def export(folder: Path, out: Path, model_id: str = "maskformer-ade") -> Path:
    import torch

    from mist_qgis.core.models.export import export_onnx
    from mist_qgis.core.models.registry import sha256_file

    model, mean, std = load_maskformer(folder)
    weights = next((folder / n for n in ("model.safetensors", "pytorch_model.bin") if (folder / n).is_file()), None)
    sha = sha256_file(weights) if weights else "unknown"
    return export_onnx(semantic_module(model), (torch.rand(1, 3, *SIZE),), out,
                       card(model, mean, std, model_id, f"transformers MaskFormer from {folder.name}", sha),
                       input_names=["pixel_values"], output_names=["labels"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="local MaskFormer folder (save_pretrained)")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "build" / "maskformer-ade.onnx")
    parser.add_argument("--id", default="maskformer-ade", help="model id in the card")
    args = parser.parse_args(argv)
    print(json.dumps({"model": str(export(args.model, args.out, args.id))}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
