"""Shared test setup: offscreen Qt, a throwaway QGIS profile, and one QgsApplication per run."""

from __future__ import annotations

import itertools
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


STORE_BACKENDS = ("gpkg", "postgis")
_schemas = itertools.count()


def pytest_configure(config):
    config.addinivalue_line("markers", "gpkg_only(reason): the test is about the GeoPackage file itself")


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL 15 + PostGIS cluster for the whole run, removed afterwards."""
    from tests.helpers.pgcluster import available, start_cluster

    reason = available()
    if reason:
        pytest.skip(reason)
    cluster = start_cluster()
    yield cluster
    cluster.remove()


@pytest.fixture
def pg_schema_url(pg_cluster, tmp_path: Path, monkeypatch) -> str:
    """An empty schema of its own in the test cluster, where no store exists yet (photos cached
    under tmp_path)."""
    schema = f"t{os.getpid()}_empty_{next(_schemas)}"
    pg_cluster.execute(f"CREATE SCHEMA {schema}")
    monkeypatch.setenv("MIST_MEDIA_ROOT", str(tmp_path / "team-media"))
    return pg_cluster.url(options=f"-csearch_path%3D{schema},public")


@pytest.fixture(scope="session")
def pg_store_pool(pg_cluster):
    from tests.helpers.pg_stores import StorePool

    pool = StorePool(pg_cluster)
    yield pool
    pool.close()


@pytest.fixture
def pg_store_url(pg_store_pool, tmp_path: Path, monkeypatch):
    """A team store target of its own: a new, empty MIST store in a schema of the test cluster
    that no other test used under that name (photos cached under tmp_path)."""
    monkeypatch.setenv("MIST_MEDIA_ROOT", str(tmp_path / "team-media"))
    schema = pg_store_pool.take()
    yield pg_store_pool.url(schema)
    pg_store_pool.give_back(schema)


@pytest.fixture(params=STORE_BACKENDS)
def store_backend(request) -> str:
    """Each store-touching test runs on both backends, unless marked gpkg_only."""
    marker = request.node.get_closest_marker("gpkg_only")
    if request.param == "postgis" and marker is not None:
        pytest.skip(f"GeoPackage only: {marker.args[0] if marker.args else 'the test reads the file itself'}")
    return request.param


@pytest.fixture
def store_path(store_backend: str, tmp_path: Path, request):
    """Where the test's store lives: a GeoPackage path (the file is made when the store is first
    opened), or a PostgreSQL target (a string) holding a new, empty store."""
    if store_backend == "postgis":
        return request.getfixturevalue("pg_store_url")
    return tmp_path / "store.gpkg"


@pytest.fixture
def unmade_store_path(store_backend: str, tmp_path: Path, request):
    """Where no store exists yet: a GeoPackage path, or an empty PostgreSQL schema (for tests that
    make a store at an older schema version and upgrade it)."""
    if store_backend == "postgis":
        return request.getfixturevalue("pg_schema_url")
    return tmp_path / "store.gpkg"


@pytest.fixture
def store(store_path: Path):
    from mist_qgis.core.store import open_store

    with open_store(store_path) as s:
        yield s
