"""Text screening algorithms: screen every post's text (photo or not) and train text heads from
the analysts' post categories. Thin over `core/text/screen.py`."""

from __future__ import annotations

import json
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
)

from ..core import options
from ..i18n import QT_TR_NOOP, tr
from .base import MistAlgorithm
from .model_algorithms import _user_errors


class TextAlgorithm(MistAlgorithm):
    _group = QT_TR_NOOP("Text screening")

    def add_feature_parameters(self) -> None:
        from .model_algorithms import model_parameter

        self.add_choice("FEATURES", tr("Text features"), options.TEXT_FEATURE_SETS)
        self.addParameter(model_parameter(
            "ENCODER", tr("Text encoder for the multilingual features (empty: the first multilingual one)"),
            ("text-encoder",), optional=True))

    def feature_choice(self, parameters: dict, context: QgsProcessingContext) -> tuple[str, str | None]:
        """The feature set and the encoder file it reads, looked up in the plugin's model folders."""
        from ..core.text.features import encoder_path
        from ..model_folders import registry

        features = self.choice(parameters, "FEATURES", context)
        ref = self.parameterAsString(parameters, "ENCODER", context) or None
        with _user_errors():
            path = encoder_path(features, ref, registry())
        return features, str(path) if path else None


class ScreenTextAlgorithm(TextAlgorithm):
    _name = "screentext"
    _display_name = QT_TR_NOOP("Screen post text")
    _short_help = QT_TR_NOOP(
        "Screens the text of every post, with or without a photo: stores its text features under the post and "
        "gives it categories from the text heads in a folder, or from the keyword rules where no head exists "
        "(shown as 'keyword rule'). Posts with no text (empty, only a link or only emoji) are marked 'no text' "
        "and never counted as negatives. The posts layer shows the result in text_categories, "
        "text_category_source and text_confidence. A text head whose training showed no skill beyond chance is "
        "refused unless allowed. The multilingual features read a text encoder from the model folders: the one "
        "chosen, else the first whose model card lists several languages."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.add_feature_parameters()
        self.addParameter(QgsProcessingParameterFile(
            "HEADS", tr("Text heads folder (empty: keyword rules)"), QgsProcessingParameterFile.Behavior.Folder,
            optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            "ALLOW_NO_SKILL", tr("Screen even with a text head whose training showed no skill beyond chance"),
            defaultValue=False))
        self.addOutput(QgsProcessingOutputString("COUNTS", tr("Counts (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.text.screen import screen_texts

        features, encoder = self.feature_choice(parameters, context)
        heads = self.parameterAsFile(parameters, "HEADS", context) or None
        with _user_errors(), self.open_store_or_fail(self.parameterAsFile(parameters, "STORE", context)) as store:
            result = screen_texts(store, features, heads, encoder, is_cancelled=feedback.isCanceled,
                                  progress=feedback.setProgress,
                                  allow_no_skill=self.parameterAsBoolean(parameters, "ALLOW_NO_SKILL", context))
        for warning in result.warnings:
            feedback.reportError(warning, fatalError=False)
        summary = {"run_id": result.run_id, "status": result.status, "features": result.feature_model,
                   **result.counts, "categories": result.per_category}
        if result.warnings:
            summary["warnings"] = result.warnings
        feedback.pushInfo(json.dumps(summary, ensure_ascii=False))
        return {"COUNTS": json.dumps(summary, ensure_ascii=False)}


class TrainTextHeadAlgorithm(TextAlgorithm):
    _name = "traintexthead"
    _display_name = QT_TR_NOOP("Train text heads from post categories")
    _short_help = QT_TR_NOOP(
        "Trains one head per category on the text features of the posts analysts have categorised (a post may "
        "hold several categories). Reports cross-validated precision, recall and F1 and a calibrated threshold "
        "per category, and writes text-<category>.onnx files into the output folder for 'Screen post text'. Each "
        "head is tested against shuffled labels: a head without skill beyond chance is written marked 'no skill', "
        "without a tuned threshold, and is not used to screen unless allowed."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.add_feature_parameters()
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", tr("Text heads folder")))
        self.addOutput(QgsProcessingOutputString("METRICS", tr("Cross-validated metrics per category (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.text.screen import screen_texts, train_text_heads

        features, encoder = self.feature_choice(parameters, context)
        out = self.parameterAsString(parameters, "OUTPUT", context)
        with _user_errors(), self.open_store_or_fail(self.parameterAsFile(parameters, "STORE", context)) as store:
            from ..core.store.text_sql import load_features
            from ..core.text.features import feature_tag

            if not len(load_features(store, feature_tag(features, encoder))[0]):
                feedback.pushInfo(tr("Computing text features first"))
                screen_texts(store, features, None, encoder, is_cancelled=feedback.isCanceled)
            result = train_text_heads(store, out, features, encoder)
        summary = {"macro_f1": round(result.macro_f1, 4), "per_category": result.metrics,
                   "skipped": result.skipped, "without_skill": result.without_skill,
                   "labelled_posts": result.labelled_posts,
                   "heads": [str(p) for p in result.paths]}
        feedback.pushInfo(json.dumps(summary, indent=2, ensure_ascii=False))
        return {"OUTPUT": out, "METRICS": json.dumps(summary, ensure_ascii=False)}


class TextCategoriesAlgorithm(TextAlgorithm):
    _name = "textcategories"
    _display_name = QT_TR_NOOP("Post categories and keyword rules")
    _short_help = QT_TR_NOOP(
        "Lists the store's post categories with their keyword rules, or replaces them from a CSV table with the "
        "columns name, title and keywords (separated by ';'), one category per row in desk order. Analysts' "
        "labels and earlier results are kept; screen the text again to apply new keyword rules."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterFile(
            "INPUT", tr("Category table (CSV; empty: list only)"), extension="csv", optional=True))
        self.addOutput(QgsProcessingOutputString("CATEGORIES", tr("Categories (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.text.categories import load_categories, read_category_table, save_categories

        table = self.parameterAsFile(parameters, "INPUT", context)
        with _user_errors(), self.open_store_or_fail(self.parameterAsFile(parameters, "STORE", context)) as store:
            if table:
                save_categories(store, read_category_table(table))
            cats = [{"name": c.name, "title": c.title, "keywords": list(c.keywords)} for c in load_categories(store)]
        return {"CATEGORIES": json.dumps(cats, ensure_ascii=False)}


class NextPostsToLabelAlgorithm(TextAlgorithm):
    _name = "nextpoststolabel"
    _display_name = QT_TR_NOOP("Suggest posts to categorise next")
    _short_help = QT_TR_NOOP(
        "Lists posts not yet categorised by an analyst that some text head is least sure about, mixed with a "
        "random sample so that precision estimated from labelled posts stays honest."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterFile("HEADS", tr("Text heads folder"),
                                                     QgsProcessingParameterFile.Behavior.Folder))
        self.addParameter(QgsProcessingParameterNumber(
            "COUNT", tr("Number of posts"), QgsProcessingParameterNumber.Type.Integer, 20, minValue=1))
        self.addOutput(QgsProcessingOutputString("SUGGESTIONS", tr("Suggestions (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from dataclasses import asdict

        from ..core.text.screen import next_posts_to_label

        heads = self.parameterAsFile(parameters, "HEADS", context)
        n = self.parameterAsInt(parameters, "COUNT", context)
        with _user_errors(), self.open_store_or_fail(self.parameterAsFile(parameters, "STORE", context)) as store:
            out = [asdict(s) for s in next_posts_to_label(store, heads, n)]
        return {"SUGGESTIONS": json.dumps(out)}
