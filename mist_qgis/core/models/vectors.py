"""Row normalisation shared by the heads' feature matrices and the retrieval index (numpy only,
so the index can use it without importing the embedding step that feeds the index)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def l2_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length (float32): cosine similarity becomes a dot product."""
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
