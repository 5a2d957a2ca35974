"""Export the multimodal crisis-post classifier (CrisisMMD line of work) from LOCAL weights.

Architecture (specs/riasm.md): an image encoder (ViT-B/16, 768-d class token), a multilingual text
encoder (XLM-RoBERTa base, 768-d CLS token), the two vectors stacked as a 2-token sequence through
a 2-layer transformer encoder (8 heads, 3072 feed-forward), mean-pooled, then an MLP
768-512-n_classes with dropout 0.5. The image encoder uses torchvision's ViT layout; the text
encoder is transformers' XLMRobertaModel, so an XLM-R checkpoint's `roberta.*`/encoder keys load
under `text_encoder.`.

The ONNX model takes `image` (N, 3, H, W), `input_ids` and `attention_mask` (N, L) and returns
`logits`; the tokenizer files are copied into `<model>.tokenizer/` beside it. Weights are local
only and read with weights_only=True.

    python models/export_crisis_multimodal.py --config crisis.json --checkpoint crisis.pth \\
        --tokenizer xlm-roberta-base/ --out models/build/crisis-mm.onnx
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mist_qgis.core.models.card import ModelCard  # noqa: E402

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model", "special_tokens_map.json",
                   "config.json", "vocab.txt", "vocab.json", "merges.txt")
ROBERTA_POSITION_OFFSET = 2  # XLM-R position ids start after the padding index


@dataclass
class CrisisConfig:
    """Sizes of every part; the defaults are the published model's."""

    labels: list[str] = field(default_factory=lambda: ["informative", "not_informative"])
    image_size: int = 224
    patch_size: int = 16
    image_layers: int = 12
    image_heads: int = 12
    image_hidden: int = 768
    image_mlp: int = 3072
    vocab_size: int = 250002
    text_hidden: int = 768
    text_layers: int = 12
    text_heads: int = 12
    text_ff: int = 3072
    max_positions: int = 514
    d_model: int = 768
    fusion_layers: int = 2
    fusion_heads: int = 8
    fusion_ff: int = 3072
    mlp_hidden: int = 512
    dropout: float = 0.5
    max_length: int = 128

    @classmethod
    def from_json(cls, path: Path) -> CrisisConfig:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"{path}: unknown config keys {sorted(unknown)}")
        return cls(**data)

    def check(self) -> None:
        """A token limit beyond the text encoder's position table would fail on long posts only."""
        if not 2 <= self.max_length <= self.max_positions - ROBERTA_POSITION_OFFSET:
            raise ValueError(f"max_length {self.max_length} must be 2..{self.max_positions - ROBERTA_POSITION_OFFSET} "
                             f"(max_positions {self.max_positions} minus {ROBERTA_POSITION_OFFSET})")


def build_model(cfg: CrisisConfig):
    import torch
    from torch import nn
    from torchvision.models.vision_transformer import VisionTransformer
    from transformers import XLMRobertaConfig, XLMRobertaModel

    class CrisisMultimodal(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.image_encoder = VisionTransformer(
                image_size=cfg.image_size, patch_size=cfg.patch_size, num_layers=cfg.image_layers,
                num_heads=cfg.image_heads, hidden_dim=cfg.image_hidden, mlp_dim=cfg.image_mlp,
            )
            self.image_encoder.heads = nn.Identity()
            text_config = XLMRobertaConfig(
                vocab_size=cfg.vocab_size, hidden_size=cfg.text_hidden, num_hidden_layers=cfg.text_layers,
                num_attention_heads=cfg.text_heads, intermediate_size=cfg.text_ff,
                max_position_embeddings=cfg.max_positions, type_vocab_size=1, pad_token_id=1,
                attn_implementation="eager",
            )
            self.text_encoder = XLMRobertaModel(text_config, add_pooling_layer=False)
            self.image_proj = nn.Linear(cfg.image_hidden, cfg.d_model) if cfg.image_hidden != cfg.d_model \
                else nn.Identity()
            self.text_proj = nn.Linear(cfg.text_hidden, cfg.d_model) if cfg.text_hidden != cfg.d_model \
                else nn.Identity()
            layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.fusion_heads, cfg.fusion_ff, batch_first=True)
            self.fusion = nn.TransformerEncoder(layer, cfg.fusion_layers, enable_nested_tensor=False)
            self.classifier = nn.Sequential(
                nn.Linear(cfg.d_model, cfg.mlp_hidden), nn.ReLU(), nn.Dropout(cfg.dropout),
                nn.Linear(cfg.mlp_hidden, len(cfg.labels)),
            )

        def forward(self, image, input_ids, attention_mask):
            img = self.image_proj(self.image_encoder(image))
            txt = self.text_encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state[:, 0]
            tokens = torch.stack([img, self.text_proj(txt)], dim=1)
            return self.classifier(self.fusion(tokens).mean(dim=1))

    return CrisisMultimodal().eval()


def make_card(cfg: CrisisConfig, model_id: str, version: str, licence: str, source: str, sha: str,
              tokenizer_dir: str) -> ModelCard:
    return ModelCard(
        id=model_id, version=version, task="multimodal", licence=licence, source=source, labels=tuple(cfg.labels),
        input_kind="image+text", input_size=(cfg.image_size, cfg.image_size), layout="NCHW", color_order="RGB",
        mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), resize="stretch", scores="logits",
        outputs={"scores": "logits"}, weights_sha256=sha,
        extra={"tokenizer": tokenizer_dir, "max_length": cfg.max_length, "vocab_size": cfg.vocab_size,
               "text_inputs": ["input_ids", "attention_mask"]},
        description="image + XLM-R text, 2-layer transformer fusion, MLP head",
    )


def export(cfg: CrisisConfig, checkpoint: Path | None, out: Path, tokenizer: Path | None, model_id: str,
           version: str, licence: str, source: str):
    """Build, load weights, export and copy the tokenizer; returns (path, torch model)."""
    import torch

    from mist_qgis.core.models.export import export_onnx, load_into, load_state_dict
    from mist_qgis.core.models.registry import sha256_file

    cfg.check()
    model = build_model(cfg)
    sha = "unknown"
    if checkpoint is not None:
        load_into(model, load_state_dict(checkpoint), checkpoint)
        sha = sha256_file(checkpoint)
    tok_dir = out.with_suffix(".tokenizer")
    card = make_card(cfg, model_id, version, licence, source, sha, tok_dir.name)
    args = (torch.zeros(1, 3, cfg.image_size, cfg.image_size), torch.ones(1, 8, dtype=torch.long),
            torch.ones(1, 8, dtype=torch.long))
    export_onnx(
        model, args, out, card, input_names=["image", "input_ids", "attention_mask"], output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "input_ids": {0: "batch", 1: "length"},
                      "attention_mask": {0: "batch", 1: "length"}, "logits": {0: "batch"}},
    )
    if tokenizer is not None:
        copied = [f for f in TOKENIZER_FILES if (tokenizer / f).is_file()]
        if not copied:
            raise FileNotFoundError(f"{tokenizer}: no tokenizer files ({', '.join(TOKENIZER_FILES)})")
        tok_dir.mkdir(parents=True, exist_ok=True)
        for name in copied:
            shutil.copy2(tokenizer / name, tok_dir / name)
    return out, model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="JSON with CrisisConfig fields (default: published sizes)")
    parser.add_argument("--checkpoint", type=Path, required=True, help="local state dict (.pth/.safetensors)")
    parser.add_argument("--tokenizer", type=Path, required=True, help="local XLM-R tokenizer folder")
    parser.add_argument("--id", default="crisis-multimodal")
    parser.add_argument("--version", default="1")
    parser.add_argument("--licence", default="unknown (set --licence)")
    parser.add_argument("--source", default="user checkpoint")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    cfg = CrisisConfig.from_json(args.config) if args.config else CrisisConfig()
    path, _ = export(cfg, args.checkpoint, args.out, args.tokenizer, args.id, args.version, args.licence,
                     args.source)
    print(json.dumps({"model": str(path), "tokenizer": str(path.with_suffix(".tokenizer"))}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
