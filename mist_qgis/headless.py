"""Start QGIS without a screen and register Processing with the `mist` provider, so the CLI,
scripts and tests run the same algorithms as the desktop."""

from __future__ import annotations

import os
import sys

QGIS_PREFIX = os.environ.get("QGIS_PREFIX_PATH", "/usr")
PROCESSING_PLUGINS = os.path.join(QGIS_PREFIX, "share", "qgis", "python", "plugins")

_app = None
_provider = None  # Python must keep the provider alive, or QGIS is left with an empty shell


def start_qgis(gui: bool = False):
    """Return the running QgsApplication, creating and initialising it once per process."""
    global _app
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if not os.environ.get("XDG_RUNTIME_DIR"):
        import tempfile

        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="mist-runtime-")
    from qgis.core import QgsApplication

    if _app is None:
        existing = QgsApplication.instance()
        if existing is not None:
            _app = existing
        else:
            QgsApplication.setPrefixPath(QGIS_PREFIX, True)
            _app = QgsApplication([], gui)
            _app.initQgis()
    return _app


def init_processing() -> None:
    """Initialise Processing (QGIS's native algorithms too) and register the `mist` provider."""
    start_qgis()
    if PROCESSING_PLUGINS not in sys.path:
        sys.path.append(PROCESSING_PLUGINS)
    from processing.core.Processing import Processing
    from qgis.analysis import QgsNativeAlgorithms
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    if registry.providerById("native") is None:
        registry.addProvider(QgsNativeAlgorithms())
    global _provider
    Processing.initialize()
    if registry.providerById("mist") is None:
        from .processing_provider.provider import MistProvider

        _provider = MistProvider()
        registry.addProvider(_provider)
