"""Analysts categorising posts, photo or not: the posts without photos they work through in the
Verify dock, and category changes that can be taken back.

A change is saved at once (one transaction) and returns a receipt holding what the post had
before, so undo restores exactly that: the analysts' categories and the fields the posts layer
shows. Categories must be on the store's list; an analyst name is required (it is the label's
provenance when text heads train on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..store import gpkg
from ..store import text_sql as sql
from ..store.verify_sql import filter_sql
from .categories import CategoryError, load_categories

if TYPE_CHECKING:
    from ..store import Store
    from ..verify.records import QueueFilter


@dataclass(frozen=True)
class TextPostRow:
    """One post without photos in the Verify dock's text mode."""

    post_fid: int
    post_id: str
    platform: str
    timestamp: str | None
    text: str
    url: str | None
    lon: float | None
    lat: float | None
    categories: tuple[str, ...]
    source: str | None  # "analyst", "keyword rule", "head", "no text" or None (not screened)
    confidence: float | None


@dataclass(frozen=True)
class CategoryReceipt:
    """What one change wrote, and what the post held before it (for undo)."""

    post_fid: int
    categories: tuple[str, ...]
    analyst: str
    before: tuple[tuple[str, str | None], ...]
    before_summary: tuple


def _post_terms(filt: QueueFilter | None, uncategorised: bool) -> tuple[list[str], dict]:
    """The queue filter's post conditions (text, area, time, map selection); the photo-only ones
    (verdicts, scores, duplicates) do not apply to posts without photos."""
    from ..verify.records import QueueFilter

    post_only = replace(filt or QueueFilter(), verdicts=None, not_verified_by=None, score_min=None, score_max=None,
                        hide_duplicates=False)
    terms, params = filter_sql(post_only)
    return sql.text_only_terms(terms, uncategorised), params


def _row(r) -> TextPostRow:
    lon = lat = None
    if r["geom"] is not None and not gpkg.is_empty(r["geom"]):
        try:
            lon, lat = gpkg.point_xy(r["geom"])
        except ValueError:
            lon = lat = None
    cats = tuple(filter(None, (r["text_categories"] or "").split(",")))
    return TextPostRow(r["fid"], r["post_id"], r["platform"], r["timestamp"], r["text"] or "", r["url"], lon, lat,
                       cats, r["text_category_source"], r["text_confidence"])


def text_only_posts(store: Store, filt: QueueFilter | None = None, after_fid: int = 0, limit: int = 100,
                    uncategorised: bool = False) -> list[TextPostRow]:
    """A page of the posts without photos, in import order (keyset paging on fid)."""
    terms, params = _post_terms(filt, uncategorised)
    return [_row(r) for r in sql.text_only_page(store, terms, params, after_fid, limit)]


def count_text_only_posts(store: Store, filt: QueueFilter | None = None, uncategorised: bool = False) -> int:
    terms, params = _post_terms(filt, uncategorised)
    return sql.text_only_count(store, terms, params)


def photo_free(store: Store) -> bool:
    """A posts-only collection: posts, and not one photo among them (the dock then opens on its text queue)."""
    return sql.posts_only(store)


def text_post(store: Store, post_fid: int) -> TextPostRow | None:
    """One post as the text mode shows it (fresh from the store, e.g. after a change)."""
    rows = store.query("SELECT fid, post_id, platform, timestamp, text, url, geom, text_categories, "
                       "text_category_source, text_confidence FROM posts WHERE fid = ?", (post_fid,))
    return _row(rows[0]) if rows else None


def set_post_categories(store: Store, post_fid: int, categories: Sequence[str], analyst: str) -> CategoryReceipt:
    """Save an analyst's categories for a post (several may hold; none is a valid answer)."""
    analyst = (analyst or "").strip()
    if not analyst:
        raise CategoryError("an analyst name is required to categorise a post")
    known = [c.name for c in load_categories(store)]
    unknown = [c for c in categories if c not in known]
    if unknown:
        raise CategoryError(f"not on the store's category list: {', '.join(unknown)}")
    ordered = tuple(c for c in known if c in set(categories))  # desk order, no repeats
    before, summary = sql.category_state(store, post_fid)
    with store.batch() as conn:
        sql.set_analyst_categories(conn, post_fid, list(ordered), analyst)
    return CategoryReceipt(post_fid, ordered, analyst, tuple(before), summary)


def undo_post_categories(store: Store, receipt: CategoryReceipt) -> None:
    """Restore what the post held before the change the receipt records."""
    with store.batch() as conn:
        sql.restore_category_state(conn, receipt.post_fid, receipt.before, receipt.before_summary)
