"""The `mist` Processing provider, registered by the plugin and by the headless CLI."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..paths import icon_path
from ..version import __version__
from .algorithms import ALGORITHM_CLASSES

PROVIDER_ID = "mist"


class MistProvider(QgsProcessingProvider):
    def id(self) -> str:
        return PROVIDER_ID

    def name(self) -> str:
        return "MIST"

    def longName(self) -> str:  # noqa: N802
        return f"MIST {__version__}"

    def icon(self) -> QIcon:
        return QIcon(str(icon_path()))

    def loadAlgorithms(self) -> None:  # noqa: N802
        for cls in ALGORITHM_CLASSES:
            self.addAlgorithm(cls())
