"""`mist:fetchmedia`, the `fetch-media` verb and FetchMediaTask, inside QGIS."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import processing
import pytest
from qgis.core import QgsApplication, QgsProcessingException
from qgis.PyQt.QtCore import QCoreApplication

from mist_qgis.core.images.fetcher import FetchLimits
from mist_qgis.core.images.pipeline import FetchOptions
from mist_qgis.core.images.urlguard import UrlPolicy
from mist_qgis.core.posts import MediaRef, PostRecord
from mist_qgis.core.store import open_store
from mist_qgis.tasks.fetch_task import FetchMediaTask
from tests.helpers.tasks import wait_for_task
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
    out = subprocess.run(
        [sys.executable, "-m", "mist_qgis", "fetch-media", "--store", str(store_path), "--offline",
         "--media-dir", str(drive), "--workers", "2"],
        capture_output=True, text=True, timeout=180,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["summary"]["media_status"] == {"pending": 0, "ok": 2, "failed": 0, "skipped": 1}
    assert result["ok"] == 2 and result["duplicates"] == 0
    bad = subprocess.run([sys.executable, "-m", "mist_qgis", "fetch-media", "--store", str(store_path),
                          "--offline"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("mist: error:") and "--media-dir" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_task_progress_cancel_and_resume(tmp_path):
    store_path = tmp_path / "s.gpkg"
    options = FetchOptions(policy=UrlPolicy.allowing(["127.0.0.1/32"]), workers=2,
                           limits=FetchLimits(read_timeout=5, retries=0), flush_every=2)
    with MediaServer() as server:
        server.latency = 0.05
        urls = [server.add(f"/t/{i}.jpg", jpeg_bytes(photo("chelsea", 40 + i))) for i in range(40)]
        _store_with(store_path, [PostRecord(str(i), "t", 1.0, 2.0, media=[MediaRef(url=u)])
                                 for i, u in enumerate(urls)])
        finished = []
        task = FetchMediaTask(store_path, options, on_done=finished.append)
        progress = []
        task.progressChanged.connect(progress.append)
        QgsApplication.taskManager().addTask(task)
        end = time.monotonic() + 30
        while task.last_progress is None or task.last_progress.done < 4:
            QCoreApplication.processEvents()
            time.sleep(0.01)
            assert time.monotonic() < end
        description = task.description()
        task.cancel()
        wait_for_task(task)
        assert finished == [task] and task.summary is not None and task.summary.status == "cancelled"
        assert "MB" in description and "photos/s" in description and "/40" in description
        assert progress and 0 < max(progress) < 100
        with open_store(store_path) as store:
            first = store.count("media", "status = 'ok'")
            assert 4 <= first < 40 and store.count("media", "status = 'failed'") == 0
        again = FetchMediaTask(store_path, options)
        QgsApplication.taskManager().addTask(again)
        wait_for_task(again)
        assert again.summary.status == "done" and again.summary.counts["ok"] == 40 - first
    with open_store(store_path) as store:
        assert store.count("media", "status = 'ok'") == 40
