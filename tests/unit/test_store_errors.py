"""One message path for what a store's file, folder or disk refuses: each case is one clear line,
a `MistError`, and a store MIST must refuse is left exactly as it was."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mist_qgis.core.errors import MistError
from mist_qgis.core.posts.importer import ImportOptions, import_posts
from mist_qgis.core.store import StoreError, StoreVersionError, open_store

REPO = Path(__file__).resolve().parents[2]


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert isinstance(exc, MistError) and "\n" not in text and "Traceback" not in text, text
    return text


def _set_version(path: Path, value: str) -> None:
    with open_store(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")  # fold the WAL in, so the file alone is the store
    conn.execute("UPDATE mist_meta SET value = ? WHERE key = 'schema_version'", (value,))
    conn.commit()
    conn.close()
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)


def test_a_newer_store_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "future.gpkg"
    _set_version(path, "99")
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    with pytest.raises(StoreVersionError) as err:
        open_store(path)
    assert "newer than this MIST" in one_line(err.value)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["future.gpkg"]  # no -wal, no -shm
    with pytest.raises(StoreVersionError, match="newer than this MIST"):
        open_store(path, read_only=True)


def test_a_schema_version_that_is_not_a_number(tmp_path):
    path = tmp_path / "banana.gpkg"
    _set_version(path, "banana")
    before = path.read_bytes()
    with pytest.raises(StoreError) as err:
        open_store(path)
    assert "'banana'" in one_line(err.value)
    assert path.read_bytes() == before


def test_a_folder_a_text_file_and_a_foreign_database(tmp_path):
    with pytest.raises(StoreError, match="is a folder") as err:
        open_store(tmp_path)
    one_line(err.value)
    text = tmp_path / "notes.gpkg"
    text.write_text("not a database\n", encoding="utf-8")
    with pytest.raises(StoreError, match="not a GeoPackage") as err:
        open_store(text)
    one_line(err.value)
    foreign = tmp_path / "other.gpkg"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE roads (id INTEGER)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    with pytest.raises(StoreError, match="not a MIST store") as err:
        open_store(foreign)
    one_line(err.value)
    assert foreign.read_bytes() == before


@pytest.mark.gpkg_only("fills the disk with SQLite's max_page_count; a PostgreSQL server reports its own full disk")
def test_a_full_disk_during_an_import_is_one_line_and_keeps_what_was_written(store, tmp_path):
    path = tmp_path / "many.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(30_000):
            fh.write(json.dumps({"id_str": str(10**18 + i), "user": {"screen_name": "u"}, "text": "x" * 200,
                                 "coordinates": {"type": "Point", "coordinates": [113.5, 34.7]}}) + "\n")
    pages = store.scalar("PRAGMA page_count")
    store.query(f"PRAGMA max_page_count = {pages + 400}")  # about 1.6 MB more: a tiny disk
    with pytest.raises(StoreError) as err:
        import_posts(store, [path], ImportOptions(parallel=False, batch_size=1000))
    assert "is full" in one_line(err.value)
    kept = store.count("posts")
    assert 0 < kept < 30_000 and kept % 1000 == 0  # whole batches only
    assert store.integrity_ok()


def test_a_read_only_store(tmp_path):
    """A store the user may read but not write (run as an unprivileged user: root writes anyway)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run the check as another user")
    folder = Path(tempfile.mkdtemp(prefix="mist-ro-"))
    try:
        os.chmod(folder, 0o755)
        path = folder / "shared.gpkg"
        with open_store(path) as store:
            store.set_meta("x", "1")
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        os.chmod(path, 0o644)
        code = ("import sys\nfrom mist_qgis.core.store import open_store\n"
                "try:\n    open_store(sys.argv[1]).set_meta('y', '2')\n"
                "except Exception as exc:\n    print(type(exc).__name__, '|', exc)\n")
        out = subprocess.run([sys.executable, "-c", code, str(path)], cwd=REPO, user="nobody",
                             env={**os.environ, "PYTHONPATH": str(REPO), "HOME": str(folder)},
                             capture_output=True, text=True, timeout=120)
        assert out.stdout.startswith("StoreError | ") and "read-only" in out.stdout, (out.stdout, out.stderr)
        assert out.stdout.count("\n") == 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_text_files_given_as_a_model_or_a_dem(tmp_path):
    from mist_qgis.core.models.runtime import load_model, read_card
    from mist_qgis.core.rasters.inundation import read_dem

    text = tmp_path / "notes.txt"
    text.write_text("just notes\n" * 10, encoding="utf-8")
    for load in (read_card, load_model):
        with pytest.raises(MistError, match="not a readable ONNX model") as err:
            load(text)
        one_line(err.value)
    with pytest.raises(MistError, match="cannot open raster") as err:
        read_dem(text)
    one_line(err.value)


def test_a_damaged_store(tmp_path):
    from mist_qgis.core.posts.record import PostRecord

    path = tmp_path / "damaged.gpkg"
    with open_store(path) as store, store.batch() as conn:
        store.add_posts(conn, [PostRecord(str(i), "t", 1.0, 2.0, "x" * 500) for i in range(200)])
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    data = bytearray(path.read_bytes())
    data[4096:len(data) - 4096] = b"\xa5" * (len(data) - 8192)  # every page but the first and last
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as err:
        with open_store(path) as store:
            store.count("posts")
    assert "damaged" in one_line(err.value) or "not a GeoPackage" in str(err.value)
