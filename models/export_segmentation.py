"""Export a segmentation model (MaskFormer ADE20k-150, or DETR panoptic) from a local folder to
ONNX, for the LSGL mask that drops matches on sky, trees, road, people, cars, water and buses.

    python models/export_segmentation.py --model maskformer-ade --out models/build/maskformer-ade.onnx
    python models/export_segmentation.py --model detr-resnet-50-panoptic --out models/build/detr-panoptic.onnx

`--model` is a `save_pretrained` folder of a `transformers` MaskFormer (for example
facebook/maskformer-swin-large-ade, fetched once where a network is allowed; MIST never downloads
weights). The graph takes the photo at the paper's 640 x 480, normalised with the folder's
preprocessor mean and std, and returns the ADE class of every pixel at that size: the class
probabilities of the queries times their mask probabilities, summed over queries, upsampled
bilinearly, arg-max (what transformers' `post_process_semantic_segmentation` does). The class
names go into the card (`mist.labels`); the run time needs neither torch nor transformers.

A DETR folder (`config.json` of model_type "detr" with the segmentation head, the layout of
facebook/detr-resnet-50-panoptic) is exported with its raw outputs: class logits per query (the
COCO panoptic classes and "no object"), boxes and mask logits at a quarter of the input size; the
card says `mist.segmentation` "detr-panoptic" and MIST's run time does transformers' panoptic
post-processing on them (core/geoloc/masks.py). A DETR detection checkpoint (no mask head) is
refused, as is any folder whose weights do not fill the segmentation model.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mist_qgis.core.geoloc.masks import DETR_PANOPTIC  # noqa: E402
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
    return (model, *normalisation(folder))


def normalisation(folder: Path) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and std of the folder's preprocessor (ImageNet's when it names none)."""
    mean, std = IMAGENET_MEAN, IMAGENET_STD
    pre = folder / "preprocessor_config.json"
    if pre.is_file():
        config = json.loads(pre.read_text(encoding="utf-8"))
        mean, std = tuple(config.get("image_mean", mean)), tuple(config.get("image_std", std))
    return mean, std


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


def is_detr(folder: Path) -> bool:
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type") == "detr"
    except (OSError, ValueError):
        return False


def load_detr(folder: Path):
    """DetrForSegmentation from a local folder; refuses a checkpoint without the mask head (a
    detection DETR), whose missing weights transformers would otherwise fill with random ones."""
    from transformers import DetrForSegmentation

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    architectures = config.get("architectures") or []
    if architectures and "DetrForSegmentation" not in architectures:
        raise SystemExit(f"{folder}: a DETR checkpoint of architecture {architectures}; the mask needs "
                         "DetrForSegmentation (panoptic, e.g. facebook/detr-resnet-50-panoptic)")
    model, info = DetrForSegmentation.from_pretrained(str(folder), local_files_only=True, output_loading_info=True)
    if info.get("missing_keys"):
        raise SystemExit(f"{folder}: the weights do not fill the DETR segmentation model "
                         f"({len(info['missing_keys'])} missing, e.g. {info['missing_keys'][0]})")
    return (model.eval(), *normalisation(folder))


def detr_module(model):
    import torch

    class Raw(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, pixel_values):
            out = self.model(pixel_values=pixel_values)
            return out.logits, out.pred_boxes, out.pred_masks

    return Raw(model).eval()


def unique_labels(model) -> tuple[str, ...]:
    """Class names in id order; a repeated or missing name becomes label_<id> (cards need unique labels)."""
    id2label = {int(k): str(v) for k, v in (model.config.id2label or {}).items()}
    names = [id2label.get(i, f"label_{i}") for i in range(model.config.num_labels)]
    seen: set[str] = set()
    out = []
    for i, name in enumerate(names):
        out.append(name if name not in seen else f"label_{i}")
        seen.add(name)
    return tuple(out)


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

    weights = next((folder / n for n in ("model.safetensors", "pytorch_model.bin") if (folder / n).is_file()), None)
    sha = sha256_file(weights) if weights else "unknown"
    if is_detr(folder):
        model, mean, std = load_detr(folder)
        detr_card = replace(
            card(model, mean, std, model_id, f"transformers DETR panoptic from {folder.name}", sha),
            labels=unique_labels(model), outputs={"logits": "logits", "boxes": "pred_boxes", "masks": "pred_masks"},
            description="DETR panoptic: class logits, boxes and mask logits per query at 640 x 480",
            extra={"inputs": {"image": "pixel_values"}, "segmentation": DETR_PANOPTIC})
        return export_onnx(detr_module(model), (torch.rand(1, 3, *SIZE),), out, detr_card,
                           input_names=["pixel_values"], output_names=["logits", "pred_boxes", "pred_masks"])
    model, mean, std = load_maskformer(folder)
    return export_onnx(semantic_module(model), (torch.rand(1, 3, *SIZE),), out,
                       card(model, mean, std, model_id, f"transformers MaskFormer from {folder.name}", sha),
                       input_names=["pixel_values"], output_names=["labels"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True,
                        help="local MaskFormer or DETR panoptic folder (save_pretrained)")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "build" / "maskformer-ade.onnx")
    parser.add_argument("--id", help="model id in the card (default maskformer-ade or detr-panoptic)")
    args = parser.parse_args(argv)
    model_id = args.id or ("detr-panoptic" if is_detr(args.model) else "maskformer-ade")
    print(json.dumps({"model": str(export(args.model, args.out, model_id))}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
