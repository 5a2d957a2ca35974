import pytest


@pytest.fixture(autouse=True)
def _qgis(qgis_app):
    return qgis_app


@pytest.fixture(autouse=True)
def _no_active_store():
    """Each test starts in a project without an active store (the project is shared)."""
    from qgis.core import QgsProject

    QgsProject.instance().removeEntry("MIST", "store")
    yield
    QgsProject.instance().removeEntry("MIST", "store")


@pytest.fixture
def open_verify_dock(qtbot):
    """Opens a "MIST Verify" dock on a store as analyst "ana", shown at a working size; every
    dock it opened is cleaned up after the test."""
    from mist_qgis.gui.verify_dock import VerifyDock

    docks = []

    def open_dock(store_path):
        dock = VerifyDock()
        qtbot.addWidget(dock)
        dock.analyst_edit.setText("ana")
        dock.resize(1100, 700)
        dock.show()
        assert dock.open_store(store_path)
        docks.append(dock)
        return dock

    yield open_dock
    for dock in docks:
        dock.cleanup()
