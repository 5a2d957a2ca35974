"""Text features of normalised posts, one vector per post.

Three feature sets, chosen per store and head:
- `char-ngram`: hashed character 1-3-grams inside words (any script: Latin words and Chinese runs
  alike), L2-normalised, 2**12 buckets. No model file, microseconds per post.
- `minilm`: the English all-MiniLM-L6-v2 sentence embedding through MIST's text-embedding entry
  point (`core/models/text.py`), whatever backend that runs on.
- `multilingual`: a multilingual sentence encoder the user supplies as a local folder (an XLM-R or
  multilingual MiniLM export), through the same entry point; nothing is fetched.

Which one serves English and Chinese is measured by `scripts/evaluate_text.py` (README).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MistError
from .normalize import NormalizedText

if TYPE_CHECKING:
    import numpy as np
    from scipy import sparse

FEATURE_SETS = ("char-ngram", "minilm", "multilingual")
DEFAULT_FEATURE_SET = "char-ngram"
NGRAM_DIM = 2 ** 12
NGRAM_RANGE = (1, 3)
CHAR_NGRAM_TAG = f"char-ngram-{NGRAM_RANGE[0]}{NGRAM_RANGE[1]}-h{NGRAM_DIM}@1"


class TextFeatureError(MistError, ValueError):
    """A feature set cannot be computed (unknown name, missing encoder folder)."""


def feature_tag(feature_set: str, model_dir: str | Path | None = None) -> str:
    """The model tag features of a set are stored and matched under (heads record it)."""
    if feature_set == "char-ngram":
        return CHAR_NGRAM_TAG
    if feature_set == "minilm":
        from ..models.text import TEXT_MODEL_TAG

        return TEXT_MODEL_TAG
    if feature_set == "multilingual":
        if not model_dir or not Path(model_dir).is_dir():
            raise TextFeatureError(
                "the multilingual feature set needs the folder of a multilingual sentence encoder "
                "(an XLM-R or multilingual MiniLM export); none was given or it does not exist"
            )
        return f"multilingual:{Path(model_dir).name}@1"
    raise TextFeatureError(f"unknown text feature set {feature_set!r} ({', '.join(FEATURE_SETS)})")


_vectorizer = None


def _hashing():
    global _vectorizer
    if _vectorizer is None:
        import numpy as np
        from sklearn.feature_extraction.text import HashingVectorizer

        _vectorizer = HashingVectorizer(
            analyzer="char_wb", ngram_range=NGRAM_RANGE, n_features=NGRAM_DIM, alternate_sign=False,
            norm="l2", lowercase=False, dtype=np.float32,
        )
    return _vectorizer


def featurize(
    texts: Sequence[NormalizedText], feature_set: str = DEFAULT_FEATURE_SET, model_dir: str | Path | None = None,
) -> sparse.csr_matrix | np.ndarray:
    """Feature rows for normalised texts: CSR for char n-grams, dense float32 for encoders."""
    feature_tag(feature_set, model_dir)  # validates the name and folder
    clean = [t.text for t in texts]
    if feature_set == "char-ngram":
        return _hashing().transform(clean)
    from ..models.text import embed_texts

    return embed_texts(clean, model_dir if feature_set == "multilingual" else None)


def dense(rows: sparse.csr_matrix | np.ndarray) -> np.ndarray:
    """Heads read dense float32 rows."""
    import numpy as np

    if hasattr(rows, "toarray"):
        return rows.toarray().astype(np.float32, copy=False)
    return np.asarray(rows, dtype=np.float32)
