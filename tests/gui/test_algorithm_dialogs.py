"""MIST's dialogs open with the project's active store filled in, remember the last run's
parameters, and never pick a DEM for the analyst."""

from __future__ import annotations

import pytest
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer

from mist_qgis.core.store import open_store
from mist_qgis.gui.active_store import active_store, set_active_store
from mist_qgis.gui.algorithm_dialog import SETTINGS_PREFIX, create_dialog
from mist_qgis.paths import resources_dir
from tests.helpers.stub_iface import StubIface


@pytest.fixture
def dialogs(monkeypatch, store_path):
    import processing.tools.general as general

    monkeypatch.setattr(general, "iface", StubIface())
    with open_store(store_path):
        pass
    set_active_store(store_path)
    opened = []

    def make(algorithm_id):
        dialog = create_dialog(algorithm_id)
        opened.append(dialog)
        return dialog

    yield make
    for dialog in opened:
        dialog.close()
        dialog.deleteLater()
    QgsProject.instance().removeAllMapLayers()


def _store_algorithms() -> list[str]:
    provider = QgsApplication.processingRegistry().providerById("mist")
    return sorted(a.id() for a in provider.algorithms() if a.parameterDefinition("STORE") is not None)


def test_every_dialog_opens_with_the_active_store(dialogs, store_path):
    assert active_store() == str(store_path.resolve())
    assert QgsProject.instance().readEntry("MIST", "store")[0] == str(store_path.resolve())
    ids = _store_algorithms()
    assert len(ids) >= 12
    for algorithm_id in ids:
        dialog = dialogs(algorithm_id)
        assert dialog.mainWidget().wrappers["STORE"].parameterValue() == str(store_path.resolve()), algorithm_id


def test_dialogs_remember_the_last_run(dialogs, store_path):
    from qgis.core import QgsSettings

    QgsSettings().remove(SETTINGS_PREFIX + "mist:postdensity")
    first = dialogs("mist:postdensity")
    assert first.mainWidget().wrappers["RADIUS"].parameterValue() == 500.0
    first.setParameters({"RADIUS": 1234.0, "KIND": "verified"})
    first.algorithmFinished.emit(True, {})
    again = dialogs("mist:postdensity")
    assert again.mainWidget().wrappers["RADIUS"].parameterValue() == 1234.0
    assert again.mainWidget().wrappers["KIND"].parameterValue() == "verified"
    assert again.mainWidget().wrappers["STORE"].parameterValue() == str(store_path.resolve())


def test_the_dem_is_never_guessed(dialogs):
    raster = QgsRasterLayer(str(resources_dir() / "sample" / "dem.tif"), "density_all")
    QgsProject.instance().addMapLayer(raster)
    dialog = dialogs("mist:inundation")
    assert dialog.mainWidget().wrappers["DEM"].parameterValue() is None
