"""Retrieval geolocation: place unlocated photos from their nearest geotagged neighbours in the
store's vector index. Thin over `core.geoloc.retrieval`."""

from __future__ import annotations

import json
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..i18n import QT_TR_NOOP, tr
from .base import MistAlgorithm
from .geoloc_algorithms import GROUP
from .raster_algorithms import _load_default_style

MAX_LOADED_RASTERS = 20  # more unlocated photos than this: the rasters are written, the first ones loaded


class RetrievalGeolocationAlgorithm(MistAlgorithm):
    _name = "retrievalgeolocation"
    _display_name = QT_TR_NOOP("Locate photos by retrieval of geotagged neighbours")
    _group = GROUP
    _short_help = QT_TR_NOOP(
        "Indexes the image embeddings of every photo whose post has a trusted location (GPS or EXIF) in a "
        "vector index kept beside the store (updated incrementally, rebuilt when the embedding model "
        "changes). Each unlocated photo gets its k nearest neighbours; from them a location probability "
        "raster (a similarity-weighted kernel, summing to 1), a point estimate and the radius holding 68% of "
        "the probability. Neighbours spread over the area give a large radius and a flat raster. The rasters "
        "(in the given folder, else in the store's photo cache) are added to the map below the points, "
        "transparent where the probability is zero; a new run replaces them."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterString(
            "MODEL", tr("Image embedding model tag (empty: the store's only one)"), optional=True))
        self.addParameter(QgsProcessingParameterNumber("K", tr("Neighbours per photo (k)"),
                                                       QgsProcessingParameterNumber.Type.Integer, 10, minValue=1))
        self.addParameter(QgsProcessingParameterFolderDestination(
            "RASTERS", tr("Folder for the probability rasters"), optional=True))
        self.addOutput(QgsProcessingOutputNumber("PLACED", tr("Photos placed")))
        self.addOutput(QgsProcessingOutputString("RESULT", tr("Result (JSON)")))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.geoloc.retrieval import default_raster_dir, locate_by_retrieval, run_summary

        store_path = self.parameterAsFile(parameters, "STORE", context)
        rasters = self.parameterAsString(parameters, "RASTERS", context) or None
        with self.open_store_or_fail(store_path) as store:
            run = locate_by_retrieval(
                store, self.parameterAsString(parameters, "MODEL", context) or None,
                k=self.parameterAsInt(parameters, "K", context), raster_dir=rasters or default_raster_dir(store),
                is_cancelled=feedback.isCanceled)
        summary = run_summary(run)
        self._load_rasters(run, context, feedback)
        if run.sync.rebuilt:
            feedback.pushInfo(tr("Index rebuilt: {reason}").format(reason=run.sync.reason))
        for fid, reason in list(run.skipped.items())[:20]:
            feedback.pushWarning(f"media {fid}: {reason}")
        return {"STORE": store_path, "PLACED": len(run.estimates), "RESULT": json.dumps(summary)}

    def _load_rasters(self, run, context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> None:
        """Each photo's probability raster, pseudocolour from transparent zero to its own maximum,
        loaded below the points in place of an earlier run's."""
        from ..qgis_ops.styles import band_range, write_sidecar_style

        written = [(fid, e.raster_path) for fid, e in run.estimates.items() if e.raster_path]
        for fid, path in written[:MAX_LOADED_RASTERS]:
            write_sidecar_style(path, "hot", 0.0, max(band_range(path)[1], 1e-12))
            self.load_output(context, path, tr("Location probability, photo {fid}").format(fid=fid), "RASTERS",
                             _load_default_style)
        if len(written) > MAX_LOADED_RASTERS:
            feedback.pushInfo(tr("{n} probability rasters written; the first {m} are added to the map.").format(
                n=len(written), m=MAX_LOADED_RASTERS))
