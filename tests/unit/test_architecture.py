"""The architecture check (scripts/check_imports.py) on the real package, and on the package with
one deliberately bad import planted in one file, relative imports included, to show that it
catches them. The package is parsed once; each planted import re-parses only its own file."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "mist_qgis"


@functools.cache
def _checker():
    spec = importlib.util.spec_from_file_location("check_imports", REPO / "scripts" / "check_imports.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def package():
    """The real package, parsed once for the tests of this module."""
    return _checker().Package(PACKAGE)


def test_the_package_has_no_cycle_and_core_stays_below_qgis_and_the_plugin_layers(package):
    assert package.check() == []


def _with(relative: str, line: str) -> dict[str, str]:
    """The package's file `relative` with `line` appended."""
    return {relative: (PACKAGE / relative).read_text(encoding="utf-8") + "\n\n" + line + "\n"}


@pytest.mark.parametrize("relative,line,expected", [
    # a relative import of the dock, inside a function: the import the old layering test missed
    ("core/geoloc/records.py", "def _peek():\n    from ...gui import verify_dock  # noqa",
     "core imports mist_qgis.gui"),
    ("core/stage.py", "from ..processing_provider.base import MistAlgorithm  # noqa",
     "core imports mist_qgis.processing_provider.base"),
    ("core/rasters/density.py", "from ...qgis_ops import density as _qgis_density  # noqa",
     "core imports mist_qgis.qgis_ops.density"),
    ("core/rasters/inundation.py", "from qgis.core import QgsProject  # noqa", "core imports qgis.core"),
    ("core/errors.py", "from .stage import Status  # noqa",
     "import cycle: mist_qgis.core.errors <-> mist_qgis.core.stage"),
    ("cli/common.py", "from . import main as _main  # noqa", "import cycle: mist_qgis.cli.common <-> "),
])
def test_a_deliberately_bad_import_is_caught(package, relative, line, expected):
    problems = package.check(_with(relative, line))
    assert any(expected in p for p in problems), problems
    assert package.check() == []  # the planted import lives only in that check


def test_a_type_checking_import_is_not_a_dependency(package):
    """The import that closes a cycle (see above) is no dependency under `if TYPE_CHECKING:`."""
    planted = _with("core/errors.py",
                    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .stage import Status  # noqa")
    assert package.check(planted) == []
