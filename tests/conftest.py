"""Shared test setup: offscreen Qt, a throwaway QGIS profile, and one QgsApplication per run."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QGIS_CUSTOM_CONFIG_PATH"] = tempfile.mkdtemp(prefix="mist-qgis-profile-")

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
# QGIS's own `processing` package, of the QGIS under test (QGIS_PREFIX_PATH), as the CLI and the
# desktop see it.
_processing = os.path.join(os.environ.get("QGIS_PREFIX_PATH", "/usr"), "share", "qgis", "python", "plugins")
if _processing not in sys.path:
    sys.path.append(_processing)


@pytest.fixture(scope="session")
def qgis_app():
    """A GUI-capable QgsApplication (offscreen) with Processing and the mist provider."""
    from mist_qgis.headless import init_processing, start_qgis

    app = start_qgis(gui=True)
    init_processing()
    return app


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.gpkg"


@pytest.fixture
def store(store_path: Path):
    from mist_qgis.core.store import open_store

    with open_store(store_path) as s:
        yield s
