"""Live monitoring on real files, folders, a real HTTP server on 127.0.0.1 and a real store."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from mist_qgis.core.images.urlguard import UrlPolicy
from mist_qgis.core.live.alerts import AlertRule, AlertRuleError, raise_alerts
from mist_qgis.core.live.sources import (
    LIVE_MAX_LINE_BYTES,
    DropFolder,
    FeedOptions,
    HttpFeed,
    JsonLinesFile,
)
from mist_qgis.core.live.watch import WatchOptions, watch
from mist_qgis.core.posts.issues import Note, Skip
from mist_qgis.core.posts.record import PostRecord
from mist_qgis.core.store import live_sql
from tests.live_kit import mixed_lines, v1_line

DATA = Path(__file__).resolve().parents[1] / "data" / "posts"


def _records(pending) -> list:
    return [i for i in pending.items if isinstance(i, PostRecord)]


def test_tail_reads_only_complete_lines_and_goes_on_from_its_cursor(tmp_path: Path):
    path = tmp_path / "stream.jsonl"
    path.write_text(mixed_lines(0, 4))
    src = JsonLinesFile(path)
    first = src.poll(None)
    assert len(_records(first)) == 4 and first.cursor["line"] == 4
    line = v1_line(99)
    with open(path, "a") as fh:  # a line written in two steps
        fh.write(line[:30])
    assert src.poll(first.cursor) is None
    with open(path, "a") as fh:
        fh.write(line[30:])
    second = src.poll(first.cursor)
    assert [r.post_id for r in _records(second)] == ["1417400000000000099"]
    assert second.cursor["line"] == 5 and second.cursor["offset"] == path.stat().st_size


def test_tail_counts_garbage_and_skips_an_overlong_line_unread(tmp_path: Path):
    path = tmp_path / "stream.jsonl"
    big = b'{"text": "' + b"x" * (50 << 20) + b'"}\n'  # a 50 MB line
    path.write_bytes(v1_line(1).encode() + b"{not json\n" + b"\x00\x01\x02\xff\xfe\n" + big + v1_line(2).encode())
    pending = JsonLinesFile(path).poll(None)
    skips = [i for i in pending.items if isinstance(i, Skip)]
    assert len(_records(pending)) == 2
    assert [s.line for s in skips] == [2, 3, 4]
    assert "malformed JSON" in skips[0].reason and "binary" in skips[1].reason
    assert f"longer than {LIVE_MAX_LINE_BYTES >> 20} MiB" in skips[2].reason
    assert pending.cursor["line"] == 5 and pending.cursor["offset"] == path.stat().st_size


def test_tail_follows_rotation_and_truncation(tmp_path: Path):
    path = tmp_path / "stream.jsonl"
    path.write_text(mixed_lines(0, 3))
    src = JsonLinesFile(path)
    c1 = src.poll(None).cursor
    with open(path, "a") as fh:
        fh.write(mixed_lines(3, 2))  # written just before the collector rotates
    path.rename(tmp_path / "stream.jsonl.1")
    path.write_text(mixed_lines(10, 2))
    drained = src.poll(c1)
    assert [r.post_id[-2:] for r in _records(drained)] == ["03", "04"]
    fresh = src.poll(drained.cursor)
    assert any(isinstance(i, Note) and "rotated" in i.reason for i in fresh.items)
    assert [r.post_id[-2:] for r in _records(fresh)] == ["10", "11"]
    path.write_text(mixed_lines(20, 1))  # truncated in place: same inode, smaller
    again = src.poll(fresh.cursor)
    assert any(isinstance(i, Note) and "truncated" in i.reason for i in again.items)
    assert [r.post_id[-2:] for r in _records(again)] == ["20"]


def test_drop_folder_waits_for_stable_regular_files(tmp_path: Path):
    drop = tmp_path / "drop"
    drop.mkdir()
    src = DropFolder(drop)
    shutil.copy(DATA / "twitter_v1.jsonl", drop / "export.jsonl")
    (drop / "sub").mkdir()
    os.symlink(DATA / "generic.csv", drop / "link.csv")
    assert src.poll(None) is None  # seen once: maybe still being copied
    first = src.poll(None)
    assert first is not None and list(first.cursor["done"]) == ["export.jsonl"]
    assert _records(first)
    shutil.copy(DATA / "photos" / "flooded_street.jpg", drop / "a.jpg")
    assert src.poll(first.cursor) is None
    photo = src.poll(first.cursor)
    assert sorted(photo.cursor["done"]) == ["a.jpg", "export.jsonl"]
    assert [r.platform for r in _records(photo)] == ["photo"]
    assert src.poll(photo.cursor) is None


class _Feed(http.server.BaseHTTPRequestHandler):
    body = b""
    etag = '"v1"'
    fail = 0
    seen: list[dict] = []

    def do_GET(self):  # noqa: N802
        type(self).seen.append(dict(self.headers))
        if type(self).fail:
            type(self).fail -= 1
            self.send_response(500)
            self.end_headers()
            return
        if self.headers.get("If-None-Match") == type(self).etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", type(self).etag)
        self.send_header("Content-Length", str(len(type(self).body)))
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args):
        pass


@pytest.fixture
def feed_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_feed_is_conditional_backs_off_and_refuses_loopback_by_default(feed_server):
    _Feed.body = (DATA / "features.geojson").read_bytes()
    url = f"http://127.0.0.1:{feed_server.server_port}/feed.geojson"
    refused = HttpFeed(url, FeedOptions(interval_s=0.0))
    assert refused.poll(None) is None and "loopback" in refused.status.state
    refused.close()
    feed = HttpFeed(url, FeedOptions(interval_s=0.0, policy=UrlPolicy.allowing(["127.0.0.1/32"])))
    first = feed.poll(None)
    assert _records(first) and first.cursor["etag"] == '"v1"'
    assert feed.poll(first.cursor) is None and feed.status.state == "not modified"
    assert _Feed.seen[-1].get("If-None-Match") == '"v1"'
    _Feed.fail = 1
    _Feed.etag = '"v2"'
    feed.options.interval_s = 0.5
    assert feed.poll(first.cursor) is None and feed.status.failures == 1
    assert feed.poll(first.cursor) is None  # backing off: not even asked
    feed.next_poll = 0.0
    assert _records(feed.poll(first.cursor))
    feed.close()


def test_watch_commits_cursor_with_posts_and_restarts_exactly(store, tmp_path: Path):
    path = tmp_path / "stream.jsonl"
    path.write_text(mixed_lines(0, 7) + "{broken\n")
    options = WatchOptions([str(path)], interval_s=0.05, max_posts=8, fetch_media=False)
    first = watch(store, options)
    assert first.counts["imported"] == 7 and first.counts["skipped"] == 1
    with open(path, "a") as fh:
        fh.write(mixed_lines(7, 5))
    second = watch(store, WatchOptions([str(path)], interval_s=0.05, max_posts=5, fetch_media=False))
    assert second.counts["records_read"] == 5 and second.counts["duplicates"] == 0
    assert store.count("posts") == 12
    assert live_sql.get_cursor(store, str(path.resolve()))["line"] == 13


def test_alert_rule_area_keywords_and_near_duplicates(store, tmp_path: Path):
    area = "POLYGON((113 34, 114 34, 114 35, 113 35, 113 34))"
    path = tmp_path / "stream.jsonl"
    path.write_text(v1_line(1, "bridge flooded") + v1_line(2, "bridge flooded", lon=10.0, lat=10.0)
                    + v1_line(3, "sunny day"))
    rule = AlertRule(area_wkt=area, keywords=("flooded",))
    result = watch(store, WatchOptions([str(path)], rule=rule, interval_s=0.05, max_posts=3, fetch_media=False))
    assert result.counts["alerts"] == 1
    assert store.scalar("SELECT text FROM alerts") == "bridge flooded 1"
    with pytest.raises(AlertRuleError):
        AlertRule(area_wkt="POINT(1 2)")


def test_near_duplicate_photos_raise_one_alert(store, tmp_path: Path):
    path = tmp_path / "stream.jsonl"
    path.write_text(v1_line(1, "flooded") + v1_line(2, "flooded") + v1_line(3, "flooded"))
    watch(store, WatchOptions([str(path)], interval_s=0.05, max_posts=3, fetch_media=False))
    a, b, c = (r[0] for r in store.query("SELECT fid FROM posts ORDER BY fid"))
    with store.batch() as conn:  # what the media stage's dedup leaves: b's photo duplicates a's
        conn.execute("INSERT INTO media (post_fid, position, kind, url) VALUES (?, 0, 'photo', 'u1')", (a,))
        m1 = conn.execute("SELECT MAX(fid) FROM media").fetchone()[0]
        conn.execute("INSERT INTO media (post_fid, position, kind, url, duplicate_of) "
                     "VALUES (?, 0, 'photo', 'u2', ?)", (b, m1))
    assert raise_alerts(store, AlertRule(keywords=("flooded",)), 0, None) == [a, c]
    assert store.scalar("SELECT posts FROM alerts WHERE post_fid = ?", (a,)) == 2
    assert store.count("alert_posts") == 3
    assert raise_alerts(store, AlertRule(keywords=("flooded",)), 0, None) == []  # nothing twice


class _Photos(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802
        body = type(self).files.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


def _png(rgb: tuple[int, int, int]) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(sum(rgb))
    noise = rng.integers(0, 40, (64, 64, 3))
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.array(rgb) + noise, 0, 255).astype("uint8")).save(buf, "PNG")
    return buf.getvalue()


def test_each_batch_goes_through_fetch_head_and_alerts(store, tmp_path: Path):
    """The existing stages run per batch: photos fetched from a local server, screened by a real
    ONNX head, a flood-scored post raises one alert and its duplicate photo joins it."""
    from tests.helpers.modelkit import colour_card, make_colour_model

    head = make_colour_model(tmp_path / "head.onnx", colour_card(labels=("flood", "green", "other")))
    _Photos.files = {"/red.png": _png((220, 20, 20)), "/blue.png": _png((20, 20, 220))}
    _Photos.files["/red-again.png"] = _Photos.files["/red.png"]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Photos)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        path = tmp_path / "stream.jsonl"
        path.write_text(v1_line(1, photo=f"{base}/red.png") + v1_line(2, photo=f"{base}/blue.png"))
        options = WatchOptions([str(path)], head=str(head), rule=AlertRule(threshold=0.8, label="flood"),
                               interval_s=0.05, max_posts=2, policy=UrlPolicy.allowing(["127.0.0.1/32"]))
        first = watch(store, options)
        assert first.counts["fetched"] == 2 and first.counts["classified"] == 2 and first.counts["alerts"] == 1
        with open(path, "a") as fh:
            fh.write(v1_line(3, photo=f"{base}/red-again.png") + v1_line(4))
        second = watch(store, options)
        assert second.counts["classified"] >= 1 and second.counts["alerts"] == 0  # joined the first alert
    finally:
        server.shutdown()
        server.server_close()
    assert store.count("alerts") == 1 and store.scalar("SELECT posts FROM alerts") == 2
    assert store.count("posts", "cls_label = 'flood'") == 2


def _without_coordinates(n: int, text: str) -> str:
    obj = json.loads(v1_line(n, text))
    obj["coordinates"] = None
    return json.dumps(obj) + "\n"


def test_posts_without_coordinates_are_placed_from_their_text_in_each_batch(store, tmp_path: Path):
    from shapely.geometry import Point

    from mist_qgis.core.geoloc.gazetteer import Gazetteer, GazetteerEntry

    gazetteer = Gazetteer([GazetteerEntry("郑州火车站", Point(113.6587, 34.7466), 1)])
    station = "POLYGON((113.65 34.74, 113.67 34.74, 113.67 34.75, 113.65 34.75, 113.65 34.74))"
    path = tmp_path / "stream.jsonl"
    path.write_text(_without_coordinates(1, "郑州火车站 积水") + _without_coordinates(2, "sunny day")
                    + v1_line(3, "郑州火车站", lon=113.0, lat=34.0))
    options = WatchOptions([str(path)], rule=AlertRule(area_wkt=station), interval_s=0.05, max_posts=3,
                           fetch_media=False, gazetteer=gazetteer)
    result = watch(store, options)
    assert result.counts["placed"] == 1 and result.counts["unlocated"] == 2
    assert "1 placed from their text" in result.message
    rows = store.query("SELECT post_id, geo_source, ST_MinX(geom), ST_MinY(geom) FROM posts ORDER BY post_id")
    assert [r[1] == "geocoded" for r in rows] == [True, False, False]
    assert rows[0][1] == "geocoded" and rows[0][2] == pytest.approx(113.6587)
    assert rows[1][2] is None and rows[2][2] == pytest.approx(113.0)  # a post with coordinates keeps them
    assert result.counts["alerts"] == 1 and store.scalar("SELECT text FROM alerts").startswith("郑州火车站 积水")
    with open(path, "a") as fh:  # the next batch: only its own posts are looked at
        fh.write(_without_coordinates(4, "郑州火车站"))
    again = watch(store, WatchOptions([str(path)], interval_s=0.05, max_posts=1, fetch_media=False,
                                      gazetteer=gazetteer))
    assert again.counts["placed"] == 1 and store.count("posts", "geo_source = 'geocoded'") == 2
    assert store.count("coarse_locations") == 2
    # the post with no place name was explained once, in its own batch
    assert store.count("issues", "stage = 'geocode_text' AND reason = 'no gazetteer name in the text'") == 1


class _Flaky(http.server.BaseHTTPRequestHandler):
    """/flaky.png answers 503 `fail` times, then the photo; /gone.png is 404; /text.png is no image."""

    fail = 0
    photo = b""

    def do_GET(self):  # noqa: N802
        cls = type(self)
        if self.path == "/flaky.png" and cls.fail:
            cls.fail -= 1
            status, body = 503, b""
        elif self.path == "/flaky.png":
            status, body = 200, cls.photo
        elif self.path == "/text.png":
            status, body = 200, b"<html>not a photo</html>"
        else:
            status, body = 404, b""
        self.send_response(status)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_transient_photo_failures_are_retried_with_backoff_and_permanent_ones_are_not(store, tmp_path: Path):
    import socket

    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    _Flaky.fail, _Flaky.photo = 3, _png((20, 20, 220))  # one whole fetch: the request and its 2 retries
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    path = tmp_path / "stream.jsonl"
    path.write_text(v1_line(1, photo=f"{base}/flaky.png") + v1_line(2, photo=f"{base}/gone.png")
                    + v1_line(3, photo=f"{base}/text.png") + v1_line(4, photo=f"http://127.0.0.1:{closed}/x.png")
                    + v1_line(5, photo="http://10.1.2.3/private.png"))
    options = WatchOptions([str(path)], interval_s=0.05, max_posts=5, policy=UrlPolicy.allowing(["127.0.0.1/32"]),
                           photo_retries=1, retry_backoff_s=0.1)

    def media() -> dict[str, tuple]:
        return {r[0].rsplit("/", 1)[-1]: (r[1], r[2], r[3] is not None)
                for r in store.query("SELECT url, status, retries, retry_failed_at FROM media")}

    try:
        first = watch(store, options)
        assert first.counts["fetched"] == 0 and first.counts["retried"] == 0
        assert media() == {"flaky.png": ("failed", 0, True), "gone.png": ("failed", 0, False),
                           "text.png": ("failed", 0, False), "x.png": ("failed", 0, True),
                           "private.png": ("skipped", 0, False)}
        time.sleep(0.2)  # the backoff passes; the next batch tries the transient ones again
        with open(path, "a") as fh:
            fh.write(v1_line(6))
        second = watch(store, WatchOptions(**{**options.__dict__, "max_posts": 1}))
        assert second.counts["retried"] == 2 and second.counts["fetched"] == 1
        assert media()["flaky.png"] == ("ok", 1, False)
        assert media()["x.png"] == ("failed", 1, True)  # failed again: waits for its last try
        with open(path, "a") as fh:
            fh.write(v1_line(7))
        third = watch(store, WatchOptions(**{**options.__dict__, "max_posts": 1}))
        assert third.counts["retried"] == 0  # the limit of one retry is reached
        assert media()["x.png"] == ("failed", 1, False)
        assert {k: v for k, v in media().items() if k in ("gone.png", "text.png", "private.png")} == {
            "gone.png": ("failed", 0, False), "text.png": ("failed", 0, False), "private.png": ("skipped", 0, False)}
    finally:
        server.shutdown()
        server.server_close()


def test_posts_of_a_batch_whose_stages_crashed_are_placed_and_alerted_after_a_restart(store, tmp_path: Path):
    from shapely.geometry import Point

    from mist_qgis.core.geoloc.gazetteer import Gazetteer, GazetteerEntry

    class Broken(Gazetteer):
        def find(self, text):  # a bug in the place lookup, after the batch and its cursor committed
            raise RuntimeError("gazetteer index corrupt")

    entries = [GazetteerEntry("郑州火车站", Point(113.6587, 34.7466), 1)]
    path = tmp_path / "stream.jsonl"
    path.write_text(_without_coordinates(1, "郑州火车站 积水"))
    rule = AlertRule(keywords=("积水",))
    with pytest.raises(RuntimeError):
        watch(store, WatchOptions([str(path)], rule=rule, interval_s=0.05, max_posts=1, fetch_media=False,
                                  gazetteer=Broken(entries)))
    assert store.count("posts") == 1 and store.count("alerts") == 0  # imported, not yet placed or alerted
    again = watch(store, WatchOptions([str(path)], rule=rule, interval_s=0.05, fetch_media=False,
                                      gazetteer=Gazetteer(entries), until=time.time() + 0.5))
    assert again.counts["records_read"] == 0 and again.counts["placed"] == 1 and again.counts["alerts"] == 1
    assert store.count("posts", "geo_source = 'geocoded'") == 1


def test_a_head_version_recorded_again_keeps_what_it_learnt_from_and_scored(store):
    with store.batch() as conn:
        live_sql.add_head_version(conn, "flood-head@1", "/start/h1.onnx", "flood-head", 40, 0.87, "skill", "active",
                                  "the head the watch started with", None)
        live_sql.add_head_version(conn, "flood-head@1.1", "/heads/h2.onnx", "flood-head", 60, 0.9, None, "active",
                                  "better", None)
        live_sql.count_scored(conn, "flood-head@1", 12)
    with store.batch() as conn:  # the first head chosen again when a watch starts
        live_sql.add_head_version(conn, "flood-head@1", "/again/h1.onnx", "flood-head", 0, None, None, "active",
                                  "chosen again", None)
    rows = store.query("SELECT model, path, lineage, verdicts, f1, skill, status, reason, scored FROM head_versions "
                       "ORDER BY fid")
    assert [tuple(r) for r in rows] == [
        ("flood-head@1", "/again/h1.onnx", "flood-head", 40, 0.87, "skill", "active", "chosen again", 12),
        ("flood-head@1.1", "/heads/h2.onnx", "flood-head", 60, 0.9, None, "retired", "better", 0)]
