"""`mist:importverifications`: analysts' verdicts from a CSV table into a store (thin over
core.verify.verdict_table)."""

from __future__ import annotations

import json
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFile,
    QgsProcessingParameterString,
)

from ..i18n import QT_TR_NOOP, tr
from .base import MistAlgorithm


class ImportVerificationsAlgorithm(MistAlgorithm):
    _name = "importverifications"
    _display_name = QT_TR_NOOP("Import verifications (CSV)")
    _group = QT_TR_NOOP("Verification")
    _short_help = QT_TR_NOOP(
        "Adds analysts' verdicts from a CSV table (post_id, verdict, water_depth_m, analyst, note; optional "
        "platform) to the store, as if they had been given in the verification dock on the whole post: a "
        "colleague's spreadsheet, an earlier campaign or example verifications to train a screening head. "
        "Rows naming unknown posts, unknown verdicts or impossible depths are reported and skipped; rows "
        "equal to the analyst's latest verdict are not written twice. Depths are metres ('0.5', '50 cm') "
        "or a depth class (ankle, knee, waist, above)."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterFile("INPUT", tr("Verdicts table (CSV)"), extension="csv"))
        self.addParameter(QgsProcessingParameterString(
            "ANALYST", tr("Analyst for rows without one"), optional=True))
        self.addParameter(QgsProcessingParameterString(
            "PLATFORM", tr("Platform of the post ids (when ids repeat across platforms)"), optional=True))
        self.addOutput(QgsProcessingOutputNumber("WRITTEN", tr("Verdicts written")))
        self.addOutput(QgsProcessingOutputNumber("SKIPPED", tr("Rows skipped")))
        self.addOutput(QgsProcessingOutputString("RESULT", tr("Result (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.verify.records import VerdictError
        from ..core.verify.verdict_table import import_verdict_table

        table = self.parameterAsFile(parameters, "INPUT", context)
        if not table:
            raise QgsProcessingException(tr("Choose the CSV file with the verdicts."))
        with self.open_store_or_fail(self.parameterAsFile(parameters, "STORE", context)) as store:
            try:
                summary = import_verdict_table(
                    store, table, self.parameterAsString(parameters, "ANALYST", context).strip() or None,
                    self.parameterAsString(parameters, "PLATFORM", context).strip() or None)
            except (VerdictError, OSError) as exc:
                raise QgsProcessingException(str(exc)) from exc
        for issue in summary.issues:
            feedback.pushWarning(tr("line {line}: {reason}").format(**issue))
        feedback.pushInfo(tr("{w} verdicts written, {u} unchanged, {s} rows skipped").format(
            w=summary.written, u=summary.unchanged, s=summary.skipped))
        return {"WRITTEN": summary.written, "SKIPPED": summary.skipped, "RESULT": json.dumps(summary.as_dict())}
