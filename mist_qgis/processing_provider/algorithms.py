"""Every algorithm of the `mist` provider, listed once. A new capability adds its class here."""

from __future__ import annotations

from .field_algorithms import FieldPackageAlgorithm, ImportFieldAlgorithm
from .geoloc_algorithms import (
    EvaluateGeolocationAlgorithm,
    GeolocatePhotosAlgorithm,
    ImportReferencesAlgorithm,
    RefitConfidenceAlgorithm,
)
from .import_algorithm import ImportPostsAlgorithm
from .live_algorithms import WatchAlgorithm
from .media_algorithms import FetchMediaAlgorithm
from .model_algorithms import (
    ClassifyMediaAlgorithm,
    ListModelsAlgorithm,
    NextToVerifyAlgorithm,
    PredictImagesAlgorithm,
    TrainHeadAlgorithm,
)
from .raster_algorithms import EvaluateSeloAlgorithm, InundationAlgorithm, PostDensityAlgorithm, SeloAlgorithm
from .retrieval_algorithms import RetrievalGeolocationAlgorithm
from .store_algorithms import CheckoutStoreAlgorithm, CreateStoreAlgorithm, PushStoreAlgorithm, StoreInfoAlgorithm
from .text_algorithms import (
    NextPostsToLabelAlgorithm,
    ScreenTextAlgorithm,
    TextCategoriesAlgorithm,
    TrainTextHeadAlgorithm,
)
from .verdict_algorithms import ImportVerificationsAlgorithm
from .verify_algorithms import ExportVerifiedAlgorithm

ALGORITHM_CLASSES = [
    ImportPostsAlgorithm,
    FetchMediaAlgorithm,
    CreateStoreAlgorithm,
    StoreInfoAlgorithm,
    PushStoreAlgorithm,
    CheckoutStoreAlgorithm,
    ExportVerifiedAlgorithm,
    ImportVerificationsAlgorithm,
    PostDensityAlgorithm,
    SeloAlgorithm,
    EvaluateSeloAlgorithm,
    InundationAlgorithm,
    ClassifyMediaAlgorithm,
    TrainHeadAlgorithm,
    NextToVerifyAlgorithm,
    PredictImagesAlgorithm,
    ListModelsAlgorithm,
    ImportReferencesAlgorithm,
    GeolocatePhotosAlgorithm,
    EvaluateGeolocationAlgorithm,
    RetrievalGeolocationAlgorithm,
    RefitConfidenceAlgorithm,
    WatchAlgorithm,
    FieldPackageAlgorithm,
    ImportFieldAlgorithm,
    ScreenTextAlgorithm,
    TrainTextHeadAlgorithm,
    NextPostsToLabelAlgorithm,
    TextCategoriesAlgorithm,
]
