import pytest


@pytest.fixture(autouse=True)
def _qgis(qgis_app):
    return qgis_app
