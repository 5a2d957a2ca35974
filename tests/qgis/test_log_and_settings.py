"""Core code logs through Python logging; inside QGIS it lands in the "MIST" message-log tab."""

import logging

import pytest
from qgis.core import Qgis, QgsApplication

from mist_qgis import settings
from mist_qgis.log import TAG, attach_message_log, detach


def test_core_log_reaches_the_mist_tab():
    received = []

    def on_message(message, tag, level):
        received.append((message, tag, level))

    log = QgsApplication.messageLog()
    log.messageReceived[str, str, Qgis.MessageLevel].connect(on_message)
    handler = attach_message_log()
    try:
        logging.getLogger("mist.core.test").warning("3 records skipped")
    finally:
        detach(handler)
        log.messageReceived[str, str, Qgis.MessageLevel].disconnect(on_message)
    assert ("mist.core.test: 3 records skipped", TAG, Qgis.MessageLevel.Warning) in received


def test_settings_live_under_the_plugin_prefix():
    from qgis.core import QgsSettings

    settings.set_value("offline", True)
    assert settings.value("offline") is True
    assert QgsSettings().value("mist_qgis/offline", type=bool) is True
    settings.set_value("offline", False)
    with pytest.raises(KeyError):
        settings.set_value("no_such_setting", 1)
