"""Per-category F1 of keyword rules and of text heads on a labelled set, side by side.

Heads are scored out of fold by the set's own folds: a post is scored by heads trained on the other
folds, at thresholds those heads calibrated on their own training posts. The set keeps every
written sentence (and the restyled copies of it) inside one fold, so a head never scores a
sentence it has seen in another style; keyword rules need no training and
are scored on every post. The macro-F1 is the mean over categories. Used by
`scripts/evaluate_text.py` and the tests, on `tests/data/text/posts.jsonl`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .categories import DEFAULT_CATEGORIES, Category, keyword_labels
from .features import encoder_path, featurize, head_input
from .heads import train_category_heads
from .normalize import normalize

KEYWORDS = "keyword rules"


@dataclass(frozen=True)
class LabelledPost:
    text: str
    lang: str
    categories: tuple[str, ...]
    fold: int = 0


def read_labelled(path: str | Path) -> list[LabelledPost]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(LabelledPost(d["text"], d.get("lang", ""), tuple(d["categories"]), int(d.get("fold", 0))))
    return out


def _f1(pred: Sequence[bool], truth: Sequence[bool]) -> float:
    tp = sum(1 for p, t in zip(pred, truth, strict=True) if p and t)
    fp = sum(1 for p, t in zip(pred, truth, strict=True) if p and not t)
    fn = sum(1 for p, t in zip(pred, truth, strict=True) if t and not p)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def keyword_f1(posts: Sequence[LabelledPost], categories: Sequence[Category] = DEFAULT_CATEGORIES) -> dict[str, float]:
    """F1 of each category's keyword rule (complements included) against the labels."""
    hits = [keyword_labels(normalize(p.text), categories) for p in posts]
    return {c.name: _f1([c.name in h for h in hits], [c.name in p.categories for p in posts]) for c in categories}


def head_f1(
    posts: Sequence[LabelledPost], feature_set: str, categories: Sequence[Category] = DEFAULT_CATEGORIES,
    seed: int = 0, c: float | None = None, encoder: str | Path | None = None,
) -> dict[str, float]:
    """F1 per category of heads scored on folds they were not trained on (`encoder`: the text
    encoder of the multilingual set, see `features.encoder_path`)."""
    import numpy as np

    path = encoder_path(feature_set, encoder)  # the set's own encoder: `encoder` names the multilingual one
    x = head_input(featurize([normalize(p.text) for p in posts], feature_set, path), feature_set)
    folds = np.array([p.fold for p in posts])
    names = [c.name for c in categories]
    predicted = np.zeros((len(posts), len(names)), dtype=bool)
    for k in sorted(set(folds.tolist())):
        train, test = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
        heads, _ = train_category_heads(x[train], [posts[i].categories for i in train], names, seed=seed, c=c)
        for j, name in enumerate(names):
            if name in heads:
                predicted[test, j] = heads[name].probability(x[test]) >= heads[name].threshold
    return {name: _f1(predicted[:, j].tolist(), [name in p.categories for p in posts]) for j, name in enumerate(names)}


def macro(scores: dict[str, float]) -> float:
    return sum(scores.values()) / len(scores) if scores else 0.0


def compare(
    posts: Sequence[LabelledPost], feature_sets: Sequence[str] = ("char-ngram", "minilm"),
    categories: Sequence[Category] = DEFAULT_CATEGORIES, encoder: str | Path | None = None,
) -> dict[str, dict[str, float]]:
    """{feature set or "keyword rules": {category: F1}}."""
    table = {KEYWORDS: keyword_f1(posts, categories)}
    for fs in feature_sets:
        table[fs] = head_f1(posts, fs, categories, encoder=encoder)
    return table
