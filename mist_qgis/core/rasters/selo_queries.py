"""What a semantic localization map looks for: a caption, exemplars, or a trained patch head.

Each query turns window embeddings into one score per window; the map then averages, normalises
and smooths those scores, so any monotone score works (cosine similarity, a probability).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .encoders import EncoderError, TextEncoder, exemplar_vector, l2_normalize

CHAOTIC_SHUFFLES = 4


def cosine_scores(embeddings: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row with the query (SeLo's mean elementwise product x D)."""
    q = l2_normalize(np.asarray(query, np.float32).reshape(-1))
    if embeddings.shape[1] != q.shape[0]:
        raise EncoderError(
            f"the query has {q.shape[0]} dimensions but the image embeddings {embeddings.shape[1]}: "
            "use the image and text encoders of the same model"
        )
    return (l2_normalize(embeddings) @ q).astype(np.float64)


def chaotic_text_vector(encoder: TextEncoder, caption: str, shuffles: int = CHAOTIC_SHUFFLES,
                        seed: int = 0) -> np.ndarray:
    """SeLo v2's "chaotic self-feeding": the caption plus 4 word-order shuffles, summed / 5."""
    words = caption.split()
    rng = np.random.default_rng(seed)
    texts = [caption] + [" ".join(rng.permutation(words).tolist()) for _ in range(shuffles)]
    emb = encoder.encode_text(texts)
    return emb.sum(axis=0) / len(texts)


class Query(ABC):
    """A query: `kind` for the record and `scores(embeddings, version)` for the map."""

    kind = "query"
    description = ""

    @abstractmethod
    def scores(self, embeddings: np.ndarray, version: str) -> np.ndarray:
        """One similarity per window embedding."""


@dataclass
class TextQuery(Query):
    """A caption embedded by a CLIP-style text encoder; v2 uses the chaotic self-fed vector."""

    encoder: TextEncoder
    caption: str
    seed: int = 0
    kind: str = "text"
    _vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.caption.strip():
            raise EncoderError("the text query is empty")
        self.description = self.caption.strip()

    def vector(self, version: str) -> np.ndarray:
        if version not in self._vectors:
            if version == "v2":
                self._vectors[version] = chaotic_text_vector(self.encoder, self.caption, seed=self.seed)
            else:
                self._vectors[version] = self.encoder.encode_text([self.caption])[0]
        return self._vectors[version]

    def scores(self, embeddings: np.ndarray, version: str) -> np.ndarray:
        return cosine_scores(embeddings, self.vector(version))


@dataclass
class VectorQuery(Query):
    """An exemplar query: the mean direction of embeddings of photos or boxes the analyst picked."""

    vector: np.ndarray
    kind: str = "exemplar"
    description: str = ""

    @classmethod
    def from_embeddings(cls, embeddings: np.ndarray, description: str = "") -> VectorQuery:
        return cls(exemplar_vector(embeddings), description=description)

    def scores(self, embeddings: np.ndarray, version: str) -> np.ndarray:
        return cosine_scores(embeddings, self.vector)


@dataclass
class HeadQuery(Query):
    """A few-shot patch head: logistic regression on embeddings of boxes the analyst labelled."""

    model: object
    kind: str = "head"
    description: str = ""

    @classmethod
    def train(cls, embeddings: np.ndarray, labels: Sequence[int], description: str = "") -> HeadQuery:
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(labels, dtype=int)
        if len(y) != len(embeddings):
            raise EncoderError("one label per labelled box is needed")
        if set(np.unique(y)) != {0, 1}:
            raise EncoderError("a patch head needs at least one positive and one negative box")
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
        model.fit(l2_normalize(embeddings), y)
        n_pos = int(y.sum())
        return cls(model, description=description or f"{n_pos} positive, {len(y) - n_pos} negative boxes")

    def scores(self, embeddings: np.ndarray, version: str) -> np.ndarray:
        return self.model.predict_proba(l2_normalize(embeddings))[:, 1].astype(np.float64)
