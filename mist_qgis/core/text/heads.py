"""Multi-label text heads: one binary head per category, trained on post text features exactly as
photo heads are (`core/models/heads.py`: class-balanced logistic regression or small MLP,
out-of-fold precision, recall and F1, a calibrated threshold per category), exported as one ONNX
file per category into a folder, each carrying its card (task "head", features "text", the
feature model's tag). A post holds every category whose head clears its threshold.

Each head passes the photo heads' skill test (a permutation test against shuffled labels); a head
without skill is exported without a tuned threshold and marked so, and screening refuses a folder
holding one unless asked to allow it (`load_text_heads(allow_no_skill=True)`), as for photo heads.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..models.heads import (
    HeadMetrics,
    HeadTrainingError,
    NoSkillError,
    TrainedHead,
    export_head,
    head_card,
    no_skill_reason,
    shared_row_space,
    train_head,
)
from .categories import Category

if TYPE_CHECKING:
    import numpy as np
    from scipy import sparse

    from ..models.card import ModelCard

OTHER = "other"
SPARSE_C = 10.0
HEAD_PREFIX = "text-"


@dataclass
class CategoryHead:
    category: str
    head: TrainedHead

    @property
    def threshold(self) -> float:
        t = self.head.metrics.threshold
        return 0.5 if t is None else float(t)

    def probability(self, x: np.ndarray) -> np.ndarray:
        return self.head.probabilities(x)[:, self.head.labels.index(self.category)]


def binary_labels(label_sets: Sequence[Sequence[str]], category: str) -> list[str]:
    return [category if category in labels else OTHER for labels in label_sets]


def train_category_heads(
    x: np.ndarray | sparse.csr_matrix, label_sets: Sequence[Sequence[str]], categories: Sequence[str],
    kind: str = "logreg", folds: int | None = None, seed: int = 0, c: float | None = None,
) -> tuple[dict[str, CategoryHead], dict[str, str]]:
    """One head per category that has at least 2 labelled posts in and 2 out of it.

    Sparse features (hashed n-grams) train sparse and unstandardised, with weaker regularisation
    (`SPARSE_C`) since their values are small; dense embeddings are standardised as photo heads are.
    Returns the heads and, for each category left out, why (so the dock can say what to label).
    """
    if c is None:
        c = SPARSE_C if hasattr(x, "tocsr") else 1.0
    heads: dict[str, CategoryHead] = {}
    skipped: dict[str, str] = {}
    row_space = shared_row_space(x)  # the features' basis, the same for every category's head
    for cat in categories:
        y = binary_labels(label_sets, cat)
        n_pos = sum(1 for v in y if v == cat)
        if n_pos < 2 or len(y) - n_pos < 2:
            skipped[cat] = f"{n_pos} labelled posts in it and {len(y) - n_pos} outside; needs 2 of each"
            continue
        heads[cat] = CategoryHead(cat, train_head(x, y, kind=kind, folds=folds, seed=seed, positive=cat, c=c,
                                                  row_space=row_space))
    if not heads:
        raise HeadTrainingError("no category has enough labelled posts to train a head: " + "; ".join(
            f"{k}: {v}" for k, v in skipped.items()))
    return heads, skipped


def macro_f1(heads: dict[str, CategoryHead]) -> float:
    """Mean over categories of the out-of-fold F1 at each calibrated threshold."""
    f1s = [h.head.metrics.at_threshold.f1 for h in heads.values() if h.head.metrics.at_threshold]
    return float(sum(f1s) / len(f1s)) if f1s else 0.0


def category_metrics(heads: dict[str, CategoryHead]) -> dict[str, HeadMetrics]:
    return {k: h.head.metrics for k, h in heads.items()}


def export_category_heads(
    heads: dict[str, CategoryHead], out_dir: str | Path, feature_model: str, categories: Sequence[Category],
    version: str | None = None,
) -> list[Path]:
    """Write `text-<category>.onnx` per head into a folder (older heads of the same categories are
    replaced; heads of other categories stay)."""
    out = Path(out_dir)
    version = version or _dt.datetime.now(_dt.UTC).strftime("%Y%m%d%H%M%S")
    titles = {c.name: c.title for c in categories}
    paths = []
    for cat, h in heads.items():
        card = head_card(h.head, f"{HEAD_PREFIX}{cat}", version, feature_model, "text",
                         source="trained in MIST from analysts' post categories")
        card.extra["category"] = cat
        card.extra["category_title"] = titles.get(cat, cat)
        paths.append(export_head(h.head, out / f"{HEAD_PREFIX}{cat}.onnx", card))
    return paths


@dataclass
class LoadedTextHeads:
    """The heads of one folder that read one feature model."""

    feature_model: str
    categories: tuple[str, ...]
    thresholds: tuple[float, ...]
    models: tuple
    no_skill: tuple[str, ...] = ()  # why each head without skill (loaded only when allowed) has none

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """N x categories probability of each category."""
        import numpy as np

        if not self.models:
            return np.zeros((len(x), 0), dtype=np.float32)
        cols = [m.run(x)["scores"][:, m.card.labels.index(cat)] for m, cat in zip(self.models, self.categories,
                                                                                 strict=True)]
        return np.stack(cols, axis=1)


def load_text_heads(folder: str | Path, feature_model: str | None = None,
                    allow_no_skill: bool = False) -> LoadedTextHeads:
    """Every text head in a folder (ONNX files whose card says features "text"), checked to read
    the same feature model. A head whose training showed no skill raises `NoSkillError` unless
    `allow_no_skill` (then `no_skill` says which and why)."""
    from ..models.runtime import load_model

    folder = Path(folder)
    if not folder.is_dir():
        raise HeadTrainingError(f"{folder} is not a folder of text heads")
    models, cats, thr, no_skill = [], [], [], []
    tags: set[str] = set()
    for path in sorted(folder.glob(f"{HEAD_PREFIX}*.onnx")):
        model = load_model(path)
        card: ModelCard = model.card
        if card.task != "head" or card.features != "text":
            continue
        cat = str(card.extra.get("category") or card.id.removeprefix(HEAD_PREFIX))
        reason = no_skill_reason(card)
        if reason:
            no_skill.append(reason)
        tags.add(card.embedding_model or "")
        models.append(model)
        cats.append(cat)
        thr.append(float(card.thresholds.get(cat, 0.5)))
    if not models:
        raise HeadTrainingError(f"{folder} holds no text heads (text-<category>.onnx); train them first")
    if len(tags) != 1 or (feature_model and feature_model not in tags):
        raise HeadTrainingError(f"the text heads in {folder} read different features ({', '.join(sorted(tags))})")
    if no_skill and not allow_no_skill:
        raise NoSkillError("; ".join(no_skill) + " (label more posts and train again, or allow screening with a "
                           "head without skill explicitly)")
    return LoadedTextHeads(tags.pop(), tuple(cats), tuple(thr), tuple(models), tuple(no_skill))
