"""MIST's Processing dialogs as the menu opens them: the active store filled in, the parameters
of the last run remembered (per algorithm, as QGIS's own tools do), and no layer picked for the
analyst (a DEM is chosen, never guessed from whatever raster is first in the project)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qgis.core import QgsApplication, QgsProcessingParameterMapLayer, QgsProcessingParameterRasterLayer, QgsSettings
from qgis.PyQt.QtWidgets import QComboBox

from .active_store import active_store, set_active_store

SETTINGS_PREFIX = "mist_qgis/dialogs/"
STORE = "STORE"


def remembered(algorithm_id: str) -> dict[str, Any]:
    """The parameters of the algorithm's last successful run from its dialog."""
    text = QgsSettings().value(SETTINGS_PREFIX + algorithm_id, "")
    try:
        values = json.loads(text) if text else {}
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def remember(algorithm_id: str, parameters: dict[str, Any]) -> None:
    """Keep the plain values of a run (numbers, text, choices); the store is the project's, and
    output destinations are chosen per run."""
    kept = {k: v for k, v in parameters.items() if k != STORE and _plain(v)}
    QgsSettings().setValue(SETTINGS_PREFIX + algorithm_id, json.dumps(kept))


def _plain(value: Any) -> bool:
    if isinstance(value, bool | int | float | str):
        return True
    return isinstance(value, list) and all(isinstance(v, int | float | str) for v in value)


def initial_parameters(algorithm_id: str) -> dict[str, Any]:
    """What a dialog opens with: the last run's values, then the active store."""
    algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
    params = remembered(algorithm_id)
    if algorithm is not None:
        names = {p.name() for p in algorithm.parameterDefinitions()}
        params = {k: v for k, v in params.items() if k in names}
        store = active_store()
        if STORE in names and store:
            params[STORE] = store
    return params


def create_dialog(algorithm_id: str):
    """The algorithm's Processing dialog, prefilled (see the module docstring); None if unknown."""
    from processing import createAlgorithmDialog

    params = initial_parameters(algorithm_id)
    dialog = createAlgorithmDialog(algorithm_id, params)
    if dialog is None:
        return None
    _clear_unchosen_layers(dialog, params)

    def finished(successful: bool, _results: dict) -> None:
        if not successful:
            return
        try:
            used = dialog.createProcessingParameters()
        except Exception:  # noqa: BLE001 - a widget that cannot say its value: nothing to remember
            return
        remember(algorithm_id, used)
        store = used.get(STORE)
        if isinstance(store, str) and store and Path(store).is_file():
            set_active_store(store)

    dialog.algorithmFinished.connect(finished)
    return dialog


def open_dialog(algorithm_id: str) -> None:
    """Show the prefilled dialog as the Processing toolbox does (it stays open while it runs)."""
    dialog = create_dialog(algorithm_id)
    if dialog is None:
        return
    dialog.show()
    dialog.exec()
    dialog.deleteLater()


def _clear_unchosen_layers(dialog, params: dict[str, Any]) -> None:
    """Required layer parameters the analyst has not chosen start empty (Processing would pick
    the first fitting layer of the project)."""
    algorithm = dialog.algorithm()
    wrappers = getattr(dialog.mainWidget(), "wrappers", {})
    for definition in algorithm.parameterDefinitions():
        if not isinstance(definition, QgsProcessingParameterRasterLayer | QgsProcessingParameterMapLayer):
            continue
        if definition.name() in params or definition.defaultValue() is not None:
            continue
        wrapper = wrappers.get(definition.name())
        widget = wrapper.wrappedWidget() if wrapper is not None else None
        if widget is None:
            continue
        for combo in widget.findChildren(QComboBox):
            combo.setCurrentIndex(-1)
