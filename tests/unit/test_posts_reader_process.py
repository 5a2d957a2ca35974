"""Reading in a second process: the store ends up exactly as with reading in this process, on
every fixture format including the hostile files; cancel stays exact; a reader process that
cannot start or dies is a clear error, or a quiet fallback when the choice was automatic."""

from __future__ import annotations

import io
import marshal
import struct
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from mist_qgis.core import interpreter
from mist_qgis.core.posts import reader_process
from mist_qgis.core.posts.batches import BatchReader
from mist_qgis.core.posts.importer import ImportOptions, import_posts
from mist_qgis.core.posts.reader_process import ProcessReader, ReaderProcessError, open_reader, serve
from mist_qgis.core.store import open_store

from .test_posts_import import ALL_FILES, DATA, assert_exact, assert_store_consistent, write_tweets

POST_COLUMNS = ("fid, hex(geom), post_id, platform, text, lang, url, media_url, timestamp, geo_source, "
                "geo_accuracy_m, photo, filename, directory, direction, altitude, is_repost, source_file, "
                "source_line, attributes, orig_lon, orig_lat")


def _content(store) -> dict[str, list]:
    return {
        "posts": [tuple(r) for r in store.query(f"SELECT {POST_COLUMNS} FROM posts ORDER BY fid")],
        "media": [tuple(r) for r in store.query(
            "SELECT post_fid, position, kind, url, source_path FROM media ORDER BY post_fid, position")],
        "issues": [tuple(r) for r in store.query("SELECT source, line, reason FROM issues ORDER BY fid")],
        "rtree": [tuple(r) for r in store.query("SELECT * FROM rtree_posts_geom ORDER BY id")],
    }


def test_a_reader_process_gives_the_same_store_on_every_format(tmp_path):
    files = [DATA / f for f in ALL_FILES]
    results = {}
    for parallel in (False, True):
        with open_store(tmp_path / f"parallel-{parallel}.gpkg") as store:
            summary = import_posts(store, files, ImportOptions(parallel=parallel, batch_size=7))
            assert_exact(summary)
            assert_store_consistent(store)
            results[parallel] = (summary.counts(), summary.issues, summary.files, summary.files_skipped,
                                 _content(store))
    assert results[True] == results[False]
    assert results[True][0]["records_read"] > 60 and len(results[True][4]["posts"]) > 40


def test_cancelling_a_reader_process_keeps_the_counts_exact(store, tmp_path):
    path = write_tweets(tmp_path / "many.jsonl", 3000)
    first = import_posts(store, [path], ImportOptions(batch_size=200, parallel=True), is_cancelled=lambda: True)
    assert first.status == "cancelled"
    assert_exact(first)
    assert 0 < first.records_read < 3000
    assert store.count("posts") == first.records_read
    assert_store_consistent(store)
    second = import_posts(store, [path], ImportOptions(batch_size=200, parallel=True))
    assert second.status == "done" and second.duplicates == first.records_read
    assert store.count("posts") == 3000
    assert_store_consistent(store)


def test_large_inputs_choose_the_reader_process(tmp_path, monkeypatch):
    path = write_tweets(tmp_path / "some.jsonl", 20)
    reader = open_reader([path], ImportOptions())
    reader.close()
    assert isinstance(reader, BatchReader)
    monkeypatch.setattr(reader_process, "PARALLEL_MIN_BYTES", path.stat().st_size)
    reader = open_reader([path], ImportOptions())
    reader.close()
    assert isinstance(reader, ProcessReader)


def _broken_interpreter(tmp_path: Path) -> str:
    script = tmp_path / "python3"
    script.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named mist_qgis' >&2\nexit 3\n")
    script.chmod(0o755)
    return str(script)


def test_a_reader_process_that_cannot_start_is_an_error_or_a_fallback(store, tmp_path, monkeypatch):
    path = write_tweets(tmp_path / "some.jsonl", 30)
    monkeypatch.setattr(reader_process, "python_executable", lambda: _broken_interpreter(tmp_path))
    with pytest.raises(ReaderProcessError, match="did not start.*No module named mist_qgis"):
        import_posts(store, [path], ImportOptions(parallel=True))
    assert store.runs("import")[-1].status == "failed"
    monkeypatch.setattr(reader_process, "PARALLEL_MIN_BYTES", 0)
    summary = import_posts(store, [path], ImportOptions())  # automatic: falls back to this process
    assert summary.status == "done" and store.count("posts") == 30
    monkeypatch.setattr(reader_process, "python_executable", lambda: None)
    with pytest.raises(ReaderProcessError, match="no Python interpreter"):
        import_posts(store, [path], ImportOptions(parallel=True))


def _frames(data: bytes) -> list:
    out, pos = [], 0
    while pos < len(data):
        (size,) = struct.unpack_from("<I", data, pos)
        out.append(marshal.loads(data[pos + 4:pos + 4 + size]))
        pos += 4 + size
    return out


def test_the_child_reports_a_failure_as_a_message(tmp_path, monkeypatch):
    path = write_tweets(tmp_path / "some.jsonl", 30)

    def failing(self, poll=None):
        yield from ()
        raise PermissionError("[Errno 13] Permission denied: 'some.jsonl'")

    monkeypatch.setattr(BatchReader, "batches", failing)
    out = io.BytesIO()
    job = {"paths": [str(path)], "options": {**asdict(ImportOptions()), "parallel": False}}
    assert serve(job, out) == 1
    frames = _frames(out.getvalue())
    assert frames[0] == ("hello", (reader_process.PROTOCOL, *sys.version_info[:2]))
    assert frames[-1] == ("error", "PermissionError: [Errno 13] Permission denied: 'some.jsonl'")


def test_the_child_sends_batches_then_the_file_lists(tmp_path):
    path = write_tweets(tmp_path / "some.jsonl", 25)
    out = io.BytesIO()
    job = {"paths": [str(path), str(DATA / "empty.jsonl")],
           "options": {**asdict(ImportOptions(batch_size=10)), "parallel": False}}
    assert serve(job, out) == 0
    frames = _frames(out.getvalue())
    kinds = [f[0] for f in frames]
    assert kinds == ["hello", "batch", "batch", "batch", "end"]
    assert sum(len(f[1][0]) for f in frames if f[0] == "batch") == 25
    files, skipped = frames[-1][1:]
    assert [Path(f["path"]).name for f in files] == ["some.jsonl"]
    assert [Path(f["path"]).name for f in skipped] == ["empty.jsonl"]


def test_inside_qgis_the_child_runs_the_installation_s_python(monkeypatch, tmp_path):
    qgis = tmp_path / "qgis"
    qgis.write_text("")
    monkeypatch.setattr(sys, "executable", str(qgis))
    found = interpreter.python_executable()
    assert found is not None and Path(found).name.startswith("python") and Path(found).is_file()
    assert Path(found).parent == Path(sys.exec_prefix) / "bin"  # this installation's, not PATH's
