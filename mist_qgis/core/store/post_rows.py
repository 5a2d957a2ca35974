"""A PostRecord as the plain tuple the store binds.

The tuple is built where the record is parsed, so a reader in another process can send posts as
data (`marshal`) and the writer only hashes authors and binds values. It holds only str, int,
float, bool, None and tuples.
"""

from __future__ import annotations

import json

from ..posts.record import PostRecord

# Positions in a post row. TEXT..LAT are in the order of the posts columns they fill.
POST_ID, PLATFORM, AUTHOR, TEXT, SOURCE_FILE, SOURCE_LINE, LON, LAT, MEDIA = 0, 1, 2, 3, 14, 15, 17, 18, 19

PostRow = tuple


def post_row(rec: PostRecord) -> PostRow:
    """(post_id, platform, author, text, lang, url, media_url, timestamp, geo_source,
    geo_accuracy_m, photo, direction, altitude, is_repost, source_file, source_line, attributes,
    lon, lat, media) with media as ((kind, url, path), ...)."""
    media = rec.media
    first = media[0] if media else None
    return (
        rec.post_id, rec.platform, rec.author, rec.text, rec.lang, rec.url,
        first.url if first else None, rec.timestamp_iso(), rec.geo_source, rec.geo_accuracy_m,
        first.path if first else None, rec.direction, rec.altitude, rec.is_repost,
        rec.source_file, rec.source_line,
        json.dumps(rec.attributes, ensure_ascii=False) if rec.attributes else None,
        rec.lon, rec.lat,
        tuple([(m.kind, m.url, m.path) for m in media]) if media else (),
    )


def is_located(row: PostRow) -> bool:
    return row[LON] is not None and row[LAT] is not None


def first_of_each(rows: list[PostRow], known: set[tuple[str, str]] | None = None) -> list[PostRow]:
    """The rows whose (platform, post_id) is neither in `known` nor earlier in the batch (a
    stream may repeat a post)."""
    seen = set() if known is None else known
    fresh = []
    for row in rows:
        key = (row[PLATFORM], row[POST_ID])
        if key not in seen:
            seen.add(key)
            fresh.append(row)
    return fresh
