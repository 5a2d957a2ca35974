"""Option lists: one home, checked names, and the one reading of a typed column mapping."""

from __future__ import annotations

import pytest

from mist_qgis.core import options
from mist_qgis.core.errors import MistError
from mist_qgis.core.geoloc.matchers import MATCHER_NAMES
from mist_qgis.core.models.heads import HEAD_KINDS, LABEL_SCHEMES
from mist_qgis.core.posts.columns import parse_mapping_text
from mist_qgis.core.rasters.inundation import METHODS, InundationParams


def test_core_modules_take_their_lists_from_the_one_home():
    assert MATCHER_NAMES == options.MATCHERS.names
    assert (HEAD_KINDS, LABEL_SCHEMES, METHODS) == (options.HEAD_KINDS.names, options.LABEL_SCHEMES.names,
                                                    options.INUNDATION_METHODS.names)
    assert InundationParams().method == options.INUNDATION_METHODS.default
    assert str(InundationParams().connectivity) == options.CONNECTIVITY.default


def test_an_unknown_name_is_a_user_error_naming_the_choices():
    with pytest.raises(MistError, match="unknown interpolation method 'kriging'; choose one of idw, nearest"):
        options.INUNDATION_METHODS.check("kriging")
    assert options.INUNDATION_METHODS.check(None) == "idw"


@pytest.mark.parametrize("text", ["lat=Y_WGS84, lon=X_WGS84", "lat=Y_WGS84; lon=X_WGS84", "lat=Y_WGS84\nlon=X_WGS84"])
def test_a_typed_column_mapping_reads_the_same_whatever_the_separator(text):
    assert parse_mapping_text(text) == {"lat": "Y_WGS84", "lon": "X_WGS84"}
