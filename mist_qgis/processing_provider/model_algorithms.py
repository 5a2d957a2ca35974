"""Screening algorithms: classify a store's photos, train a head from verifications, suggest what
to verify next, predict a few image files, list the registered models. Thin over core.models."""

from __future__ import annotations

import json
import shutil
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
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..core import options
from ..i18n import QT_TR_NOOP, tr
from .base import MistAlgorithm

GROUP = QT_TR_NOOP("Screening")


@contextmanager
def _user_errors():
    """A model file that is not there is the user's mistake too (every `MistError` already
    becomes one line in `MistAlgorithm`)."""
    try:
        yield
    except FileNotFoundError as exc:
        raise QgsProcessingException(str(exc)) from exc


def _resolve(ref: str) -> Path:
    from ..model_folders import registry

    if not ref:
        raise QgsProcessingException(tr("No model given: a model id, id@version or .onnx file."))
    return registry().resolve(ref).path


def metrics_lines(metrics) -> list[str]:
    """Cross-validated metrics in words, percent, one line each (the log of Train screening head)."""
    pct = lambda v: f"{100 * v:.0f} %"  # noqa: E731
    lines = [tr("{n} verified photos, {k}-fold cross-validation: accuracy {a}, macro F1 {f}").format(
        n=metrics.n_examples, k=metrics.folds, a=pct(metrics.accuracy), f=pct(metrics.macro_f1))]
    for label, m in metrics.per_label.items():
        lines.append(tr("  {label}: precision {p}, recall {r} ({n} photos)").format(
            label=label, p=pct(m.precision), r=pct(m.recall), n=m.support))
    if metrics.threshold is not None and metrics.at_threshold is not None:
        m = metrics.at_threshold
        lines.append(tr("Calibrated threshold for {label}: {t:.2f} (precision {p}, recall {r})").format(
            label=metrics.positive_label, t=metrics.threshold, p=pct(m.precision), r=pct(m.recall)))
    return lines


def model_parameter(name: str, description: str, tasks: tuple[str, ...] = (), default: str | None = None,
                    optional: bool = False):
    """A model as text (id, id@version or .onnx path); dialogs show it as a choice of the models
    MIST knows, with "Add a model…" beside it."""
    param = QgsProcessingParameterString(name, description, defaultValue=default, optional=optional)
    param.setMetadata({"widget_wrapper": {"class": "mist_qgis.gui.model_param.ModelChoiceWrapper",
                                          "tasks": list(tasks)}})
    return param


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
        "the reason recorded. A head whose training showed no skill beyond chance is refused unless allowed."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(model_parameter("MODEL", tr("Model"), ("classify", "head", "multimodal")))
        self.addParameter(QgsProcessingParameterNumber(
            "BATCH_SIZE", tr("Batch size"), QgsProcessingParameterNumber.Type.Integer, 32, minValue=1, maxValue=1024))
        self.addParameter(QgsProcessingParameterNumber(
            "TOP_K", tr("Labels kept per photo"), QgsProcessingParameterNumber.Type.Integer, 5, minValue=1))
        self.addParameter(QgsProcessingParameterBoolean(
            "ALLOW_NO_SKILL", tr("Screen even with a head that showed no skill"), defaultValue=False))
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
                k=self.parameterAsInt(parameters, "TOP_K", context), is_cancelled=feedback.isCanceled,
                progress=feedback.setProgress, resolve_model=lambda ref: reg.resolve(ref).path,
                allow_no_skill=self.parameterAsBoolean(parameters, "ALLOW_NO_SKILL", context),
            )
        for warning in result.warnings:
            feedback.pushWarning(warning)
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
        "Reports cross-validated precision, recall and F1 over repeated splits with their spread and a "
        "calibrated threshold, and writes the head as an ONNX model that 'Classify photos' runs and other teams "
        "can import. A permutation test compares the cross-validated AUC with the same cross-validation on "
        "shuffled labels: a head without skill beyond chance is written marked 'no skill', without a tuned "
        "threshold, and 'Classify photos' refuses it unless allowed."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(model_parameter("BACKBONE", tr("Image embedding model"), ("classify", "embed"),
                                          default="efficientnet-lite0", optional=True))
        self.add_choice("FEATURES", tr("Features"), options.HEAD_FEATURES)
        self.add_choice("LABELS", tr("Labels"), options.LABEL_SCHEMES)
        self.addParameter(QgsProcessingParameterString(
            "DEPTH_BINS", tr("Water depth class limits (m)"), defaultValue="0.3,1.0", optional=True))
        self.add_choice("KIND", tr("Head"), options.HEAD_KINDS)
        self.addParameter(QgsProcessingParameterString("MODEL_ID", tr("Model id"), defaultValue="flood-head"))
        # Skipped by default: the head then goes into MIST's model folder under its id, where every
        # model choice finds it at once.
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT", tr("Also save the head as"), tr("ONNX model (*.onnx)"), optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputString("METRICS", tr("Cross-validated metrics (JSON)")))
        self.addOutput(QgsProcessingOutputString("MODEL", tr("Head model id@version")))
        self.addOutput(QgsProcessingOutputString("SKILL", tr("Skill beyond chance, in one line")))
        self.addOutput(QgsProcessingOutputNumber("USABLE", tr("Usable for screening (1) or no skill (0)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.models.embeddings import embed_photos
        from ..core.models.heads import train_head_from_store
        from ..core.models.runtime import load_model
        from ..core.models.text import TEXT_MODEL_TAG, embed_post_texts
        from ..model_folders import profile_models_dir

        features = self.choice(parameters, "FEATURES", context)
        scheme = self.choice(parameters, "LABELS", context)
        kind = self.choice(parameters, "KIND", context)
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
                embed_photos(store, backbone, is_cancelled=feedback.isCanceled, progress=feedback.setProgress)
            if features in ("text", "image+text"):
                feedback.pushInfo(tr("Embedding post texts"))
                embed_post_texts(store, _resolve(TEXT_MODEL_TAG), is_cancelled=feedback.isCanceled)
            if feedback.isCanceled():
                raise QgsProcessingException(tr("Cancelled before training"))
            in_registry = profile_models_dir() / "heads" / f"{model_id}.onnx"
            result = train_head_from_store(
                store, str(in_registry), image_tag, TEXT_MODEL_TAG if features != "image" else None, features,
                scheme, kind, bins or (0.3, 1.0), model_id=model_id,
            )
        if out:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(result.path, out)
        for line in metrics_lines(result.metrics):
            feedback.pushInfo(line)
        feedback.pushInfo(tr("Saved as model {tag}: choose it in Classify photos.").format(tag=result.card.tag))
        metrics = result.metrics.as_dict()
        if result.usable:
            feedback.pushInfo(result.summary())
        else:
            feedback.pushWarning(result.summary())
        return {"OUTPUT": out or str(result.path), "MODEL": result.card.tag, "METRICS": json.dumps(metrics),
                "SKILL": result.summary(), "USABLE": int(result.usable)}


class NextToVerifyAlgorithm(ScreeningAlgorithm):
    _name = "nexttoverify"
    _display_name = QT_TR_NOOP("Suggest photos to verify next")
    _short_help = QT_TR_NOOP(
        "Lists unverified photos the head is least sure about, mixed with a random sample so that precision "
        "estimated from verified photos stays honest."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(model_parameter("MODEL", tr("Head model"), ("head",)))
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
        self.addParameter(model_parameter("MODEL", tr("Model")))
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

        images = self.lines(parameters, "IMAGES", context)
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
