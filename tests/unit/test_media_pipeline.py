"""The media stage end to end on real GeoPackage stores: online against the hostile server on
127.0.0.1 (loopback exception on for these tests only), offline from a folder, resume after
is_cancelled, near-duplicates, video frames and EXIF locations."""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from PIL import Image

from mist_qgis.core.images.fetcher import FetchLimits
from mist_qgis.core.images.pipeline import FetchOptions, link_duplicates, run_fetch_media
from mist_qgis.core.images.safe_decode import ImageLimits
from mist_qgis.core.images.urlguard import UrlPolicy
from mist_qgis.core.posts import MediaRef, PostRecord
from mist_qgis.core.store import gpkg, open_store
from tests.media_fixtures import (
    MediaServer,
    exif_jpeg,
    jpeg_bytes,
    photo,
    png_bomb,
    png_bytes,
    write_video,
)

LOOPBACK = UrlPolicy.allowing(["127.0.0.1/32"])
T0 = datetime(2024, 7, 20, 8, 0, tzinfo=UTC)


def _options(**kwargs) -> FetchOptions:
    kwargs.setdefault("policy", LOOPBACK)
    kwargs.setdefault("limits", FetchLimits(read_timeout=2, retries=1, backoff=0.01, max_retry_after=0.2))
    kwargs.setdefault("workers", 4)
    return FetchOptions(**kwargs)


def _post(pid: str, *media: MediaRef, minutes: int = 0, located: bool = True, **kwargs) -> PostRecord:
    return PostRecord(
        post_id=pid, platform="weibo", lon=113.6 if located else None, lat=34.7 if located else None,
        timestamp=T0 + timedelta(minutes=minutes), media=list(media), **kwargs,
    )


def _add(store, posts):
    with store.batch() as conn:
        store.add_posts(conn, posts)


def _media(store, post_id: str, position: int = 0):
    rows = store.query(
        "SELECT m.* FROM media m JOIN posts p ON p.fid = m.post_fid WHERE p.post_id = ? AND m.position = ?",
        (post_id, position),
    )
    return rows[0]


@pytest.fixture
def server():
    with MediaServer() as s:
        yield s


def test_online_run_vets_caches_and_records_everything(store, server):
    good = exif_jpeg(photo("astronaut", 200))
    png = png_bytes(photo("coffee", 120))
    u_good = server.add("/p/good.jpg", good)
    u_png = server.add("/p/good.png", png, "image/png")
    u_copy = server.add("/other/same-bytes.jpg", good)  # same photo, another URL
    u_html = server.add("/p/login.jpg", b"<html><body>please log in</body></html>", "image/jpeg")
    u_trunc = server.add("/p/trunc.jpg", jpeg_bytes(photo())[:2500])
    u_bomb = server.add("/p/bomb.png", png_bomb(3000), "image/png")
    _add(store, [
        _post("1", MediaRef(url=u_good), located=False),
        _post("2", MediaRef(url=u_good)),  # repost of the same URL
        _post("3", MediaRef(url=u_png), MediaRef(url=u_copy)),
        _post("4", MediaRef(url=u_html)),
        _post("5", MediaRef(url=u_trunc)),
        _post("6", MediaRef(url=u_bomb)),
        _post("7", MediaRef(url=server.url("/p/missing.jpg"))),
        _post("8", MediaRef(url="http://10.0.0.1/a.jpg"), MediaRef(url="file:///etc/passwd")),
        _post("9", MediaRef(url="http://169.254.169.254/latest/meta-data/iam")),
        _post("10", MediaRef(path="photos/a.jpg")),  # a local path, but no media folder given
        _post("11", MediaRef()),
    ])
    summary = run_fetch_media(store, _options(image_limits=ImageLimits(max_pixels=4_000_000)))

    assert server.hits["/p/good.jpg"] == 1  # the repost was not downloaded again
    ok = _media(store, "1")
    assert ok["status"] == "ok" and ok["error"] is None
    assert ok["content_type"] == "image/jpeg" and ok["bytes"] == len(good)
    assert (ok["width"], ok["height"]) == (200, 200) and ok["fetched_at"] and len(ok["phash"]) == 16
    cached = store.media_file(ok["cache_path"])
    assert cached.read_bytes() == good and cached.name == f"{ok['sha256']}.jpg"
    assert (store.media_dir / "thumbs" / f"{ok['sha256']}.jpg").is_file()
    assert json.loads(ok["exif"])["lat"] == pytest.approx(29.7604, abs=1e-4)
    assert _media(store, "2")["cache_path"] == ok["cache_path"]
    assert _media(store, "3", 1)["cache_path"] == ok["cache_path"]  # same bytes, stored once
    assert len(list(store.media_dir.glob("??/*.jpg"))) == 1
    assert _media(store, "3")["content_type"] == "image/png"

    def failed(pid, pos=0):
        row = _media(store, pid, pos)
        return row["status"], row["error"]

    assert failed("4") == ("failed", "not an image (content does not decode as a photo) (server said image/jpeg)")
    assert failed("5")[0] == "failed" and "truncated" in failed("5")[1]
    assert failed("6")[0] == "failed" and "decompression bomb" in failed("6")[1]
    assert failed("7") == ("failed", "HTTP 404")
    assert failed("8")[0] == "skipped" and "private" in failed("8")[1]
    assert failed("8", 1)[0] == "skipped" and "scheme 'file'" in failed("8", 1)[1]
    assert failed("9")[0] == "skipped" and "link-local" in failed("9")[1]
    assert _media(store, "10")["status"] == "pending" and "no media folder" in _media(store, "10")["error"]
    assert failed("11")[0] == "skipped"

    assert summary.status == "done"
    assert summary.counts == {"ok": 4, "failed": 4, "skipped": 4, "reused": 1, "left_pending": 1}
    assert summary.media_status == {"pending": 1, "ok": 4, "failed": 4, "skipped": 4}
    assert summary.duplicates == 2  # the repost of the URL, and the same bytes at another URL
    assert summary.located_from_exif == 1
    run = store.runs("fetchmedia")[-1]
    assert run.status == "done" and run.counts["failed"] == 4
    reasons = [r["reason"] for r in store.issues_for_run(summary.run_id)]
    assert len(reasons) == 9 and any("HTTP 404" in r for r in reasons)

    post = store.query("SELECT geom, geo_source, direction, altitude FROM posts WHERE post_id = '1'")[0]
    assert post["geo_source"] == "exif" and post["direction"] == pytest.approx(135.5)
    lon, lat = gpkg.point_xy(post["geom"])
    assert (lon, lat) == (pytest.approx(-95.3698, abs=1e-4), pytest.approx(29.7604, abs=1e-4))
    other = store.query("SELECT geom, geo_source FROM posts WHERE post_id = '2'")[0]
    assert other["geo_source"] == "none" and gpkg.point_xy(other["geom"]) == (113.6, 34.7)  # never moved

    again = run_fetch_media(store, _options())
    assert again.counts["ok"] == 0 and server.hits["/p/good.jpg"] == 1  # ok rows are never fetched again


def test_cancel_then_resume_never_fetches_a_cached_photo_again(store_path, server):
    server.latency = 0.02
    urls = [server.add(f"/r/{i}.jpg", jpeg_bytes(photo("astronaut", 48 + i))) for i in range(30)]
    with open_store(store_path) as store:
        _add(store, [_post(str(i), MediaRef(url=u)) for i, u in enumerate(urls)])
        seen = []
        first = run_fetch_media(store, _options(workers=2, flush_every=3),
                                progress=seen.append, is_cancelled=lambda: len(seen) >= 6)
        assert first.status == "cancelled" and "next run continues" in first.message
        done = store.count("media", "status = 'ok'")
        assert 6 <= done < 30 and store.count("media", "status = 'failed'") == 0
        assert store.runs("fetchmedia")[-1].status == "cancelled"
        cached_first = {r["url"] for r in store.query("SELECT url FROM media WHERE status = 'ok'")}
    with open_store(store_path) as store:  # a new session, as after closing QGIS
        second = run_fetch_media(store, _options(workers=2))
        assert second.status == "done" and second.counts["ok"] == 30 - done
        assert store.count("media", "status = 'ok'") == 30
    assert all(server.hits[u.split(str(server.port), 1)[1]] == 1 for u in cached_first)
    # only downloads in flight at the moment of the cancel were repeated (at most one per worker)
    assert sum(server.hits[f"/r/{i}.jpg"] for i in range(30)) <= 30 + 2


def test_run_byte_limit_leaves_the_rest_pending(store, server):
    urls = [server.add(f"/b/{i}.jpg", jpeg_bytes(photo("coffee", 64 + i))) for i in range(10)]
    _add(store, [_post(str(i), MediaRef(url=u)) for i, u in enumerate(urls)])
    size = len(jpeg_bytes(photo("coffee", 64)))
    summary = run_fetch_media(store, _options(workers=1, max_run_bytes=3 * size))
    assert "limit" in summary.message and summary.counts["failed"] == 0
    assert 1 <= store.count("media", "status = 'ok'") <= 3
    assert store.count("media", "status = 'pending'") >= 7


def test_retry_puts_failed_rows_back(store, server):
    url = server.url("/later.jpg")
    _add(store, [_post("1", MediaRef(url=url))])
    run_fetch_media(store, _options())
    assert _media(store, "1")["status"] == "failed"
    server.add("/later.jpg", jpeg_bytes(photo()))
    assert run_fetch_media(store, _options()).counts["ok"] == 0  # failed rows wait for --retry
    assert run_fetch_media(store, _options(retry=True)).counts["ok"] == 1


def test_offline_resolves_from_a_folder_and_never_touches_the_network(store, tmp_path, monkeypatch):
    drive = tmp_path / "drive"
    (drive / "sub").mkdir(parents=True)
    (drive / "IMG_0001.jpg").write_bytes(jpeg_bytes(photo("astronaut", 64)))
    (drive / "sub" / "4242_1.jpg").write_bytes(jpeg_bytes(photo("coffee", 64)))
    (drive / "sub" / "4242_2.png").write_bytes(png_bytes(photo("chelsea", 64)))
    (drive / "export" / "photos").mkdir(parents=True)
    (drive / "export" / "photos" / "x.jpg").write_bytes(jpeg_bytes(photo("rocket", 64)))
    (drive / "field_cam_77.jpg").write_bytes(jpeg_bytes(photo("camera", 64)))
    (drive / "evil.jpg").symlink_to(tmp_path / "secret.jpg")
    (tmp_path / "secret.jpg").write_bytes(jpeg_bytes(photo("astronaut", 32)))
    _add(store, [
        _post("1", MediaRef(url="https://pbs.example.org/media/IMG_0001.jpg?name=large")),  # by file name
        _post("4242", MediaRef(url="https://x.example.org/a"), MediaRef(url="https://x.example.org/b")),  # by id
        _post("3", MediaRef(path="export/photos/x.jpg")),  # by path
        _post("4", MediaRef(url="https://x.example.org/c"), attributes={"photo_file": "field_cam_77.jpg"}),
        _post("5", MediaRef(path="../secret.jpg")),
        _post("6", MediaRef(path="evil.jpg")),
        _post("7", MediaRef(url="https://x.example.org/not-on-the-drive.jpg")),
        _post("8", MediaRef(path="C:\\Users\\field\\DCIM\\IMG_0001.jpg")),  # absolute Windows path: by name
    ])

    def no_network(*args, **kwargs):
        raise AssertionError("offline mode opened a socket connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    summary = run_fetch_media(store, FetchOptions(offline=True, media_dir=drive, mapping_column="photo_file"))

    assert _media(store, "1")["status"] == "ok" and _media(store, "1")["width"] == 64
    assert _media(store, "4242", 0)["content_type"] == "image/jpeg"
    assert _media(store, "4242", 1)["content_type"] == "image/png"
    assert _media(store, "3")["status"] == "ok"
    four = _media(store, "4")
    assert four["status"] == "ok" and store.media_file(four["cache_path"]).read_bytes() == \
        (drive / "field_cam_77.jpg").read_bytes()
    assert _media(store, "5")["status"] == "skipped" and "climbs out" in _media(store, "5")["error"]
    assert _media(store, "6")["status"] == "skipped" and "outside" in _media(store, "6")["error"]
    pending = _media(store, "7")
    assert pending["status"] == "pending" and pending["error"].startswith("offline: no local file")
    assert _media(store, "8")["cache_path"] == _media(store, "1")["cache_path"]
    assert summary.offline and summary.counts["left_pending"] == 1 and summary.counts["ok"] == 6
    photos = {r[0]: r[1] for r in store.query("SELECT post_id, photo FROM posts")}
    assert photos["4242"] == store.media_file(_media(store, "4242", 0)["cache_path"]).as_posix()
    assert photos["7"] is None  # never fetched: no photo, and never its URL
    with pytest.raises(ValueError, match="media folder"):
        run_fetch_media(store, FetchOptions(offline=True))


def test_near_duplicates_linked_to_the_earliest_not_deleted(store, tmp_path):
    drive = tmp_path / "drive"
    drive.mkdir()
    base = photo("astronaut", 256)
    (drive / "orig.jpg").write_bytes(jpeg_bytes(base, quality=92))
    (drive / "smaller.jpg").write_bytes(jpeg_bytes(base.resize((180, 180)), quality=60))
    (drive / "coffee.jpg").write_bytes(jpeg_bytes(photo("coffee", 256)))
    shuffled = np.asarray(base).reshape(-1, 3).copy()
    np.random.default_rng(0).shuffle(shuffled)  # same pixels, so the same histogram; a different picture
    (drive / "shuffled.png").write_bytes(png_bytes(Image.fromarray(shuffled.reshape(256, 256, 3))))
    _add(store, [
        _post("late-repost", MediaRef(path="smaller.jpg"), minutes=30),
        _post("original", MediaRef(path="orig.jpg"), minutes=5),
        _post("other", MediaRef(path="coffee.jpg"), minutes=10),
        _post("noise", MediaRef(path="shuffled.png"), minutes=40),
    ])
    summary = run_fetch_media(store, FetchOptions(media_dir=drive, locate_from_exif=False))
    original = _media(store, "original")
    assert summary.duplicates == 1
    assert _media(store, "late-repost")["duplicate_of"] == original["fid"]
    assert original["duplicate_of"] is None
    assert _media(store, "other")["duplicate_of"] is None and _media(store, "noise")["duplicate_of"] is None
    assert store.count("media", "status = 'ok'") == 4  # nothing deleted
    assert link_duplicates(store) == 1  # recomputing changes nothing


def test_video_gives_stable_distinct_frames_as_extra_media(store, tmp_path):
    drive = tmp_path / "drive"
    drive.mkdir()
    frames = write_video(drive / "clip.avi", [("chelsea", 8, 0), ("chelsea", 8, 12), ("rocket", 8, 0)])
    assert frames == 24
    _add(store, [_post("v1", MediaRef(path="clip.avi", kind="video"), MediaRef(path="still.jpg"))])
    (drive / "still.jpg").write_bytes(jpeg_bytes(photo("coffee", 64)))
    summary = run_fetch_media(store, FetchOptions(media_dir=drive))
    video = _media(store, "v1", 0)
    assert video["status"] == "ok" and video["content_type"] == "video/x-msvideo"
    assert (video["width"], video["height"]) == (160, 120)
    assert json.loads(video["exif"])["frames"] == 2
    rows = store.query("SELECT * FROM media WHERE kind = 'frame' ORDER BY position")
    assert summary.frames == 2 and [r["position"] for r in rows] == [2, 3]
    origins = [json.loads(r["exif"]) for r in rows]
    assert [o["frame_of"] for o in origins] == [video["fid"]] * 2
    assert origins[0]["frame_index"] < 8 <= 16 <= origins[1]["frame_index"]  # one per still scene, none panning
    for row in rows:
        assert row["status"] == "ok" and row["content_type"] == "image/jpeg" and row["phash"]
        assert store.media_file(row["cache_path"]).is_file()
        assert (store.media_dir / "thumbs" / f"{row['sha256']}.jpg").is_file()
    assert run_fetch_media(store, FetchOptions(media_dir=drive)).frames == 0  # extracted once
    assert store.count("media", "kind = 'frame'") == 2


def test_video_over_http_and_a_broken_video(store, server, tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, [("rocket", 6, 0)])
    data = path.read_bytes()
    _add(store, [
        _post("v", MediaRef(url=server.add("/v.avi", data, "video/x-msvideo"), kind="video")),
        _post("broken", MediaRef(url=server.add("/broken.avi", data[:200], "video/x-msvideo"), kind="video")),
    ])
    run_fetch_media(store, _options())
    assert _media(store, "v")["status"] == "ok" and store.count("media", "kind = 'frame'") == 1
    broken = _media(store, "broken")
    assert broken["status"] == "failed" and "video" in broken["error"]
    assert not [p for p in store.media_dir.glob("??/*.avi") if p.stat().st_size == 200]


def test_unreadable_cache_dir_fails_the_run_not_every_row(store, tmp_path):
    drive = tmp_path / "drive"
    drive.mkdir()
    (drive / "a.jpg").write_bytes(jpeg_bytes(photo()))
    _add(store, [_post("1", MediaRef(path="a.jpg"))])
    store.media_dir.parent.mkdir(parents=True, exist_ok=True)
    store.media_dir.write_text("not a folder")  # the cache cannot be created
    with pytest.raises(OSError):
        run_fetch_media(store, FetchOptions(media_dir=drive))
    assert store.runs("fetchmedia")[-1].status == "failed"
    assert _media(store, "1")["status"] == "pending"
    os.remove(store.media_dir)


def test_a_phone_folder_of_heic_avif_and_jpeg_imports_located_and_caches_readable_jpegs(store, tmp_path):
    """A field team's phone photos: HEIC is what iPhones save. Imported as posts placed by their
    EXIF, then vetted from the folder; the cache holds JPEGs that Qt and every stage can read."""
    from mist_qgis.core.images.safe_decode import decode_file
    from mist_qgis.core.posts.importer import import_posts
    from tests.media_fixtures import exif_jpeg, phone_photo

    folder = tmp_path / "DCIM"
    folder.mkdir()
    (folder / "IMG_0001.HEIC").write_bytes(phone_photo(photo("astronaut", 96), "HEIF", lat=34.7466, lon=113.6253))
    (folder / "IMG_0002.avif").write_bytes(phone_photo(photo("coffee", 96), "AVIF", lat=34.75, lon=113.63))
    (folder / "IMG_0003.jpg").write_bytes(exif_jpeg(photo("chelsea", 96), lat=34.76, lon=113.64))
    summary = import_posts(store, [folder])
    assert summary.imported == 3 and summary.skipped == 0
    located = {r["filename"]: (r["orig_lon"], r["orig_lat"]) for r in store.query(
        "SELECT filename, orig_lon, orig_lat FROM posts WHERE geo_source = 'exif'")}
    assert located["IMG_0001.HEIC"] == (pytest.approx(113.6253, abs=1e-4), pytest.approx(34.7466, abs=1e-4))
    assert set(located) == {"IMG_0001.HEIC", "IMG_0002.avif", "IMG_0003.jpg"}
    fetched = run_fetch_media(store, FetchOptions(offline=True, media_dir=folder))
    assert fetched.counts["ok"] == 3
    for row in store.query("SELECT cache_path, content_type, exif FROM media"):
        assert row["content_type"] == "image/jpeg" and row["cache_path"].endswith(".jpg")
        cached = decode_file(store.media_file(row["cache_path"]))
        assert cached.format == "JPEG" and cached.exif.has_position
