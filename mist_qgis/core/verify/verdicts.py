"""Write and undo analysts' verdicts, and the one rule for which verdict counts.

The rule: a verdict given without a photo is a verdict on each photo of its post. A photo's
current verdict is the latest recorded verdict that covers it, by any analyst: an override by a
colleague, or a changed depth, replaces what was there. The post (the posts layer, inundation,
density, exports) shows its photos' current verdicts: flood if any photo shows flooding, else
unsure if any is unsure, else not flood; the water depth is the deepest among the photos with the
winning verdict. Agreement compares each analyst's own latest verdict covering each photo.

A verdict adds a `verifications` row (the history: who said what, when) and updates the
verification fields mirrored on the post, in one transaction. Undo deletes the row and restores
the post's previous fields exactly, unless another analyst's verdict has changed them since; then
the mirror is recomputed from the verdicts that remain, so nobody's later work is overwritten.

The post's side of the rule is `records.aggregate`; `verify_sql.refresh_mirrors` applies it to
stored posts (the schema's migrations use it too, which is why neither lives here).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..store import Store, verify_sql
from ..store import team as team_sql
from ..store.store import utc_now
from .records import (
    ItemConflict,
    UndoResult,
    Verdict,
    VerdictConflict,
    VerdictError,
    VerdictReceipt,
    aggregate,
)


def write_verdicts(
    store: Store, verdicts: list[Verdict], verified_at: str | None = None,
    seen: Mapping[tuple[int, int | None], int] | None = None,
) -> list[VerdictReceipt]:
    """Write verdicts in one transaction; all are validated first, so a bad one writes nothing.

    `seen` maps (post fid, photo fid or None) to the latest verification fid the analyst saw on
    that item when it was loaded (0: none), as `next_post` hands out. If another analyst has
    judged such an item since, nothing is written and `VerdictConflict` lists who said what:
    no verdict is silently put over someone else's. A written verdict ends the analyst's lease
    on the post."""
    cleaned = [v.validated() for v in verdicts]
    receipts: list[VerdictReceipt] = []
    conflicts: list[ItemConflict] = []
    # Each verdict's statements are sent before any answer is read (one round trip per verdict
    # on a team store, the mirror and the lease going with the next one or the COMMIT); the
    # row goes in before the checks below are read, and a failed check rolls the batch back.
    with store.batch(pipeline=True) as conn:
        for verdict in cleaned:
            key = (verdict.post_fid, verdict.media_fid)
            check = seen is not None and key in seen
            latest = team_sql.latest_of_item(conn, *key) if check else None
            when = verified_at or utc_now()
            done = verify_sql.submit_verdict(conn, verdict, when)()
            if latest is not None:
                row = latest.fetchone()
                if row is not None and int(row[0]) != int(seen[key] or 0) and row[1] != verdict.analyst:
                    conflicts.append(ItemConflict(*key, int(row[0]), row[1], row[2]))
                    continue
            if verdict.media_fid is not None:
                if done.photo_post is None:
                    raise VerdictError(f"photo {verdict.media_fid} is not in the store")
                if done.photo_post != verdict.post_fid:
                    raise VerdictError(f"photo {verdict.media_fid} belongs to post {done.photo_post}, "
                                       f"not {verdict.post_fid}")
            elif not done.post_found:
                raise VerdictError(f"post {verdict.post_fid} is not in the store")
            written = aggregate(done.current)
            verify_sql.write_mirror(conn, verdict.post_fid, written)
            team_sql.drop_lease(conn, verdict.post_fid, verdict.analyst)
            receipts.append(VerdictReceipt(done.fid, verdict, when, done.previous, written))
        if conflicts:
            raise VerdictConflict(conflicts)
    return receipts


def write_verdict(
    store: Store, verdict: Verdict, verified_at: str | None = None,
    seen: Mapping[tuple[int, int | None], int] | None = None,
) -> VerdictReceipt:
    """Write one verdict (see `write_verdicts`)."""
    return write_verdicts(store, [verdict], verified_at, seen)[0]


def undo_verdict(store: Store, receipt: VerdictReceipt) -> UndoResult:
    """Take back a verdict written by `write_verdict`; VerdictError when it is already gone."""
    post_fid = receipt.verdict.post_fid
    with store.batch() as conn:
        if not verify_sql.delete_verification(conn, receipt.verification_fid):
            raise VerdictError(f"verdict {receipt.verification_fid} was already undone or removed")
        current = verify_sql.read_mirror(conn, post_fid)
        if current == receipt.written:
            verify_sql.write_mirror(conn, post_fid, receipt.previous)
            return UndoResult(post_fid, receipt.previous, exact=True)
        remaining = verify_sql.current_verdicts_of_post(conn, post_fid)
        if not remaining:  # the fields were edited by other means since: leave them to that edit
            return UndoResult(post_fid, current, exact=False)
        state = aggregate(remaining)
        verify_sql.write_mirror(conn, post_fid, state)
        return UndoResult(post_fid, state, exact=False)
