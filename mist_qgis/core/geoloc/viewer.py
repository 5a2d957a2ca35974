"""A PNG of a query photo beside its reference with the match lines: inliers green, other
matches faint red. Rendered with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .matchers import MatchResult


def render_matches(query: np.ndarray, reference: np.ndarray, match: MatchResult, inliers: np.ndarray | None,
                   path: str | os.PathLike[str], title: str = "", max_lines: int = 300) -> Path:
    """Write the side-by-side PNG and return its path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    h = max(query.shape[0], reference.shape[0])
    canvas = np.full((h, query.shape[1] + reference.shape[1], 3), 255, dtype=np.uint8)
    canvas[: query.shape[0], : query.shape[1]] = query
    canvas[: reference.shape[0], query.shape[1]:] = reference
    fig = Figure(figsize=(12, 12 * h / canvas.shape[1] + 0.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 0.95 if title else 1))
    ax.imshow(canvas)
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    n = match.n
    inl = inliers if inliers is not None and len(inliers) == n else np.zeros(n, dtype=bool)
    order = np.argsort(~inl, kind="stable")[:max_lines]  # inliers first
    dx = query.shape[1]
    for i in order:
        x0, y0 = match.keypoints0[i]
        x1, y1 = match.keypoints1[i]
        if inl[i]:
            ax.plot([x0, x1 + dx], [y0, y1], color="#1a9850", linewidth=0.7, alpha=0.9)
        else:
            ax.plot([x0, x1 + dx], [y0, y1], color="#d73027", linewidth=0.4, alpha=0.35)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(path), format="png")
    return path


def render_geolocation(store, post_fid: int, path: str | os.PathLike[str], matcher_name: str | None = None,
                       **matcher_options) -> Path:
    """Re-match a geolocated post's winning photo with its reference and draw it."""
    from ..store import geoloc_sql
    from .matchers import create
    from .photos import load_photo
    from .scoring import verify

    rows = [r for r in geoloc_sql.geolocation_rows(store, matcher_name) if r["post_fid"] == post_fid and r["ref_uid"]]
    if not rows:
        raise ValueError(f"post {post_fid} has no geolocation with a reference")
    row = rows[-1]
    cache_path = store.scalar("SELECT cache_path FROM media WHERE fid = ?", (row["media_fid"],))
    ref_path = store.scalar('SELECT image_path FROM "references" WHERE ref_uid = ?', (row["ref_uid"],))
    query = load_photo(store.media_file(cache_path))
    ref = load_photo(ref_path)
    if not query.ok or not ref.ok:
        raise ValueError(query.reason or ref.reason)
    matcher = create(row["matcher"], **matcher_options)
    match = matcher.match(query.image, ref.image)
    geometry = verify(match)
    title = (f"post {post_fid} -> {row['ref_uid']}  matches {match.n}, inliers {geometry.inliers}, "
             f"confidence {row['confidence'] or 0:.2f}")
    return render_matches(query.image, ref.image, match, geometry.inlier_mask, path, title)
