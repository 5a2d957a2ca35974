"""Screening algorithms: classify a store's photos, train a head from verifications, suggest what
to verify next, predict a few image files, list the registered models. Thin over core.models."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..i18n import QT_TR_NOOP, tr
from .base import MistAlgorithm

GROUP = QT_TR_NOOP("Screening")
FEATURES = ["image", "text", "image+text"]
SCHEMES = ["verdict", "depth", "note"]
KINDS = ["logreg", "mlp"]


@contextmanager
def _user_errors():
    """Errors a user can fix become Processing errors with their message, not tracebacks."""
    from ..core.dependencies import MissingDependencyError
    from ..core.models.card import ModelCardError
    from ..core.models.export import CheckpointError
    from ..core.models.heads import HeadTrainingError
    from ..core.models.registry import ModelNotFoundError, ModelPackError

    try:
        yield
    except (ModelCardError, ModelNotFoundError, ModelPackError, HeadTrainingError, CheckpointError,
            MissingDependencyError, FileNotFoundError) as exc:
        raise QgsProcessingException(str(exc)) from exc


def _resolve(ref: str) -> Path:
    from ..model_folders import registry

    if not ref:
        raise QgsProcessingException(tr("No model given: a model id, id@version or .onnx file."))
    return registry().resolve(ref).path


def _progress(feedback: QgsProcessingFeedback):
    def report(done: int, total: int) -> None:
        feedback.setProgress(100.0 * done / total if total else 100.0)

    return report


class ScreeningAlgorithm(MistAlgorithm):
    _group = GROUP


class ClassifyMediaAlgorithm(ScreeningAlgorithm):
    _name = "classifymedia"
    _display_name = QT_TR_NOOP("Classify photos")
    _short_help = QT_TR_NOOP(
        "Runs an ONNX classifier or a trained head over every fetched photo of the store that has no "
        "prediction from this model yet (resumable). Writes the top labels per photo, the post's label, "
        "and embeddings when the model has them. An image+text model (multimodal crisis classifier) reads each "
        "photo with its post's text, using the tokenizer exported beside it. Unreadable photos are skipped with "
        "the reason recorded."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterString("MODEL", tr("Model (id, id@version or .onnx path)")))
        self.addParameter(QgsProcessingParameterNumber(
            "BATCH_SIZE", tr("Batch size"), QgsProcessingParameterNumber.Type.Integer, 32, minValue=1, maxValue=1024))
        self.addParameter(QgsProcessingParameterNumber(
            "TOP_K", tr("Labels kept per photo"), QgsProcessingParameterNumber.Type.Integer, 5, minValue=1))
        for name, label in (("CLASSIFIED", tr("Photos classified")), ("SKIPPED", tr("Photos skipped")),
                            ("RUN_ID", tr("Run id"))):
            self.addOutput(QgsProcessingOutputNumber(name, label))
        self.addOutput(QgsProcessingOutputString("RESULT", tr("Result (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.models.classify import classify_store
        from ..model_folders import registry

        store_path = self.parameterAsFile(parameters, "STORE", context)
        with _user_errors(), self.open_store_or_fail(store_path) as store:
            model = _resolve(self.parameterAsString(parameters, "MODEL", context))
            reg = registry()
            result = classify_store(
                store, model, batch_size=self.parameterAsInt(parameters, "BATCH_SIZE", context),
                k=self.parameterAsInt(parameters, "TOP_K", context), cancel=feedback.isCanceled,
                progress=_progress(feedback), resolve_model=lambda ref: reg.resolve(ref).path,
            )
        feedback.pushInfo(tr("{model}: {notice}").format(model=result.model, notice=result.notice))
        feedback.pushInfo(tr("{n} photos classified, {s} skipped").format(n=result.classified, s=result.skipped))
        return {"CLASSIFIED": result.classified, "SKIPPED": result.skipped, "RUN_ID": result.run_id,
                "RESULT": json.dumps(asdict(result))}


class TrainHeadAlgorithm(ScreeningAlgorithm):
    _name = "trainhead"
    _display_name = QT_TR_NOOP("Train screening head from verifications")
    _short_help = QT_TR_NOOP(
        "Trains a class-balanced head (logistic regression or small MLP) on the analysts' verified photos, "
        "using cached embeddings of a backbone model and/or of the post text (computed first where missing). "
        "Reports cross-validated precision, recall and F1 and a calibrated threshold, and writes the head as "
        "an ONNX model that 'Classify photos' runs and other teams can import."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterString(
            "BACKBONE", tr("Image embedding model"), defaultValue="efficientnet-lite0", optional=True))
        self.addParameter(QgsProcessingParameterEnum("FEATURES", tr("Features"), FEATURES, defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum("LABELS", tr("Labels"), SCHEMES, defaultValue=0))
        self.addParameter(QgsProcessingParameterString(
            "DEPTH_BINS", tr("Water depth class limits (m)"), defaultValue="0.3,1.0", optional=True))
        self.addParameter(QgsProcessingParameterEnum("KIND", tr("Head"), KINDS, defaultValue=0))
        self.addParameter(QgsProcessingParameterString("MODEL_ID", tr("Model id"), defaultValue="flood-head"))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT", tr("Head model"), tr("ONNX model (*.onnx)"), optional=True))
        self.addOutput(QgsProcessingOutputString("METRICS", tr("Cross-validated metrics (JSON)")))
        self.addOutput(QgsProcessingOutputString("MODEL", tr("Head model id@version")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.models.embeddings import embed_photos
        from ..core.models.heads import train_head_from_store
        from ..core.models.runtime import load_model
        from ..core.models.text import TEXT_MODEL_TAG, embed_post_texts
        from ..model_folders import profile_models_dir

        features = FEATURES[self.parameterAsEnum(parameters, "FEATURES", context)]
        scheme = SCHEMES[self.parameterAsEnum(parameters, "LABELS", context)]
        kind = KINDS[self.parameterAsEnum(parameters, "KIND", context)]
        model_id = self.parameterAsString(parameters, "MODEL_ID", context).strip() or "flood-head"
        try:
            bins = [float(b) for b in self.parameterAsString(parameters, "DEPTH_BINS", context).split(",") if b.strip()]
        except ValueError as exc:
            raise QgsProcessingException(tr("Depth class limits must be numbers such as 0.3,1.0")) from exc
        out = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        store_path = self.parameterAsFile(parameters, "STORE", context)
        with _user_errors(), self.open_store_or_fail(store_path) as store:
            image_tag = None
            if features in ("image", "image+text"):
                backbone = _resolve(self.parameterAsString(parameters, "BACKBONE", context))
                image_tag = load_model(backbone).card.tag
                feedback.pushInfo(tr("Embedding photos with {m}").format(m=image_tag))
                embed_photos(store, backbone, cancel=feedback.isCanceled, progress=_progress(feedback))
            if features in ("text", "image+text"):
                feedback.pushInfo(tr("Embedding post texts"))
                embed_post_texts(store, _resolve(TEXT_MODEL_TAG), cancel=feedback.isCanceled)
            if feedback.isCanceled():
                raise QgsProcessingException(tr("Cancelled before training"))
            if not out:
                out = str(profile_models_dir() / "heads" / f"{model_id}.onnx")
            result = train_head_from_store(
                store, out, image_tag, TEXT_MODEL_TAG if features != "image" else None, features, scheme, kind,
                bins or (0.3, 1.0), model_id=model_id,
            )
        metrics = result.metrics.as_dict()
        feedback.pushInfo(json.dumps(metrics, indent=2))
        return {"OUTPUT": str(result.path), "MODEL": result.card.tag, "METRICS": json.dumps(metrics)}


class NextToVerifyAlgorithm(ScreeningAlgorithm):
    _name = "nexttoverify"
    _display_name = QT_TR_NOOP("Suggest photos to verify next")
    _short_help = QT_TR_NOOP(
        "Lists unverified photos the head is least sure about, mixed with a random sample so that precision "
        "estimated from verified photos stays honest."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterString("MODEL", tr("Head model (id, id@version or .onnx path)")))
        self.addParameter(QgsProcessingParameterNumber(
            "COUNT", tr("Number of photos"), QgsProcessingParameterNumber.Type.Integer, 20, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(
            "RANDOM_SHARE", tr("Share of random photos"), QgsProcessingParameterNumber.Type.Double, 0.25,
            minValue=0.0, maxValue=1.0))
        self.addOutput(QgsProcessingOutputString("SUGGESTIONS", tr("Suggestions (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.models.heads import next_to_verify

        store_path = self.parameterAsFile(parameters, "STORE", context)
        with _user_errors(), self.open_store_or_fail(store_path) as store:
            model = _resolve(self.parameterAsString(parameters, "MODEL", context))
            picks = next_to_verify(store, model, self.parameterAsInt(parameters, "COUNT", context),
                                   self.parameterAsDouble(parameters, "RANDOM_SHARE", context))
        return {"SUGGESTIONS": json.dumps([asdict(p) for p in picks])}


class PredictImagesAlgorithm(ScreeningAlgorithm):
    _name = "predictimages"
    _display_name = QT_TR_NOOP("Classify image files")
    _short_help = QT_TR_NOOP(
        "Top labels and scores of an image model for a few image files (a quick check). An image+text model "
        "reads the given text with every image (no text: the empty text)."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.addParameter(QgsProcessingParameterString("MODEL", tr("Model (id, id@version or .onnx path)")))
        self.addParameter(QgsProcessingParameterString("IMAGES", tr("Image files (one per line)"), multiLine=True))
        self.addParameter(QgsProcessingParameterString(
            "TEXT", tr("Post text for image+text models"), multiLine=True, optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            "TOP_K", tr("Labels per image"), QgsProcessingParameterNumber.Type.Integer, 5, minValue=1))
        self.addOutput(QgsProcessingOutputString("PREDICTIONS", tr("Predictions (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.models.classify import predict_images

        images = [s.strip() for s in self.parameterAsString(parameters, "IMAGES", context).splitlines() if s.strip()]
        if not images:
            raise QgsProcessingException(tr("No image files given"))
        with _user_errors():
            model = _resolve(self.parameterAsString(parameters, "MODEL", context))
            text = self.parameterAsString(parameters, "TEXT", context) or None
            result = predict_images(model, images, self.parameterAsInt(parameters, "TOP_K", context), text=text)
        return {"PREDICTIONS": json.dumps(result)}


class ListModelsAlgorithm(ScreeningAlgorithm):
    _name = "listmodels"
    _display_name = QT_TR_NOOP("List models")
    _short_help = QT_TR_NOOP(
        "Lists the models MIST can use (user folders, the profile's model folder, the build folder) with task, "
        "labels, size and licence, files that are not usable models, and the execution providers available."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.addOutput(QgsProcessingOutputString("MODELS", tr("Models (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.models.runtime import available_providers, preferred_providers
        from ..model_folders import registry

        reg = registry()
        entries = reg.refresh()
        listing = {
            "models": [
                {"id": e.card.id, "version": e.card.version, "tag": e.card.tag, "task": e.card.task,
                 "labels": len(e.card.labels), "first_labels": list(e.card.labels[:5]), "size_bytes": e.size_bytes,
                 "licence": e.card.licence, "origin": e.origin, "path": str(e.path)}
                for e in entries
            ],
            "problems": [{"path": str(p.path), "reason": p.reason} for p in reg.problems],
            "folders": [{"origin": o, "path": str(f), "exists": f.is_dir()} for o, f in reg.folders],
            "providers": {"available": available_providers(), "preferred": preferred_providers()},
        }
        return {"MODELS": json.dumps(listing)}
