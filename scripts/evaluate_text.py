"""Per-category F1 (and macro-F1) of keyword rules, English MiniLM and character n-grams on the
labelled English and Chinese posts of tests/data/text/posts.jsonl, for all posts and per language.

    .venv/bin/python scripts/evaluate_text.py [posts.jsonl]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mist_qgis.core.text.evaluate import KEYWORDS, compare, macro, read_labelled  # noqa: E402

SETS = (KEYWORDS, "minilm", "char-ngram")


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "tests/data/text/posts.jsonl"
    posts = read_labelled(path)
    for subset in ("all", "en", "zh"):
        part = [p for p in posts if subset == "all" or p.lang == subset]
        table = compare(part, ("minilm", "char-ngram"))
        cats = list(table[KEYWORDS])
        print(f"\n{subset}: {len(part)} posts, F1 per category (heads: 5-fold out-of-fold, calibrated threshold)")
        print(f"| {'category':<22} | " + " | ".join(f"{s:>13}" for s in SETS) + " |")
        print("|" + "---|" * (len(SETS) + 1))
        for c in cats:
            print(f"| {c:<22} | " + " | ".join(f"{table[s][c]:>13.3f}" for s in SETS) + " |")
        print(f"| {'macro-F1':<22} | " + " | ".join(f"{macro(table[s]):>13.3f}" for s in SETS) + " |")


if __name__ == "__main__":
    main()
