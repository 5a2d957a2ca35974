import json

import processing
import pytest
from qgis.core import QgsApplication, QgsProcessingException

from mist_qgis.processing_provider.algorithms import ALGORITHM_CLASSES


def test_provider_lists_every_algorithm():
    provider = QgsApplication.processingRegistry().providerById("mist")
    assert provider is not None
    ids = {alg.id() for alg in provider.algorithms()}
    assert ids == {f"mist:{cls().name()}" for cls in ALGORITHM_CLASSES}
    for alg in provider.algorithms():
        assert alg.displayName() and alg.shortHelpString() and alg.group()


def test_create_and_describe_store(tmp_path):
    path = str(tmp_path / "s.gpkg")
    created = processing.run("mist:createstore", {"STORE": path})
    assert created["SCHEMA_VERSION"] >= 2
    info = processing.run("mist:storeinfo", {"STORE": path})
    assert json.loads(info["SUMMARY"])["counts"]["posts"] == 0


def test_missing_store_is_a_clear_processing_error(tmp_path):
    with pytest.raises(QgsProcessingException):
        processing.run("mist:storeinfo", {"STORE": str(tmp_path / "nope.gpkg")})
