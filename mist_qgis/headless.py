"""Start QGIS without a screen and register Processing with the `mist` provider, so the CLI,
scripts and tests run the same algorithms as the desktop."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from .core.errors import InternalError, MistError

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


class AlgorithmError(MistError):
    """A Processing algorithm refused its input (a problem the user can fix); the message is the
    algorithm's own last error."""


class AlgorithmFailed(InternalError):
    """A Processing algorithm crashed (an exception that is not a `MistError`); `detail` holds the
    traceback Processing reported."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def decode_outputs(results: dict[str, Any]) -> dict[str, Any]:
    """Algorithms return structured outputs as JSON strings; give them back as structure."""
    out: dict[str, Any] = {}
    for key, value in results.items():
        if isinstance(value, str) and value[:1] in "{[":
            try:
                value = json.loads(value)
            except ValueError:
                pass
        out[key] = value
    return out


def run_algorithm(
    algorithm: str, parameters: dict[str, Any], on_info: Callable[[str], None] | None = None,
    stop_on_signals: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    """`processing.run` for scripts (the CLI, the demo): returns (decoded outputs, warnings) and
    raises `AlgorithmError` with the algorithm's own message instead of Processing's generic one.

    `stop_on_signals`: SIGINT and SIGTERM cancel the algorithm's feedback instead of killing the
    process, so an algorithm that runs until stopped (a watch) finishes its batch and returns. The
    process's own handlers are back when this returns. Only the main thread can take signals:
    called from another thread (the CLI inside a program's worker), the process's handlers stay as
    they are and the algorithm stops by its own limits."""
    init_processing()
    import processing
    from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback

    from .processing_provider.base import TRACEBACK, error_line

    if QgsApplication.processingRegistry().algorithmById(algorithm) is None:
        raise AlgorithmError(f"Processing algorithm {algorithm} is not registered")

    class Feedback(QgsProcessingFeedback):
        def __init__(self) -> None:
            super().__init__()
            self.errors: list[str] = []
            self.warnings: list[str] = []

        def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
            self.errors.append(error)

        def pushWarning(self, warning: str) -> None:  # noqa: N802
            self.warnings.append(warning)

        def pushInfo(self, info: str) -> None:  # noqa: N802
            if on_info is not None:
                on_info(info)

    feedback = Feedback()
    previous = {}
    if stop_on_signals and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: feedback.cancel())
    try:
        results = processing.run(algorithm, parameters, feedback=feedback)
    except QgsProcessingException as exc:
        detail = (feedback.errors[-1] if feedback.errors else str(exc)).strip()
        if TRACEBACK in str(exc) or TRACEBACK in detail:  # Processing's report of an uncaught exception
            text = detail if TRACEBACK in detail else str(exc)
            raise AlgorithmFailed(f"{algorithm}: {error_line(text) or 'failed'}", text) from exc
        raise AlgorithmError(detail) from exc
    finally:
        if previous:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return decode_outputs(results), feedback.warnings
