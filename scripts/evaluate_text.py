"""Per-category F1 (and macro-F1) of keyword rules, English MiniLM and character n-grams on the
labelled English and Chinese posts of tests/data/text/posts.jsonl, for all posts and per language;
with --encoder, also a multilingual text encoder (an id, .onnx file or folder: see README).

    .venv/bin/python scripts/evaluate_text.py [posts.jsonl] [--encoder MODEL]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mist_qgis.core.text.evaluate import KEYWORDS, compare, macro, read_labelled  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("posts", nargs="?", default=Path(__file__).resolve().parents[1] / "tests/data/text/posts.jsonl")
    parser.add_argument("--encoder", help="a multilingual text encoder to compare as well")
    args = parser.parse_args()
    posts = read_labelled(args.posts)
    heads = ("minilm", "char-ngram", *(("multilingual",) if args.encoder else ()))
    sets = (KEYWORDS, *heads)
    for subset in ("all", "en", "zh"):
        part = [p for p in posts if subset == "all" or p.lang == subset]
        table = compare(part, heads, encoder=args.encoder)
        cats = list(table[KEYWORDS])
        print(f"\n{subset}: {len(part)} posts, F1 per category (heads: 5-fold out-of-fold, calibrated threshold)")
        print(f"| {'category':<22} | " + " | ".join(f"{s:>13}" for s in sets) + " |")
        print("|" + "---|" * (len(sets) + 1))
        for c in cats:
            print(f"| {c:<22} | " + " | ".join(f"{table[s][c]:>13.3f}" for s in sets) + " |")
        print(f"| {'macro-F1':<22} | " + " | ".join(f"{macro(table[s]):>13.3f}" for s in sets) + " |")


if __name__ == "__main__":
    main()
