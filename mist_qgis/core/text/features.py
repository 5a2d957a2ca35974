"""Text features of normalised posts, one vector per post.

Three feature sets, chosen per store and head:
- `char-ngram`: hashed character 1-3-grams inside words (any script: Latin words and Chinese runs
  alike), L2-normalised, 2**12 buckets. No model file, microseconds per post.
- `minilm`: the English all-MiniLM-L6-v2 sentence embedding through MIST's text-embedding entry
  point (`core/models/text.py`), whatever backend that runs on.
- `multilingual`: a text encoder from the model registry, by its card (`mist.task`
  "text-encoder"): the one named, or else the first whose card lists several languages (a
  multilingual MiniLM or XLM-R export the user carded with models/text_encoder_card.py); nothing
  is fetched. Features are stored under the encoder's tag (id@version).

Which one serves English and Chinese is measured by `scripts/evaluate_text.py` (README).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import options
from ..errors import MistError
from .normalize import NormalizedText

if TYPE_CHECKING:
    import numpy as np
    from scipy import sparse

    from ..models.card import ModelCard
    from ..models.registry import ModelEntry, ModelRegistry

FEATURE_SETS = options.TEXT_FEATURE_SETS.names
DEFAULT_FEATURE_SET = options.TEXT_FEATURE_SETS.default
NGRAM_DIM = 2 ** 12
NGRAM_RANGE = (1, 3)
CHAR_NGRAM_TAG = f"char-ngram-{NGRAM_RANGE[0]}{NGRAM_RANGE[1]}-h{NGRAM_DIM}@2"


class TextFeatureError(MistError, ValueError):
    """A feature set cannot be computed (unknown name, missing encoder folder)."""


def is_multilingual(card: ModelCard) -> bool:
    """An encoder whose card lists more than one language (or "mul", ISO 639's code for many)."""
    return len(set(card.languages)) > 1 or "mul" in card.languages


def resolve_encoder(
    feature_set: str, encoder: str | Path | None = None, registry: ModelRegistry | None = None,
) -> ModelEntry | None:
    """The text encoder a feature set reads (None for char n-grams), looked up once: `minilm` the
    registry's all-MiniLM-L6-v2, `multilingual` the encoder named (id, id@version, .onnx path or
    folder) or else the registry's first multilingual one. A clear error says what is missing."""
    from ..models.text import resolve_text_encoder, text_encoders

    if feature_set == "char-ngram":
        return None
    if feature_set == "minilm":
        return resolve_text_encoder(None, registry)
    if feature_set == "multilingual":
        if encoder:
            return resolve_text_encoder(encoder, registry)
        found = [e for e in text_encoders(registry) if is_multilingual(e.card)]
        if not found:
            raise TextFeatureError(
                "the multilingual feature set needs a multilingual sentence encoder (an XLM-R or multilingual "
                "MiniLM export carded with models/text_encoder_card.py) in the model folders, or an encoder named; "
                "none was found"
            )
        return found[0]
    raise TextFeatureError(f"unknown text feature set {feature_set!r} ({', '.join(FEATURE_SETS)})")


def encoder_path(
    feature_set: str, encoder: str | Path | None = None, registry: ModelRegistry | None = None,
) -> Path | None:
    """The text encoder file a feature set reads (None for char n-grams; see `resolve_encoder`)."""
    entry = resolve_encoder(feature_set, encoder, registry)
    return entry.path if entry is not None else None


def entry_tag(entry: ModelEntry | None) -> str:
    """The model tag features from an encoder (`resolve_encoder`; None: char n-grams) are stored
    and matched under (heads record it)."""
    return entry.card.tag if entry is not None else CHAR_NGRAM_TAG


def feature_tag(feature_set: str, encoder: str | Path | None = None, registry: ModelRegistry | None = None) -> str:
    """The model tag features of a set are stored and matched under: the encoder's card tag, or
    the char n-gram tag."""
    return entry_tag(resolve_encoder(feature_set, encoder, registry))


def hash_ngrams(texts: Sequence[str], dim: int = NGRAM_DIM, ngram_range: tuple[int, int] = NGRAM_RANGE):
    """Hashed character n-grams inside words (a word's edges count: " fl", "od "), counted,
    L2-normalised, as a CSR matrix; vectorised over a whole page with NumPy.

    The same n-grams scikit-learn's `char_wb` analyser makes, hashed by a multiply-xorshift over
    code points into `dim` buckets (a power of two) without a Python loop per n-gram.
    """
    import numpy as np
    from scipy import sparse as sp

    if dim & (dim - 1):
        raise ValueError("the number of hash buckets must be a power of two")
    padded = [f" {' '.join(t.split())} " for t in texts]
    lengths = np.fromiter((len(t) for t in padded), dtype=np.int64, count=len(padded))
    cps = np.frombuffer("\0".join(padded).encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    row = np.repeat(np.arange(len(padded), dtype=np.int64), lengths + 1)[: len(cps)]
    space = cps == 32
    rows, buckets = [], []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        m = len(cps) - n + 1
        if m <= 0:
            continue
        ok = row[:m] == row[n - 1:n - 1 + m]  # inside one post
        all_space = space[:m].copy()
        h = np.full(m, np.uint64(0x9E3779B97F4A7C15 + n), dtype=np.uint64)
        for k in range(n):
            c = cps[k:k + m]
            ok &= c != 0
            if 0 < k < n - 1:
                ok &= ~space[k:k + m]  # a space only at an n-gram's edge: n-grams stay inside words
            if k:
                all_space &= space[k:k + m]
            h = (h ^ c) * np.uint64(0x100000001B3)
        ok &= ~all_space
        h ^= h >> np.uint64(29)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(32)
        rows.append(row[:m][ok])
        buckets.append((h[ok] & np.uint64(dim - 1)).astype(np.int64))
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    b = np.concatenate(buckets) if buckets else np.zeros(0, np.int64)
    counts = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, b)), shape=(len(padded), dim))
    counts.sum_duplicates()
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags((1.0 / norms).astype(np.float32)) @ counts, dtype=np.float32)


def featurize(
    texts: Sequence[NormalizedText], feature_set: str = DEFAULT_FEATURE_SET, encoder: str | Path | None = None,
) -> sparse.csr_matrix | np.ndarray:
    """Feature rows for normalised texts: CSR for char n-grams, dense float32 for encoders.

    `encoder` is what `encoder_path` takes; pass the path it returned to skip the look-up per call."""
    clean = [t.text for t in texts]
    if feature_set == "char-ngram":
        return hash_ngrams(clean)
    from ..models.text import embed_texts

    path = encoder if encoder and str(encoder).endswith(".onnx") else encoder_path(feature_set, encoder)
    return embed_texts(clean, path)


def head_input(rows: sparse.csr_matrix | np.ndarray, feature_set: str) -> sparse.csr_matrix | np.ndarray:
    """What heads train on: hashed n-grams stay sparse, embeddings are dense rows."""
    return rows.tocsr() if feature_set == "char-ngram" and hasattr(rows, "tocsr") else dense(rows)


def dense(rows: sparse.csr_matrix | np.ndarray) -> np.ndarray:
    """Heads read dense float32 rows."""
    import numpy as np

    if hasattr(rows, "toarray"):
        return rows.toarray().astype(np.float32, copy=False)
    return np.asarray(rows, dtype=np.float32)
