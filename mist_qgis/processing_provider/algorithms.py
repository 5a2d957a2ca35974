"""Every algorithm of the `mist` provider, listed once. A new capability adds its class here."""

from __future__ import annotations

from .media_algorithms import FetchMediaAlgorithm
from .model_algorithms import (
    ClassifyMediaAlgorithm,
    ListModelsAlgorithm,
    NextToVerifyAlgorithm,
    PredictImagesAlgorithm,
    TrainHeadAlgorithm,
)
from .raster_algorithms import EvaluateSeloAlgorithm, InundationAlgorithm, PostDensityAlgorithm, SeloAlgorithm
from .store_algorithms import CreateStoreAlgorithm, StoreInfoAlgorithm
from .verify_algorithms import ExportVerifiedAlgorithm

ALGORITHM_CLASSES = [
    FetchMediaAlgorithm,
    CreateStoreAlgorithm,
    StoreInfoAlgorithm,
    ExportVerifiedAlgorithm,
    PostDensityAlgorithm,
    SeloAlgorithm,
    EvaluateSeloAlgorithm,
    InundationAlgorithm,
    ClassifyMediaAlgorithm,
    TrainHeadAlgorithm,
    NextToVerifyAlgorithm,
    PredictImagesAlgorithm,
    ListModelsAlgorithm,
]
