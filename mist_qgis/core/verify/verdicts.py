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

from ..store import Store, verify_sql
from ..store.store import utc_now
from .records import PostVerification, UndoResult, Verdict, VerdictError, VerdictReceipt

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


def write_verdicts(store: Store, verdicts: list[Verdict], verified_at: str | None = None) -> list[VerdictReceipt]:
    """Write verdicts in one transaction; all are validated first, so a bad one writes nothing."""
    cleaned = [v.validated() for v in verdicts]
    receipts: list[VerdictReceipt] = []
    with store.batch() as conn:
        for verdict in cleaned:
            if verdict.media_fid is not None:
                owner = verify_sql.media_post_fid(conn, verdict.media_fid)
                if owner is None:
                    raise VerdictError(f"photo {verdict.media_fid} is not in the store")
                if owner != verdict.post_fid:
                    raise VerdictError(f"photo {verdict.media_fid} belongs to post {owner}, not {verdict.post_fid}")
            elif not verify_sql.post_exists(conn, verdict.post_fid):
                raise VerdictError(f"post {verdict.post_fid} is not in the store")
            when = verified_at or utc_now()
            previous = verify_sql.read_mirror(conn, verdict.post_fid)
            fid = verify_sql.insert_verification(conn, verdict, when)
            written = aggregate(verify_sql.current_verdicts_of_post(conn, verdict.post_fid))
            verify_sql.write_mirror(conn, verdict.post_fid, written)
            receipts.append(VerdictReceipt(fid, verdict, when, previous, written))
    return receipts


def write_verdict(store: Store, verdict: Verdict, verified_at: str | None = None) -> VerdictReceipt:
    """Write one verdict (see `write_verdicts`)."""
    return write_verdicts(store, [verdict], verified_at)[0]


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
