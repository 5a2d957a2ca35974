"""Several analysts on one store: next-post leases, double verification, conflicts, verdicts
arriving as others write them, agreement among N analysts. Runs on both backends."""

from __future__ import annotations

import threading
import time

import pytest

from mist_qgis.core.posts import PostRecord
from mist_qgis.core.store import open_store
from mist_qgis.core.verify.agreement import cohen_kappa
from mist_qgis.core.verify.records import Verdict, VerdictConflict, VerdictError
from mist_qgis.core.verify.team import (
    next_post,
    post_conflicts,
    release,
    seen_of_post,
    set_verifications_per_post,
    team_agreement,
    team_conflicts,
    watch_verdicts,
)
from mist_qgis.core.verify.verdicts import write_verdict, write_verdicts
from tests.helpers.pgcluster import listening_backends
from tests.helpers.processes import run_in_processes


def _posts(store, n: int) -> list[int]:
    with store.batch() as conn:
        store.add_posts(conn, [PostRecord(f"p{i}", "weibo", 113.6 + i * 0.001, 34.7) for i in range(n)])
    return [r[0] for r in store.query("SELECT fid FROM posts ORDER BY fid")]


def test_each_analyst_gets_a_different_post_and_leases_expire(store):
    fids = _posts(store, 4)
    ana = next_post(store, "ana")
    ben = next_post(store, "ben")
    assert (ana.post_fid, ben.post_fid) == (fids[0], fids[1])
    assert next_post(store, "ana").post_fid == fids[0]  # asking again renews, never a second post
    write_verdict(store, Verdict(ana.post_fid, "flood", "ana"), seen=ana.seen)
    assert next_post(store, "ana").post_fid == fids[2]
    carl = next_post(store, "carl", lease_seconds=1.5)  # carl walks away
    assert carl.post_fid == fids[3]
    assert next_post(store, "dora") is None  # 0 judged by ana, 1 ben, 2 ana, 3 carl
    time.sleep(1.6)
    assert next_post(store, "dora").post_fid == fids[3]  # carl's lease expired
    assert release(store, ben) and next_post(store, "eve").post_fid == fids[1]


def test_double_verification_gives_each_post_to_two_analysts(store):
    fids = _posts(store, 3)
    set_verifications_per_post(store, 2)
    a, b, c = next_post(store, "ana"), next_post(store, "ben"), next_post(store, "carl")
    assert (a.post_fid, b.post_fid, c.post_fid) == (fids[0], fids[0], fids[1])
    write_verdict(store, Verdict(fids[0], "flood", "ana"), seen=a.seen)
    write_verdict(store, Verdict(fids[0], "not_flood", "ben"), seen=b.seen)
    assert next_post(store, "ana").post_fid == fids[1]  # carl holds one of its two places
    assert next_post(store, "ben").post_fid == fids[2]
    assert [c.verdicts for c in team_conflicts(store)] == [{"ana": "flood", "ben": "not_flood"}]


def test_a_verdict_changed_by_someone_else_comes_back_as_a_conflict(store):
    fids = _posts(store, 1)
    mine = next_post(store, "ana")
    write_verdict(store, Verdict(fids[0], "not_flood", "ben"))  # ben, working from the layer
    with pytest.raises(VerdictConflict, match="ben judged post .* as not_flood") as caught:
        write_verdict(store, Verdict(fids[0], "flood", "ana", note="water at the door"), seen=mine.seen)
    assert store.count("verifications") == 1  # nothing of ana's was written
    conflict = caught.value.conflicts[0]
    assert (conflict.analyst, conflict.verdict) == ("ben", "not_flood")
    seen = {(fids[0], None): conflict.verification_fid}  # ana has seen ben's verdict and keeps hers
    write_verdict(store, Verdict(fids[0], "flood", "ana"), seen=seen)
    assert sorted(r[0] for r in store.query("SELECT analyst FROM verifications")) == ["ana", "ben"]
    write_verdict(store, Verdict(fids[0], "unsure", "ana"), seen=seen)  # one's own later change is no conflict


def test_agreement_and_conflicts_with_three_analysts(store):
    fids = _posts(store, 6)
    table = {  # analyst -> verdict per post
        "ana": ["flood", "flood", "not_flood", "not_flood", "unsure", "flood"],
        "ben": ["flood", "not_flood", "not_flood", "not_flood", "unsure", None],
        "cy": ["flood", "flood", "flood", None, None, "flood"],
    }
    for analyst, verdicts in table.items():
        for fid, verdict in zip(fids, verdicts, strict=True):
            if verdict:
                write_verdict(store, Verdict(fid, verdict, analyst))
    write_verdict(store, Verdict(fids[1], "unsure", "ben"))  # a change of mind: the latest counts
    pairs = {(a.analyst_a, a.analyst_b): a for a in team_agreement(store)}
    assert set(pairs) == {("ana", "ben"), ("ana", "cy"), ("ben", "cy")}
    ab = pairs[("ana", "ben")]
    assert ab.n_items == 5
    # by hand: pairs (f,f) (f,u) (n,n) (n,n) (u,u): p_o = 4/5; ana f 2/5 n 2/5 u 1/5, ben f 1/5 n 2/5 u 2/5
    p_e = 2 / 5 * 1 / 5 + 2 / 5 * 2 / 5 + 1 / 5 * 2 / 5
    assert ab.kappa == pytest.approx((4 / 5 - p_e) / (1 - p_e))
    assert ab.kappa == pytest.approx(cohen_kappa([("flood", "flood"), ("flood", "unsure"), ("not_flood", "not_flood"),
                                                  ("not_flood", "not_flood"), ("unsure", "unsure")])[0])
    assert pairs[("ana", "cy")].n_items == 4 and pairs[("ben", "cy")].n_items == 3
    conflicts = {c.post_fid: c.verdicts for c in team_conflicts(store)}
    assert conflicts == {
        fids[1]: {"ana": "flood", "ben": "unsure", "cy": "flood"},
        fids[2]: {"ana": "not_flood", "ben": "not_flood", "cy": "flood"},
    }
    # one post at a time, as the Verify dock asks beside the photo in view: the same answers
    for fid in fids:
        assert post_conflicts(store, fid) == [c for c in team_conflicts(store) if c.post_fid == fid]
    assert post_conflicts(store, fids[0]) == []


def test_what_an_analyst_has_seen_of_a_post(store):
    fids = _posts(store, 2)
    assert seen_of_post(store, fids[0]) == {(fids[0], None): 0}
    first = write_verdict(store, Verdict(fids[0], "flood", "ben")).verification_fid
    seen = seen_of_post(store, fids[0])
    assert seen == {(fids[0], None): first}
    write_verdict(store, Verdict(fids[0], "flood", "ana"), seen=seen)  # ben's was in view: no conflict
    set_verifications_per_post(store, 2)
    assert seen_of_post(store, fids[1]) == {}  # double verification: the other verdict is expected


def test_the_items_of_a_post_read_alike_in_a_pipelined_batch_and_outside_one(store):
    """Each photo and the post itself, with its latest verification fid (0: nobody judged it):
    what `next_post` reads inside its batch and what the dock reads through the store."""
    from mist_qgis.core.posts.record import MediaRef
    from mist_qgis.core.store import team as sql

    with store.batch() as conn:
        store.add_posts(conn, [PostRecord("p0", "weibo", 113.6, 34.7, media=[
            MediaRef(url="https://img.example/a.jpg"), MediaRef(url="https://img.example/b.jpg")])])
    fid = store.scalar("SELECT fid FROM posts")
    photos = [r[0] for r in store.query("SELECT fid FROM media WHERE post_fid = ? ORDER BY position", (fid,))]
    assert sql.items_of_post(store, fid) == {None: 0, photos[0]: 0, photos[1]: 0}
    write_verdict(store, Verdict(fid, "flood", "ana", photos[1]))
    latest_photo = write_verdict(store, Verdict(fid, "not_flood", "ben", photos[1])).verification_fid
    latest_post = write_verdict(store, Verdict(fid, "unsure", "ben")).verification_fid
    expected = {None: latest_post, photos[0]: 0, photos[1]: latest_photo}
    assert sql.items_of_post(store, fid) == expected
    with store.batch(pipeline=True) as conn:
        read = sql.latest_of_post(conn, fid)
    assert read() == expected


def _watch(store, n: int) -> tuple[threading.Thread, list]:
    """A thread collecting the next `n` verdict events (listening before this returns)."""
    events = watch_verdicts(store, timeout=20, poll_seconds=0.05)
    got: list = []

    def collect():
        for event in events:
            got.append(event)
            if len(got) == n:
                return

    reader = threading.Thread(target=collect)
    reader.start()
    return reader, got


def test_verdicts_of_others_arrive_without_reloading(store, store_path):
    fids = _posts(store, 3)
    reader, got = _watch(store, 2)
    with open_store(store_path) as other:  # another analyst's own connection
        write_verdict(other, Verdict(fids[2], "flood", "ben", note="knee deep"))
        write_verdict(other, Verdict(fids[0], "not_flood", "cy"))
    reader.join(timeout=25)
    assert [(e.op, e.post_fid, e.analyst, e.verdict) for e in got] == [
        ("insert", fids[2], "ben", "flood"), ("insert", fids[0], "cy", "not_flood")]


def _wait_until_not_listening(store, backends: set[int]) -> None:
    """The server drops the backend of a closed connection on its own time: wait up to 10 s."""
    for _ in range(100):
        if not backends & listening_backends(store):
            return
        time.sleep(0.1)
    assert not backends & listening_backends(store)


def test_closing_a_watch_wakes_it_at_once_after_what_had_landed(store, store_path):
    """A watch with no deadline that polls a GeoPackage only every two minutes: closed from
    another thread, it stops waiting at once (for a notification or its next poll), after
    handing over the verdict that had landed, and a team store's listening connection is gone."""
    fids = _posts(store, 2)
    before = listening_backends(store)  # other tests' watches may still be open
    watch = watch_verdicts(store, poll_seconds=120)
    mine = listening_backends(store) - before
    with open_store(store_path) as other:
        write_verdict(other, Verdict(fids[1], "flood", "ben"))
    got: list = []
    first = threading.Event()

    def collect():
        for event in watch:
            got.append(event)
            first.set()

    reader = threading.Thread(target=collect)
    reader.start()
    assert first.wait(25)
    assert len(mine) == (store.dialect == "postgresql")
    watch.close()
    reader.join(timeout=30)  # far less than the poll: only a wake-up ends it in time
    assert not reader.is_alive()
    assert [(e.post_fid, e.analyst, e.verdict) for e in got] == [(fids[1], "ben", "flood")]
    _wait_until_not_listening(store, mine)
    watch.close()  # closing again is harmless


def test_a_watch_closed_before_it_is_iterated_lets_go_of_its_connection(store, store_path):
    """A watch nobody iterated (a dock closed before its thread started) releases a team store's
    listening connection at close, not at garbage collection, and then yields nothing."""
    fids = _posts(store, 1)
    before = listening_backends(store)
    watch = watch_verdicts(store, poll_seconds=120)
    mine = listening_backends(store) - before
    assert len(mine) == (store.dialect == "postgresql")
    watch.close()
    _wait_until_not_listening(store, mine)
    with open_store(store_path) as other:
        write_verdict(other, Verdict(fids[0], "flood", "ben"))
    assert list(watch) == []
    watch.close()


def test_a_refused_verdict_is_never_announced(store, store_path):
    fids = _posts(store, 2)
    mine = next_post(store, "ana")
    reader, got = _watch(store, 2)
    with open_store(store_path) as other:
        write_verdict(other, Verdict(fids[0], "not_flood", "ben"))
        with pytest.raises(VerdictConflict):
            write_verdict(store, Verdict(fids[0], "flood", "ana"), seen=mine.seen)
        with pytest.raises(VerdictError, match="not in the store"):
            write_verdicts(store, [Verdict(fids[1], "flood", "ana"), Verdict(fids[1] + 999, "flood", "ana")])
        write_verdict(other, Verdict(fids[1], "unsure", "cy"))
    reader.join(timeout=25)
    assert [(e.analyst, e.post_fid) for e in got] == [("ben", fids[0]), ("cy", fids[1])]
    assert store.count("verifications") == 2


def _analyst(target: str, name: str, queue) -> None:
    try:
        judged = []
        with open_store(target) as store:
            for _ in range(200):  # bounded: a post handed out again must fail the test, not hang it
                post = next_post(store, name)
                if post is None:
                    break
                write_verdict(store, Verdict(post.post_fid, "flood", name), seen=post.seen)
                judged.append(post.post_fid)
        queue.put(("ok", name, judged))
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(("error", name, repr(exc)))


def test_analysts_in_separate_processes_never_judge_the_same_post(store, store_path):
    fids = _posts(store, 60)
    results = run_in_processes(_analyst, [(str(store_path), f"a{i}") for i in range(4)])
    assert all(r[0] == "ok" for r in results), results
    judged = [fid for r in results for fid in r[2]]
    assert sorted(judged) == fids  # every post once: none lost, none twice
    assert store.count("verifications") == len(fids) and store.count("leases") == 0
