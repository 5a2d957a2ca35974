"""The project store: one GeoPackage file that every MIST stage reads and writes through.

Stages never talk to each other, only to the store (the screening paper's database-centred
design): each picks the rows that are not yet done and writes its results back in per-batch
transactions, so a stage that fails or is cancelled loses at most the batch in flight and never
stops the others. Everything that touches SQL lives behind `Store`, so another backend can
follow without touching the stages.
"""

from .store import Store, StoreError, StoreVersionError, open_store

__all__ = ["Store", "StoreError", "StoreVersionError", "open_store"]
