"""Window embeddings cached per raster and encoder, so a second query costs one similarity pass.

One SQLite file per (raster identity, encoder id) in a cache folder; the raster identity holds
its path, size, mtime, bands and stretch, so an edited raster never reuses stale embeddings.
Rows are keyed by the window box itself (r0, r1, c0, c1): every layout (v1 scales, v2 tiles and
anchor boxes, boxes the analyst draws) shares the same rows, and a cancelled run resumes where it
stopped because each batch is committed as it is encoded.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import numpy as np


def default_cache_dir() -> Path:
    """`$MIST_CACHE_DIR/selo`, else `~/.cache/mist_qgis/selo`."""
    root = os.environ.get("MIST_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "mist_qgis"
    return base / "selo"


class EmbeddingCache:
    def __init__(self, cache_dir: str | Path, source_key: str, encoder_id: str) -> None:
        self.dir = Path(cache_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(f"{source_key}\n{encoder_id}".encode()).hexdigest()[:32]
        self.path = self.dir / f"windows-{digest}.sqlite"
        self._conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS windows (
                r0 INTEGER NOT NULL, r1 INTEGER NOT NULL, c0 INTEGER NOT NULL, c1 INTEGER NOT NULL,
                vec BLOB NOT NULL, PRIMARY KEY (r0, r1, c0, c1)
            ) WITHOUT ROWID;
            """
        )
        self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('source', ?), ('encoder', ?)", (source_key, encoder_id))
        self._index: dict[tuple[int, int, int, int], bytes] | None = None
        self.dim: int | None = None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load(self) -> dict[tuple[int, int, int, int], bytes]:
        if self._index is None:
            self._index = {
                (r0, r1, c0, c1): vec
                for r0, r1, c0, c1, vec in self._conn.execute("SELECT r0, r1, c0, c1, vec FROM windows")
            }
            if self._index:
                self.dim = len(next(iter(self._index.values()))) // 4
        return self._index

    def __len__(self) -> int:
        return len(self._load())

    def lookup(self, boxes: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """(N x D float32 with rows of found boxes filled, bool mask of missing boxes)."""
        index = self._load()
        found = [index.get(tuple(int(v) for v in b)) for b in boxes]
        missing = np.array([f is None for f in found], dtype=bool)
        if self.dim is None:
            return None, missing
        emb = np.zeros((len(boxes), self.dim), np.float32)
        for i, vec in enumerate(found):
            if vec is not None:
                emb[i] = np.frombuffer(vec, dtype=np.float32)
        return emb, missing

    def store(self, boxes: np.ndarray, embeddings: np.ndarray) -> None:
        """Add a batch of window embeddings in one transaction."""
        emb = np.ascontiguousarray(embeddings, dtype=np.float32)
        if self.dim is None:
            self._load()
            self.dim = self.dim or emb.shape[1]
        if emb.shape[1] != self.dim:
            raise ValueError(f"embedding size {emb.shape[1]} differs from the cached {self.dim}")
        rows = [(int(b[0]), int(b[1]), int(b[2]), int(b[3]), e.tobytes()) for b, e in zip(boxes, emb, strict=True)]
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany("INSERT OR REPLACE INTO windows VALUES (?, ?, ?, ?, ?)", rows)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        index = self._load()
        for r in rows:
            index[r[:4]] = r[4]
