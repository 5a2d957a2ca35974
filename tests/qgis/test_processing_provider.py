import json

import processing
import pytest
from qgis.core import QgsApplication, QgsProcessingException

from mist_qgis.core.store.schema import LATEST_VERSION

# The ids models, scripts and the CLI call: renaming one breaks saved work, so they are written out.
EXPECTED_IDS = {
    "mist:createstore", "mist:storeinfo", "mist:pushstore", "mist:checkoutstore",
    "mist:importposts", "mist:fetchmedia", "mist:listmodels",
    "mist:predictimages", "mist:classifymedia", "mist:importverifications", "mist:trainhead", "mist:nexttoverify",
    "mist:importreferences", "mist:geolocatephotos", "mist:retrievalgeolocation",
    "mist:evaluategeolocation", "mist:refitgeolocconfidence", "mist:exportverified",
    "mist:postdensity", "mist:inundation", "mist:selo", "mist:evaluateselo", "mist:watch",
    "mist:fieldpackage", "mist:importfield",
    "mist:screentext", "mist:traintexthead", "mist:nextpoststolabel", "mist:textcategories",
}


def test_provider_lists_every_algorithm():
    provider = QgsApplication.processingRegistry().providerById("mist")
    assert provider is not None
    ids = {alg.id() for alg in provider.algorithms()}
    assert ids == EXPECTED_IDS
    for alg in provider.algorithms():
        assert alg.displayName() and alg.shortHelpString() and alg.group()


def test_create_and_describe_store(tmp_path):
    path = str(tmp_path / "s.gpkg")
    created = processing.run("mist:createstore", {"STORE": path})
    assert created["SCHEMA_VERSION"] == LATEST_VERSION
    info = processing.run("mist:storeinfo", {"STORE": path})
    assert json.loads(info["SUMMARY"])["counts"]["posts"] == 0


def test_missing_store_is_a_clear_processing_error(tmp_path):
    with pytest.raises(QgsProcessingException, match=r"store .*nope\.gpkg does not exist"):
        processing.run("mist:storeinfo", {"STORE": str(tmp_path / "nope.gpkg")})
