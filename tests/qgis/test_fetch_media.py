"""`mist:fetchmedia` and the `fetch-media` verb inside QGIS, directly and on the Processing task runner."""

from __future__ import annotations

import json

import processing
import pytest
from qgis.core import QgsProcessingException

from mist_qgis.core.posts import MediaRef, PostRecord
from mist_qgis.core.store import open_store
from tests.helpers.cli import run_cli
from tests.helpers.tasks import AlgorithmRun
from tests.media_fixtures import MediaServer, jpeg_bytes, photo


def _store_with(path, records):
    with open_store(path) as store:
        with store.batch() as conn:
            store.add_posts(conn, records)


def _drive(tmp_path):
    drive = tmp_path / "drive"
    drive.mkdir()
    (drive / "a.jpg").write_bytes(jpeg_bytes(photo("astronaut", 80)))
    (drive / "77.jpg").write_bytes(jpeg_bytes(photo("coffee", 80)))
    return drive


def _posts():
    return [
        PostRecord("1", "twitter", 1.0, 2.0, media=[MediaRef(url="https://example.org/m/a.jpg")]),
        PostRecord("77", "twitter", 1.0, 2.0, media=[MediaRef(url="https://example.org/m/x")]),
        PostRecord("3", "twitter", 1.0, 2.0, media=[MediaRef(path="../../etc/passwd")]),
    ]


def test_algorithm_offline(tmp_path):
    store_path = tmp_path / "s.gpkg"
    _store_with(store_path, _posts())
    result = processing.run("mist:fetchmedia", {
        "STORE": str(store_path), "OFFLINE": True, "MEDIA_DIR": str(_drive(tmp_path)),
    })
    summary = json.loads(result["SUMMARY"])
    assert (result["OK"], result["SKIPPED"], result["PENDING"], result["FAILED"]) == (2, 1, 0, 0)
    assert summary["offline"] and summary["counts"]["ok"] == 2 and summary["bytes"] > 0
    assert summary["status"] == "done" and "images_per_s" in summary and summary["duplicates"] == 0


def test_algorithm_online_with_private_hosts_allowed(tmp_path):
    store_path = tmp_path / "s.gpkg"
    with MediaServer() as server:
        url = server.add("/a.jpg", jpeg_bytes(photo()))
        _store_with(store_path, [PostRecord("1", "t", 1.0, 2.0, media=[MediaRef(url=url)])])
        refused = processing.run("mist:fetchmedia", {"STORE": str(store_path)})
        assert refused["SKIPPED"] == 1 and server.hits["/a.jpg"] == 0
        allowed = processing.run("mist:fetchmedia", {
            "STORE": str(store_path), "ALLOW_PRIVATE_HOSTS": True, "RETRY": True, "WORKERS": 2,
        })
    assert allowed["OK"] == 1 and server.hits["/a.jpg"] == 1


def test_algorithm_offline_without_folder_is_a_clean_error(tmp_path):
    store_path = tmp_path / "s.gpkg"
    _store_with(store_path, _posts())
    with pytest.raises(QgsProcessingException, match="media folder"):
        processing.run("mist:fetchmedia", {"STORE": str(store_path), "OFFLINE": True})


def test_cli_fetch_media(tmp_path):
    store_path = tmp_path / "s.gpkg"
    _store_with(store_path, _posts())
    drive = _drive(tmp_path)
    out = run_cli("fetch-media", "--store", store_path, "--offline", "--media-dir", drive, "--workers", "2")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["summary"]["media_status"] == {"pending": 0, "ok": 2, "failed": 0, "skipped": 1}
    assert result["ok"] == 2 and result["duplicates"] == 0
    bad = run_cli("fetch-media", "--store", store_path, "--offline")
    assert bad.returncode == 2 and bad.stderr.startswith("mist: error:") and "--media-dir" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_task_runner_progress_cancel_and_resume(tmp_path):
    """The dock's way: mist:fetchmedia on QGIS's Processing task runner, cancelled mid-run, resumed."""
    store_path = tmp_path / "s.gpkg"
    parameters = {"STORE": str(store_path), "ALLOW_PRIVATE_HOSTS": True, "WORKERS": 2}
    with MediaServer() as server:
        server.latency = 0.05
        urls = [server.add(f"/t/{i}.jpg", jpeg_bytes(photo("chelsea", 40 + i))) for i in range(40)]
        _store_with(store_path, [PostRecord(str(i), "t", 1.0, 2.0, media=[MediaRef(url=u)])
                                 for i, u in enumerate(urls)])
        run = AlgorithmRun("mist:fetchmedia", parameters)
        run.feedback.progressChanged.connect(lambda value: run.feedback.cancel() if value >= 10 else None)
        run.start().wait()
        summary = json.loads(run.results["SUMMARY"])
        assert summary["status"] == "cancelled" and run.progress and 0 < max(run.progress) < 100
        with open_store(store_path) as store:
            first = store.count("media", "status = 'ok'")
            assert 4 <= first < 40 and store.count("media", "status = 'failed'") == 0
            assert store.runs("fetchmedia")[-1].status == "cancelled"
        again = AlgorithmRun("mist:fetchmedia", parameters).start().wait()
        assert again.ok and json.loads(again.results["SUMMARY"])["status"] == "done"
        assert int(again.results["OK"]) == 40
    with open_store(store_path) as store:
        assert store.count("media", "status = 'ok'") == 40
