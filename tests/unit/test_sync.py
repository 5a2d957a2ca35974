"""Push a field GeoPackage into a team store and check part of it out again; the team store is
each backend in turn (a GeoPackage can be a team store for a single desktop too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mist_qgis.core.posts import PostRecord
from mist_qgis.core.posts.record import MediaRef
from mist_qgis.core.store import StoreError, open_store
from mist_qgis.core.store.sync import Selection, checkout, push
from mist_qgis.core.verify.records import Verdict
from mist_qgis.core.verify.verdicts import write_verdict
from tests.helpers.verify_store import cache_photo, jpeg_bytes, sample_photo, write_thumbnail

T0 = datetime(2021, 7, 20, 8, 0, tzinfo=UTC)


def _field(path, prefix: str, n: int, photos: bool = True):
    store = open_store(path)
    records = [PostRecord(f"{prefix}{i}", "weibo", 113.60 + 0.01 * i, 34.70, text=f"water {i}",
                          timestamp=T0 + timedelta(hours=i), media=[MediaRef(url=f"https://img.example/{i}.jpg")])
               for i in range(n)]
    with store.batch() as conn:
        store.add_posts(conn, records)
    if photos:
        with store.batch() as conn:
            for i, (mfid,) in enumerate(store.query("SELECT fid FROM media ORDER BY fid")):
                rel, sha = cache_photo(store, jpeg_bytes(sample_photo(i, 64)))
                conn.execute("UPDATE media SET status = 'ok', cache_path = ?, sha256 = ? WHERE fid = ?",
                             (rel, sha, mfid))
    return store


def _fid(store, post_id):
    return store.scalar("SELECT fid FROM posts WHERE post_id = ?", (post_id,))


def test_push_merges_posts_photos_and_verdicts_once(store, tmp_path):
    with _field(tmp_path / "a.gpkg", "p", 4) as field_a, \
            _field(tmp_path / "b.gpkg", "p", 6, photos=False) as field_b:
        media_fid = field_a.scalar("SELECT fid FROM media WHERE post_fid = ?", (_fid(field_a, "p1"),))
        write_verdict(field_a, Verdict(_fid(field_a, "p1"), "flood", "ana", media_fid, 0.5, "knee"),
                      verified_at="2021-07-20T09:00:00.000Z")
        write_verdict(field_b, Verdict(_fid(field_b, "p1"), "not_flood", "ben"), verified_at="2021-07-20T09:05:00.000Z")
        first = push(field_a, store)
        assert (first.posts_added, first.photos_filled, first.files_copied, first.verdicts_added) == (4, 4, 4, 1)
        again = push(field_a, store)
        assert (again.posts_added, again.posts_known, again.photos_filled, again.verdicts_added) == (0, 4, 0, 0)
        other = push(field_b, store)  # the same posts seen by another laptop, plus two more
        assert (other.posts_added, other.posts_known, other.verdicts_added) == (2, 4, 1)
    assert store.count("posts") == 6 and store.count("verifications") == 2
    rows = store.query("SELECT v.analyst, v.verified_at, v.note, m.sha256 IS NOT NULL AS has_photo "
                       "FROM verifications v "
                       "LEFT JOIN media m ON m.fid = v.media_fid ORDER BY v.verified_at")
    assert [(r[0], r[1], r[2], bool(r[3])) for r in rows] == [
        ("ana", "2021-07-20T09:00:00.000Z", "knee", True), ("ben", "2021-07-20T09:05:00.000Z", None, False)]
    # the later verdict on the whole post covers its photo (the latest verdict counts)
    assert store.scalar("SELECT verified FROM posts WHERE post_id = 'p1'") == "not_flood"
    cached = store.query("SELECT cache_path FROM media WHERE sha256 IS NOT NULL")
    assert len(cached) == 4 and all(store.media_file(r[0]).exists() for r in cached)


def test_push_copies_the_photos_thumbnails_into_the_team_stores_cache(store, tmp_path):
    """The Verify dock's table shows each photo's thumbnail from the store's media folder (a
    team store's: MIST_MEDIA_ROOT or the lead's shared folder): a push brings them along, and a
    thumbnail missing there is filled by the next push, with nothing copied twice."""
    from mist_qgis.core.images.cache import MediaCache

    with _field(tmp_path / "a.gpkg", "p", 3) as field_a:
        shas = [r[0] for r in field_a.query("SELECT sha256 FROM media ORDER BY fid")]
        for i, sha in enumerate(shas[:2]):  # the third photo never got its thumbnail
            write_thumbnail(field_a, sha, sample_photo(i, 64))
        first = push(field_a, store)
        assert (first.files_copied, first.thumbnails_copied) == (3, 2)
        team = MediaCache(store.media_dir)
        assert [team.thumbnail_path(sha).is_file() for sha in shas] == [True, True, False]
        assert team.thumbnail_path(shas[0]).read_bytes() == MediaCache(field_a.media_dir).thumbnail_path(
            shas[0]).read_bytes()
        team.thumbnail_path(shas[1]).unlink()
        again = push(field_a, store)
        assert (again.photos_filled, again.files_copied, again.thumbnails_copied) == (0, 0, 1)
        assert team.thumbnail_path(shas[1]).is_file()
        assert push(field_a, store).thumbnails_copied == 0
    assert store.runs("push")[-1].counts["thumbnails_copied"] == 0


def test_checkout_part_then_verdicts_merge_back(store, tmp_path):
    with _field(tmp_path / "a.gpkg", "p", 6) as field_a:
        push(field_a, store)
    write_verdict(store, Verdict(_fid(store, "p2"), "unsure", "lead"), verified_at="2021-07-20T10:00:00.000Z")
    part = Selection(extent=(113.615, 34.6, 113.645, 34.8), since="2021-07-20T09:30:00.000Z",
                     until="2021-07-20T12:00:00.000Z")  # p2 and p3 lie in the box; p1 is too early
    summary = checkout(store, tmp_path / "laptop.gpkg", part)
    assert (summary.posts_added, summary.verdicts_added, summary.files_copied) == (2, 1, 2)
    with pytest.raises(StoreError, match="exists already"):
        checkout(store, tmp_path / "laptop.gpkg", part)
    with open_store(tmp_path / "laptop.gpkg") as laptop:
        assert sorted(r[0] for r in laptop.query("SELECT post_id FROM posts")) == ["p2", "p3"]
        assert laptop.scalar("SELECT verified FROM posts WHERE post_id = 'p2'") == "unsure"
        assert laptop.get_meta("checked_out_from") == store.target
        write_verdict(laptop, Verdict(_fid(laptop, "p3"), "flood", "field", water_depth_m=1.0))
        back = push(laptop, store)
    assert (back.posts_added, back.verdicts_added, back.verdicts_known) == (0, 1, 1)
    assert store.count("verifications") == 2
    assert store.query("SELECT verified, verified_by, water_depth_m FROM posts WHERE post_id = 'p3'")[0][:] == (
        "flood", "field", 1.0)
    assert [r.kind for r in store.runs()][-1] == "push"


def test_push_is_a_run_with_percent_progress_and_a_cancel_between_batches(store, tmp_path, monkeypatch):
    """A push is a run of the team store (`run_stage`): progress in percent, a cancel stops
    after the batch in hand and closes the run as cancelled with what landed; pushing again
    completes it."""
    from mist_qgis.core.store import sync

    monkeypatch.setattr(sync, "BATCH", 2)
    with _field(tmp_path / "a.gpkg", "p", 5, photos=False) as field_a:
        progress: list[float] = []
        stop = {"now": False}

        def cancel_after_first_batch(percent: float) -> None:
            progress.append(percent)
            stop["now"] = True

        first = push(field_a, store, progress=cancel_after_first_batch, is_cancelled=lambda: stop["now"])
        assert first.posts_added == 2 and progress == [pytest.approx(40.0)]
        run = store.runs("push")[-1]
        assert run.status == "cancelled" and run.counts["posts_added"] == 2
        progress.clear()
        rest = push(field_a, store, progress=progress.append)
        assert (rest.posts_added, rest.posts_known) == (3, 2) and progress[-1] == pytest.approx(100.0)
        assert store.runs("push")[-1].status == "done" and store.count("posts") == 5
