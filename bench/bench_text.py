"""Text screening speed: MIST against scikit-learn used directly, on the same posts, same run.

Posts: N (default 1,000,000) English and Chinese flood posts made by recombining the labelled
sentences of tests/data/text/posts.jsonl with random hashtags, mentions, links, emoji and numbers,
so no two posts are alike. Heads for the eight default categories are trained first on the
labelled set (char n-gram features).

1. Throughput on N posts, in pages of 2,000 as the stage reads them from the store:
   MIST: normalise (URLs, mentions, hashtags, traditional -> simplified, full-width), hashed
   character n-grams, eight ONNX heads, calibrated thresholds (`core.text.screen.score_texts`).
   Peer: scikit-learn's own HashingVectorizer (same n-gram range and size) on the raw text and a
   one-vs-rest LogisticRegression (`predict_proba`), fitted on the same labelled set.
   `speed ratio: X` = peer time / MIST time (below 1: MIST is slower by the normalisation and
   the ONNX heads it runs).
2. The whole stage through the store (`screen_texts`: read, score, write features, categories and
   the posts layer's fields) on --store-n posts (default 100,000): posts per second.
3. Head retraining on 10,000 labelled posts (`train_category_heads`: eight heads, each with
   cross-validated metrics and a calibrated threshold): seconds.

    .venv/bin/python bench/bench_text.py [--n 1000000] [--store-n 100000] [--train-n 10000]
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from common import command_line, speed_ratio  # noqa: E402  (puts the repository on the import path)

from mist_qgis.core.text.categories import DEFAULT_CATEGORIES  # noqa: E402
from mist_qgis.core.text.evaluate import read_labelled  # noqa: E402
from mist_qgis.core.text.features import CHAR_NGRAM_TAG, NGRAM_DIM, NGRAM_RANGE, featurize, head_input  # noqa: E402
from mist_qgis.core.text.heads import export_category_heads, load_text_heads, train_category_heads  # noqa: E402
from mist_qgis.core.text.normalize import normalize  # noqa: E402
from mist_qgis.core.text.screen import PAGE, score_texts  # noqa: E402

LABELLED = Path(__file__).resolve().parents[1] / "tests" / "data" / "text" / "posts.jsonl"
EXTRAS = ["#暴雨#", "#FloodRelief", "@city_fire", "https://t.co/{}", "🌊", "🆘🙏", "{} ppl", "第{}次更新", "😭", "RT"]


def make_posts(n: int, seed: int = 0) -> tuple[list[str], list[tuple[str, ...]]]:
    rng = random.Random(seed)
    base = read_labelled(LABELLED)
    texts, labels = [], []
    for _ in range(n):
        p = rng.choice(base)
        extra = " ".join(rng.choice(EXTRAS).format(rng.randint(1, 99999)) for _ in range(rng.randint(0, 3)))
        texts.append(f"{p.text} {extra}" if rng.random() < 0.5 else f"{extra} {p.text}")
        labels.append(p.categories)
    return texts, labels


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--store-n", type=int, default=100_000)
    parser.add_argument("--train-n", type=int, default=10_000)
    args = parser.parse_args()
    import numpy as np
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    names = [c.name for c in DEFAULT_CATEGORIES]
    labelled = read_labelled(LABELLED)
    x_lab = head_input(featurize([normalize(p.text) for p in labelled]), "char-ngram")
    heads, _ = train_category_heads(x_lab, [p.categories for p in labelled], names)
    tmp = Path(tempfile.mkdtemp(prefix="mist-bench-text-"))
    export_category_heads(heads, tmp / "heads", CHAR_NGRAM_TAG, DEFAULT_CATEGORIES)
    loaded = load_text_heads(tmp / "heads")

    peer_vec = HashingVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, n_features=NGRAM_DIM,
                                 alternate_sign=False, norm="l2")
    y = np.array([[c in p.categories for c in names] for p in labelled], dtype=int)
    peer = OneVsRestClassifier(LogisticRegression(class_weight="balanced", max_iter=500)).fit(
        peer_vec.transform([p.text for p in labelled]), y)

    texts, _ = make_posts(args.n)
    print(f"{args.n:,} posts, pages of {PAGE}")
    t = time.perf_counter()
    flagged = 0
    for start in range(0, len(texts), PAGE):
        _, _, _, probs = score_texts(texts[start:start + PAGE], loaded)
        flagged += int((probs >= np.array(loaded.thresholds)).sum())
    mist_s = time.perf_counter() - t
    print(f"MIST  normalise + char n-grams + {len(loaded.categories)} ONNX heads: {mist_s:.1f} s "
          f"({args.n / mist_s:,.0f} posts/s), {flagged:,} category labels")
    t = time.perf_counter()
    flagged = 0
    for start in range(0, len(texts), PAGE):
        probs = peer.predict_proba(peer_vec.transform(texts[start:start + PAGE]))
        flagged += int((probs >= 0.5).sum())
    peer_s = time.perf_counter() - t
    print(f"peer  scikit-learn HashingVectorizer + one-vs-rest LogisticRegression: {peer_s:.1f} s "
          f"({args.n / peer_s:,.0f} posts/s), {flagged:,} category labels")

    if args.store_n:
        from mist_qgis.core.posts.record import PostRecord
        from mist_qgis.core.store import open_store
        from mist_qgis.core.text.screen import screen_texts

        with open_store(tmp / "bench.gpkg") as store:
            for start in range(0, args.store_n, 20_000):
                with store.batch() as conn:
                    store.add_posts(conn, [PostRecord(f"b{i}", "weibo", 114.3, 30.6, text=texts[i % len(texts)])
                                           for i in range(start, min(start + 20_000, args.store_n))])
            t = time.perf_counter()
            result = screen_texts(store, heads_dir=tmp / "heads")
            s = time.perf_counter() - t
        print(f"store stage screen_texts on {args.store_n:,} posts: {s:.1f} s ({args.store_n / s:,.0f} posts/s), "
              f"{result.counts['screened']:,} screened")

    train_texts, train_labels = make_posts(args.train_n, seed=1)
    x = head_input(featurize([normalize(t) for t in train_texts]), "char-ngram")
    t = time.perf_counter()
    trained, _ = train_category_heads(x, train_labels, names)
    print(f"head retraining on {args.train_n:,} labelled posts ({len(trained)} heads, cross-validated, "
          f"calibrated): {time.perf_counter() - t:.1f} s")
    speed_ratio(peer_s, mist_s)


if __name__ == "__main__":
    main()
