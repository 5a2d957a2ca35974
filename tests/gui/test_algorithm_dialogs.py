"""MIST's dialogs open with the project's active store filled in, remember the last run's
parameters, and never pick a DEM for the analyst."""

from __future__ import annotations

import pytest
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer

from mist_qgis.core.store import open_store
from mist_qgis.gui.active_store import active_store, set_active_store
from mist_qgis.gui.algorithm_dialog import SETTINGS_PREFIX, create_dialog
from mist_qgis.paths import resources_dir
from mist_qgis.pg_connections import store_target
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
    assert active_store() == store_target(store_path)
    assert QgsProject.instance().readEntry("MIST", "store")[0] == store_target(store_path)
    ids = _store_algorithms()
    assert len(ids) >= 12
    for algorithm_id in ids:
        dialog = dialogs(algorithm_id)
        assert dialog.mainWidget().wrappers["STORE"].parameterValue() == store_target(store_path), algorithm_id


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
    assert again.mainWidget().wrappers["STORE"].parameterValue() == store_target(store_path)


def test_the_dem_is_never_guessed(dialogs):
    raster = QgsRasterLayer(str(resources_dir() / "sample" / "dem.tif"), "density_all")
    QgsProject.instance().addMapLayer(raster)
    dialog = dialogs("mist:inundation")
    assert dialog.mainWidget().wrappers["DEM"].parameterValue() is None


def _big_table(tmp_path):
    """A CSV an import takes seconds over, long enough to cancel mid-run."""
    table = tmp_path / "many.csv"
    with table.open("w", encoding="utf-8") as fh:
        fh.write("id,text,lat,lon,time\n")
        for i in range(200_000):
            fh.write(f"{i},water on street {i},{30 + i % 1000 / 1e4},{114 + i % 997 / 1e4},2021-07-20T10:00:00Z\n")
    return table


def test_a_cancelled_run_says_cancelled_not_failed(tmp_path, monkeypatch):
    """Cancel a real import from MIST's Processing dialog mid-run: the log says "Cancelled." once
    and never "Execution failed" (QGIS's runner reports every cancel as unsuccessful)."""
    import time

    import processing.tools.general as general
    from qgis.PyQt.QtWidgets import QTextEdit

    monkeypatch.setattr(general, "iface", StubIface())
    table = _big_table(tmp_path)
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("mist:importposts")
    dialog = algorithm.createCustomParametersWidget(None)
    assert type(dialog).__name__ == "MistAlgorithmDialog"
    dialog.setParameters({"INPUTS": [str(table)], "STORE": str(tmp_path / "c.gpkg"), "FORMAT": "csv"})
    dialog.runAlgorithm()
    feedback = dialog.feedback
    deadline = time.monotonic() + 60
    while feedback.progress() < 1 and time.monotonic() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.02)
    assert 1 <= feedback.progress() < 100
    dialog.cancelButton().click()
    while dialog.feedback is not None and time.monotonic() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.02)
    assert dialog.feedback is None, "the run did not end after the cancel"
    log = "\n".join(w.toPlainText() for w in dialog.findChildren(QTextEdit))
    assert log.count("Cancelled.") == 1, log
    assert "Execution failed" not in log, log
    dialog.close()
    dialog.deleteLater()


def test_a_cancelled_batch_says_cancelled_not_failed(tmp_path, monkeypatch):
    """Cancel a real import in Processing's batch dialog mid-run (QGIS 3.40's own dialog, which no
    algorithm can replace): the row ends "canceled" with MIST's "Cancelled." line once, nothing is
    called failed, and the next row never starts."""
    import time

    import processing.tools.general as general
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
    from qgis.PyQt.QtWidgets import QTextEdit

    monkeypatch.setattr(general, "iface", StubIface())
    table = _big_table(tmp_path)
    dialog = BatchAlgorithmDialog(QgsApplication.processingRegistry().createAlgorithmById("mist:importposts"))
    if not hasattr(dialog, "execute"):
        pytest.skip("QGIS before 3.26 runs a batch in Python on the main thread")
    dialog.execute([{"INPUTS": [str(table)], "STORE": str(tmp_path / f"{name}.gpkg"), "FORMAT": "csv"}
                    for name in ("first", "second")])

    def log() -> str:
        return "\n".join(w.toPlainText() for w in dialog.findChildren(QTextEdit))

    deadline = time.monotonic() + 60
    while "records read" not in log() and not (tmp_path / "first.gpkg").exists() and time.monotonic() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.02)
    time.sleep(0.5)  # well into the first row
    dialog.cancelButton().click()
    while dialog.cancelButton().isEnabled() and time.monotonic() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.02)
    assert not dialog.cancelButton().isEnabled(), "the batch did not end after the cancel"
    text = log()
    assert text.count("Cancelled.") == 1, text
    assert "failed" not in text.lower(), text
    assert "records read" in text and not (tmp_path / "second.gpkg").exists()
    dialog.close()
    dialog.deleteLater()
