"""Card a sentence-transformers-style ONNX export (e.g. a multilingual MiniLM) as a MIST text encoder.

    python models/text_encoder_card.py FOLDER --id paraphrase-multilingual-MiniLM-L12-v2 \
        --languages mul,en,zh --licence Apache-2.0 --out ~/mist-models

FOLDER holds the export: model.onnx (or onnx/model.onnx), tokenizer.json and the
sentence-transformers configuration (sentence_bert_config.json, 1_Pooling/config.json). The
script writes <id>.onnx with its card and <id>-tokenizer/ into --out; add that folder in
MIST › Models… (or pass --encoder to `screen-text`) and the encoder is a choice of the
"multilingual" text features. Nothing is downloaded: export the model yourself where a network is.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    from mist_qgis.core.errors import MistError
    from mist_qgis.core.models.text_card import card_text_encoder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the sentence-transformers ONNX export folder")
    parser.add_argument("--id", required=True, help="model id (a plain name)")
    parser.add_argument("--languages", required=True,
                        help="comma-separated language codes the encoder knows (mul: many)")
    parser.add_argument("--version", default="1")
    parser.add_argument("--licence", default="unknown")
    parser.add_argument("--source", default="", help="where the weights come from (shown in the model manager)")
    parser.add_argument("--onnx", type=Path, help="the graph, when not model.onnx or onnx/model.onnx")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "build")
    args = parser.parse_args(argv)
    languages = [s.strip() for s in args.languages.split(",") if s.strip()]
    try:
        path = card_text_encoder(args.folder, args.out, args.id, languages, args.version, args.licence, args.source,
                                 args.onnx)
    except (MistError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"model": str(path)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
