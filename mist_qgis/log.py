"""Logging: core code logs to Python's "mist" logger; inside QGIS a handler forwards it to the
"MIST" tab of the message log, so core modules need no QGIS import."""

from __future__ import annotations

import logging

TAG = "MIST"
logger = logging.getLogger("mist")


class QgsMessageLogHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        from qgis.core import Qgis, QgsMessageLog

        if record.levelno >= logging.ERROR:
            level = Qgis.MessageLevel.Critical
        elif record.levelno >= logging.WARNING:
            level = Qgis.MessageLevel.Warning
        else:
            level = Qgis.MessageLevel.Info
        QgsMessageLog.logMessage(self.format(record), TAG, level)


def attach_message_log() -> logging.Handler:
    handler = QgsMessageLogHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def detach(handler: logging.Handler) -> None:
    logger.removeHandler(handler)
