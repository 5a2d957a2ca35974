"""The project store: one GeoPackage file that every MIST stage reads and writes through.

Stages never talk to each other, only to the store (the screening paper's database-centred
design): each picks the rows that are not yet done and writes its results back in per-batch
transactions, so a stage that fails or is cancelled loses at most the batch in flight and never
stops the others. Everything that touches SQL lives behind `Store`, so another backend can
follow without touching the stages.
"""

from __future__ import annotations

import os

from .pg import is_postgres_target, open_pg_store
from .schema import LATEST_VERSION
from .store import Store, StoreError, StoreVersionError, open_gpkg_store


def open_store(
    path: str | os.PathLike[str], create: bool = True, read_only: bool = False,
    target_version: int = LATEST_VERSION,
) -> Store:
    """Open (and create or migrate) a store: a GeoPackage path, or a team store on PostgreSQL
    (`postgresql://...`, `service=NAME`, a key=value conninfo). `target_version` exists for
    migration tests."""
    if is_postgres_target(path):
        return open_pg_store(str(path), create=create, read_only=read_only, target_version=target_version)
    return open_gpkg_store(path, create=create, read_only=read_only, target_version=target_version)


__all__ = ["Store", "StoreError", "StoreVersionError", "open_store"]
