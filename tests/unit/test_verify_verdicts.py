"""Verdicts: the history row, the mirror on posts, undo, several photos and analysts, bad input."""

from __future__ import annotations

import math
import re

import pytest

from mist_qgis.core.store import StoreError, open_store
from mist_qgis.core.verify.records import (
    DEPTH_CLASSES,
    PostVerification,
    Verdict,
    VerdictError,
    depth_class_for,
    depth_for_class,
    parse_depth,
)
from mist_qgis.core.verify.verdicts import undo_verdict, write_verdict, write_verdicts
from tests.helpers.verify_store import build_store


def mirror(store, post_fid) -> PostVerification:
    row = store.query("SELECT verified, verified_by, verified_at, water_depth_m FROM posts WHERE fid = ?",
                      (post_fid,))[0]
    return PostVerification(*row)


@pytest.fixture
def data(store):
    return build_store(store, n=4)


def test_verdict_writes_history_and_mirror(store, data):
    post, media = data.post_fids[1], data.media_fids[1]
    receipt = write_verdict(store, Verdict(post, "flood", " Ana ", media, depth_for_class("knee"), " kerb hidden "))
    row = store.query("SELECT * FROM verifications WHERE fid = ?", (receipt.verification_fid,))[0]
    assert (row["post_fid"], row["media_fid"], row["verdict"], row["water_depth_m"], row["note"], row["analyst"]) == (
        post, media, "flood", 0.5, "kerb hidden", "Ana")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["verified_at"])
    assert mirror(store, post) == PostVerification("flood", "Ana", row["verified_at"], 0.5)
    assert mirror(store, data.post_fids[0]) == PostVerification()


def test_undo_restores_the_previous_fields_exactly(store, data):
    post, media = data.post_fids[0], data.media_fids[0]
    before = PostVerification("unsure", "legacy", "2020-01-01T00:00:00.000Z", 0.25)
    with store.batch() as conn:
        conn.execute("UPDATE posts SET verified = ?, verified_by = ?, verified_at = ?, water_depth_m = ? WHERE fid = ?",
                     (*before.as_tuple(), post))
    first = write_verdict(store, Verdict(post, "not_flood", "ana", media))
    second = write_verdict(store, Verdict(post, "flood", "ana", media, 1.0))
    assert mirror(store, post).verified == "flood"
    assert undo_verdict(store, second).exact
    assert mirror(store, post) == first.written
    result = undo_verdict(store, first)
    assert result.exact and result.state == before
    assert mirror(store, post) == before
    assert store.count("verifications") == 0
    with pytest.raises(VerdictError, match="already undone"):
        undo_verdict(store, first)


def test_post_mirror_summarises_its_photos(store, data):
    post = data.post_fids[2]
    with store.batch() as conn:
        conn.execute("INSERT INTO media (post_fid, position, status) VALUES (?, 1, 'pending')", (post,))
    second_photo = store.scalar("SELECT fid FROM media WHERE post_fid = ? AND position = 1", (post,))
    write_verdict(store, Verdict(post, "flood", "ana", data.media_fids[2], 0.1))
    write_verdict(store, Verdict(post, "not_flood", "ana", second_photo))
    assert mirror(store, post).verified == "flood" and mirror(store, post).water_depth_m == 0.1
    write_verdict(store, Verdict(post, "flood", "ana", second_photo, 1.5))
    assert mirror(store, post).water_depth_m == 1.5  # the deepest flood photo
    write_verdict(store, Verdict(post, "unsure", "ana", data.media_fids[2]))
    write_verdict(store, Verdict(post, "not_flood", "ana", second_photo))
    assert mirror(store, post).verified == "unsure"


def test_undo_keeps_a_later_verdict_of_another_analyst(store, data):
    post, media = data.post_fids[3], data.media_fids[3]
    mine = write_verdict(store, Verdict(post, "unsure", "ana", media))
    theirs = write_verdict(store, Verdict(post, "flood", "ben", media, 0.5))
    result = undo_verdict(store, mine)
    assert not result.exact
    assert mirror(store, post) == theirs.written


def test_batch_is_all_or_nothing_and_bad_input_is_refused(store, data):
    post, media = data.post_fids[0], data.media_fids[0]
    good = Verdict(post, "flood", "ana", media)
    bad_cases = [
        (Verdict(post, "flooded", "ana", media), "verdict must be"),
        (Verdict(post, "flood", "  ", media), "analyst name is required"),
        (Verdict(post, "flood", "a\x00b", media), "control characters"),
        (Verdict(post, "flood", "ana", media, -0.1), "outside"),
        (Verdict(post, "flood", "ana", media, math.nan), "outside"),
        (Verdict(post, "flood", "ana", media, 31.0), "outside"),
        (Verdict(post, "not_flood", "ana", media, 0.5), "cannot have a water depth"),
        (Verdict(post, "flood", "ana", data.media_fids[1]), "belongs to post"),
        (Verdict(post, "flood", "ana", 99999), "not in the store"),
        (Verdict(99999, "flood", "ana"), "not in the store"),
        (Verdict(post, "flood", "ana", media, note="x" * 2001), "longer than"),
    ]
    for bad, message in bad_cases:
        with pytest.raises(VerdictError, match=message):
            write_verdicts(store, [good, bad])
    assert store.count("verifications") == 0
    assert mirror(store, post) == PostVerification()


def test_read_only_store_refuses_verdicts(store, store_path, data):
    with open_store(store_path, read_only=True) as ro:
        with pytest.raises(StoreError, match="read-only"):
            write_verdict(ro, Verdict(data.post_fids[0], "flood", "ana", data.media_fids[0]))


def test_depth_classes_and_quick_field():
    assert list(DEPTH_CLASSES.items()) == [("ankle", 0.1), ("knee", 0.5), ("waist", 1.0), ("above", 1.5)]
    assert parse_depth("0,3") == 0.3 and parse_depth("30cm") == 0.3 and parse_depth("1.2 m") == 1.2
    assert parse_depth("Knee") == 0.5 and parse_depth("4") == 1.5 and parse_depth("") is None
    assert depth_class_for(0.7) == "knee" and depth_class_for(None) is None
    assert parse_depth("5") == 5.0  # beyond the classes, a number is metres
    for text in ("deep", "-1", "1e9", "nan", "0x10"):
        with pytest.raises(VerdictError):
            parse_depth(text)


def test_the_latest_verdict_covering_a_photo_counts(store, data):
    """A post-level verdict covers every photo of its post; a later photo verdict overrides it,
    and a later post-level verdict overrides the photo verdict in turn."""
    from mist_qgis.core.verify.agreement import agreement

    post, media = data.post_fids[0], data.media_fids[0]
    write_verdict(store, Verdict(post, "flood", "ben", None, 1.0))
    write_verdict(store, Verdict(post, "not_flood", "ana", media))
    assert mirror(store, post).as_tuple()[:2] == ("not_flood", "ana")
    write_verdict(store, Verdict(post, "flood", "ana", media, 0.5))
    assert (mirror(store, post).verified, mirror(store, post).water_depth_m) == ("flood", 0.5)
    write_verdict(store, Verdict(post, "unsure", "ben", None))
    assert mirror(store, post).as_tuple()[:2] == ("unsure", "ben")
    result = agreement(store, "ana", "ben")
    assert result.n_items == 1 and [(c.verdict_a, c.verdict_b) for c in result.conflicts] == [("flood", "unsure")]


def test_upgrade_recomputes_mirrors_under_the_rule(unmade_store_path):
    """A store whose mirror was written under the earlier rule (photo verdicts before post ones)
    shows the rule's verdict after the upgrade."""
    store_path = unmade_store_path
    with open_store(store_path, target_version=5) as old:
        d = build_store(old, n=2)
        with old.batch() as conn:
            insert = ("INSERT INTO verifications (post_fid, media_fid, verdict, water_depth_m, analyst, verified_at) "
                      "VALUES (?, ?, ?, ?, ?, ?)")
            conn.execute(insert, (d.post_fids[0], d.media_fids[0], "not_flood", None, "ana", "2021-07-20T09:00:00Z"))
            conn.execute(insert, (d.post_fids[0], None, "flood", 1.0, "ben", "2021-07-20T10:00:00Z"))
            conn.execute("UPDATE posts SET verified = 'not_flood', verified_by = 'ana' WHERE fid = ?",
                         (d.post_fids[0],))
    with open_store(store_path) as store:
        assert (mirror(store, d.post_fids[0]).verified, mirror(store, d.post_fids[0]).water_depth_m) == ("flood", 1.0)
        assert mirror(store, d.post_fids[1]) == PostVerification()
