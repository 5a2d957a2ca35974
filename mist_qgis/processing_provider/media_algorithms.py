"""`mist:fetchmedia`: fetch, cache and vet every pending photo and video of a store. Thin over
core.images.pipeline (the CLI verb `fetch-media` maps onto it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..i18n import QT_TR_NOOP, tr
from .base import MistAlgorithm
from .words import push_lines

MB = 1024 * 1024


def options_from_values(
    offline: bool, media_dir: str | None, allow_private_hosts: bool, max_bytes: int, max_run_bytes: int,
    workers: int, retry: bool = False, mapping_column: str | None = None, locate_from_exif: bool = True,
):
    """FetchOptions from plain values. The plugin's
    `offline` and `allow_private_hosts` settings apply on top of the parameters."""
    from ..core.images.fetcher import FetchLimits
    from ..core.images.pipeline import FetchOptions
    from ..core.images.urlguard import UrlPolicy
    from ..settings import value

    return FetchOptions(
        offline=bool(offline or value("offline")),
        media_dir=Path(media_dir) if media_dir else None,
        mapping_column=mapping_column or None,
        policy=UrlPolicy(allow_private_hosts=bool(allow_private_hosts or value("allow_private_hosts"))),
        limits=FetchLimits(max_bytes=int(max_bytes)),
        max_run_bytes=int(max_run_bytes) if max_run_bytes and max_run_bytes > 0 else None,
        workers=int(workers), retry=bool(retry), locate_from_exif=bool(locate_from_exif),
    )


def progress_text(progress) -> str:
    """'120/400 photos · 8.4 MB · 95.2 photos/s' for a progress bar or a task description."""
    stage = tr("video frames") if progress.stage == "frames" else tr("photos")
    return tr("{done}/{total} {stage} · {mb:.1f} MB · {rate:.1f} photos/s").format(
        done=progress.done, total=progress.total, stage=stage, mb=progress.bytes / MB, rate=progress.rate)


class FetchMediaAlgorithm(MistAlgorithm):
    _name = "fetchmedia"
    _display_name = QT_TR_NOOP("Fetch post photos and videos")
    _group = QT_TR_NOOP("Store")
    _short_help = QT_TR_NOOP(
        "Downloads every pending photo and video of the store into its content-addressed cache (or, offline, "
        "finds them in a local folder by path, file name, post id or a mapping column), checks each one by "
        "decoding it, makes thumbnails, extracts stable video frames, links near-duplicates and places posts "
        "without coordinates at their photo's EXIF GPS position. Only public http(s) hosts are contacted unless "
        "private hosts are allowed. Resumable: cached media is never fetched again; a cancelled run continues."
    )

    def initAlgorithm(self, config: dict | None = None) -> None:  # noqa: N802
        from ..core.images.fetcher import FetchLimits
        from ..core.images.pipeline import FetchOptions

        self.add_store_parameter()
        self.addParameter(QgsProcessingParameterBoolean(
            "OFFLINE", tr("Offline: never use the network, take media from the folder"), False))
        self.addParameter(QgsProcessingParameterFile(
            "MEDIA_DIR", tr("Local media folder (export folder or drive)"),
            QgsProcessingParameterFile.Behavior.Folder, optional=True))
        self.addParameter(QgsProcessingParameterString(
            "MAPPING_COLUMN", tr("Column naming each post's file (offline lookup)"), optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            "ALLOW_PRIVATE_HOSTS", tr("Allow private and loopback hosts (intranet photo servers)"), False))
        self.addParameter(QgsProcessingParameterNumber(
            "MAX_MB", tr("Largest file (MB)"), QgsProcessingParameterNumber.Type.Double,
            FetchLimits().max_bytes / MB, minValue=0.001))
        self.addParameter(QgsProcessingParameterNumber(
            "MAX_RUN_MB", tr("Most to download in this run (MB, 0: no limit)"),
            QgsProcessingParameterNumber.Type.Double, 0.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(
            "WORKERS", tr("Parallel downloads"), QgsProcessingParameterNumber.Type.Integer, FetchOptions().workers,
            minValue=1, maxValue=64))
        self.addParameter(QgsProcessingParameterBoolean(
            "RETRY", tr("Retry media that failed or were skipped before"), False))
        self.addParameter(QgsProcessingParameterBoolean(
            "LOCATE_FROM_EXIF", tr("Place unlocated posts at their photo's EXIF position"), True))
        self.addOutput(QgsProcessingOutputString("SUMMARY", tr("Summary (JSON)")))
        for name, label in (("OK", tr("Media fetched")), ("FAILED", tr("Media failed")),
                            ("SKIPPED", tr("Media skipped")), ("PENDING", tr("Media still pending")),
                            ("DUPLICATES", tr("Near-duplicates")), ("RUN_ID", tr("Run id"))):
            self.addOutput(QgsProcessingOutputNumber(name, label))

    def processAlgorithm(  # noqa: N802
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..core.images.pipeline import run_fetch_media

        options = options_from_values(
            offline=self.parameterAsBool(parameters, "OFFLINE", context),
            media_dir=self.parameterAsFile(parameters, "MEDIA_DIR", context),
            allow_private_hosts=self.parameterAsBool(parameters, "ALLOW_PRIVATE_HOSTS", context),
            max_bytes=round(self.parameterAsDouble(parameters, "MAX_MB", context) * MB),
            max_run_bytes=round(self.parameterAsDouble(parameters, "MAX_RUN_MB", context) * MB),
            workers=self.parameterAsInt(parameters, "WORKERS", context),
            retry=self.parameterAsBool(parameters, "RETRY", context),
            mapping_column=self.parameterAsString(parameters, "MAPPING_COLUMN", context),
            locate_from_exif=self.parameterAsBool(parameters, "LOCATE_FROM_EXIF", context),
        )
        last = [0.0]

        def report(progress) -> None:
            if progress.elapsed - last[0] >= 2.0:
                last[0] = progress.elapsed
                feedback.setProgressText(progress_text(progress))

        store_path = self.parameterAsFile(parameters, "STORE", context)
        with self.open_store_or_fail(store_path) as store:
            try:
                summary = run_fetch_media(store, options, progress=feedback.setProgress,
                                          is_cancelled=feedback.isCanceled, on_status=report)
            except ValueError as exc:
                raise QgsProcessingException(str(exc)) from exc
        data = summary.to_dict()
        push_lines(feedback, data)
        if summary.message:
            feedback.pushWarning(summary.message)
        status = summary.media_status
        return {
            "SUMMARY": json.dumps(data), "OK": status["ok"], "FAILED": status["failed"],
            "SKIPPED": status["skipped"], "PENDING": status["pending"], "DUPLICATES": summary.duplicates,
            "RUN_ID": summary.run_id,
        }
