"""The architecture check (scripts/check_imports.py) on the real package, and on copies of it with
one deliberately bad import each, relative imports included, to show that it catches them."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "mist_qgis"


def _checker():
    spec = importlib.util.spec_from_file_location("check_imports", REPO / "scripts" / "check_imports.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_package_has_no_cycle_and_core_stays_below_qgis_and_the_plugin_layers():
    assert _checker().check(PACKAGE) == []


def _copy_with(tmp_path: Path, relative: str, line: str) -> Path:
    root = tmp_path / "mist_qgis"
    shutil.copytree(PACKAGE, root, ignore=lambda folder, names: [  # the sources are all the check reads
        n for n in names if n == "__pycache__" or (not n.endswith(".py") and not (Path(folder) / n).is_dir())])
    path = root / relative
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + line + "\n", encoding="utf-8")
    return root


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
def test_a_deliberately_bad_import_is_caught(tmp_path, relative, line, expected):
    problems = _checker().check(_copy_with(tmp_path, relative, line))
    assert any(expected in p for p in problems), problems


def test_a_type_checking_import_is_not_a_dependency(tmp_path):
    root = _copy_with(tmp_path, "core/stage.py",
                      "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .store import Store  # noqa")
    assert _checker().check(root) == []
