"""Write and undo analysts' verdicts.

A verdict adds a `verifications` row (the history: who said what, when) and updates the
verification fields mirrored on the post (what the posts layer shows), in one transaction. The
post's mirror summarises its photos' current verdicts: flood if any photo shows flooding, else
unsure if any is unsure, else not flood; the water depth is the deepest among the photos with
the winning verdict. Undo deletes the row and restores the post's previous fields exactly,
unless another analyst's verdict has changed them since; then the mirror is recomputed from the
verdicts that remain, so nobody's later work is overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..store import Store
from ..store import team as team_sql
from ..store import verify as sql
from ..store.store import utc_now
from .records import (
    ItemConflict,
    PostVerification,
    UndoResult,
    Verdict,
    VerdictConflict,
    VerdictError,
    VerdictReceipt,
)

_PRECEDENCE = ("flood", "unsure", "not_flood")


def aggregate(rows: list) -> PostVerification:
    """The post mirror for its current verdict rows (verdict, water_depth_m, analyst, verified_at, fid)."""
    if not rows:
        return PostVerification()
    present = {r["verdict"] for r in rows}
    winner = next(v for v in _PRECEDENCE if v in present)
    winning = [r for r in rows if r["verdict"] == winner]
    latest = max(winning, key=lambda r: r["fid"])
    depths = [r["water_depth_m"] for r in winning if r["water_depth_m"] is not None]
    return PostVerification(winner, latest["analyst"], latest["verified_at"], max(depths) if depths else None)


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
    with store.batch() as conn:
        for verdict in cleaned:
            key = (verdict.post_fid, verdict.media_fid)
            if seen is not None and key in seen:
                latest = team_sql.latest_of_item(conn, *key)
                if latest is not None and int(latest[0]) != int(seen[key] or 0) and latest[1] != verdict.analyst:
                    conflicts.append(ItemConflict(*key, int(latest[0]), latest[1], latest[2]))
                    continue
            if verdict.media_fid is not None:
                owner = sql.media_post_fid(conn, verdict.media_fid)
                if owner is None:
                    raise VerdictError(f"photo {verdict.media_fid} is not in the store")
                if owner != verdict.post_fid:
                    raise VerdictError(f"photo {verdict.media_fid} belongs to post {owner}, not {verdict.post_fid}")
            elif not sql.post_exists(conn, verdict.post_fid):
                raise VerdictError(f"post {verdict.post_fid} is not in the store")
            when = verified_at or utc_now()
            previous = sql.read_mirror(conn, verdict.post_fid)
            fid = sql.insert_verification(conn, verdict, when)
            written = aggregate(sql.current_verdicts_of_post(conn, verdict.post_fid))
            sql.write_mirror(conn, verdict.post_fid, written)
            team_sql.drop_lease(conn, verdict.post_fid, verdict.analyst)
            receipts.append(VerdictReceipt(fid, verdict, when, previous, written))
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
        if not sql.delete_verification(conn, receipt.verification_fid):
            raise VerdictError(f"verdict {receipt.verification_fid} was already undone or removed")
        current = sql.read_mirror(conn, post_fid)
        if current == receipt.written:
            sql.write_mirror(conn, post_fid, receipt.previous)
            return UndoResult(post_fid, receipt.previous, exact=True)
        remaining = sql.current_verdicts_of_post(conn, post_fid)
        if not remaining:  # the fields were edited by other means since: leave them to that edit
            return UndoResult(post_fid, current, exact=False)
        state = aggregate(remaining)
        sql.write_mirror(conn, post_fid, state)
        return UndoResult(post_fid, state, exact=False)
