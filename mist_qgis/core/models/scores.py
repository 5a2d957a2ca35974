"""Turning model outputs into probabilities, top-k lists and one decided label per photo."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from .card import ModelCard


def probabilities(scores: np.ndarray, card: ModelCard) -> np.ndarray:
    """Softmax of logits (numerically stable); probabilities pass through unchanged."""
    import numpy as np

    scores = np.asarray(scores, dtype=np.float64)
    if card.scores == "probabilities":
        return scores
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


NOT_FINITE = "the model produced NaN (or an infinite score) for this photo"


def finite_rows(scores: np.ndarray) -> np.ndarray:
    """A boolean per row: True where every score is a finite number. A NaN score is no evidence
    of anything; it is reported as a skipped photo, never stored or printed."""
    import numpy as np

    scores = np.asarray(scores, dtype=np.float64)
    return np.isfinite(scores.reshape(len(scores), -1)).all(axis=1)


def top_k(probs: np.ndarray, labels: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
    """Per row, the k best (label, probability) pairs, best first."""
    import numpy as np

    k = max(1, min(k, len(labels)))
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return [[(labels[j], float(row[j])) for j in idx] for row, idx in zip(probs, order, strict=True)]


def decide(row: np.ndarray, labels: Sequence[str], thresholds: Mapping[str, float]) -> tuple[str, float]:
    """One label for a photo, honouring the card's calibrated thresholds.

    A label with a threshold wins when its probability reaches it (best such label first); if
    none does, the best label without a threshold wins, else the overall best. For a binary
    flood head with threshold t on "flood" this is exactly "flood if p >= t".
    """
    import numpy as np

    passing = [i for i, lab in enumerate(labels) if lab in thresholds and row[i] >= thresholds[lab]]
    if passing:
        best = max(passing, key=lambda i: row[i])
    else:
        free = [i for i, lab in enumerate(labels) if lab not in thresholds]
        best = max(free, key=lambda i: row[i]) if free else int(np.argmax(row))
    return labels[best], float(row[best])
