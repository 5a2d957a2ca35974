"""Every algorithm of the `mist` provider, listed once. A new capability adds its class here."""

from __future__ import annotations

from .store_algorithms import CreateStoreAlgorithm, StoreInfoAlgorithm

ALGORITHM_CLASSES = [
    CreateStoreAlgorithm,
    StoreInfoAlgorithm,
]
