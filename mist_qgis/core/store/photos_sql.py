"""SQL of the posts' `photo` field: the local cached copy of each post's first fetched photo (what
the map tip and the attribute form show), never a URL.

Works on a connection alone, so the schema's migrations and `open_store` use it without importing
the Store.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from ..stage import MediaStatus


def media_dir_of(conn: sqlite3.Connection) -> Path:
    """The store's photo cache (`<store>.media/`), from the file the connection has open; a team
    store's connection knows its cache on this computer."""
    if getattr(conn, "dialect", "sqlite") == "postgresql":
        return conn.media_dir  # type: ignore[attr-defined]
    main = next(r for r in conn.execute("PRAGMA database_list") if r[1] == "main")
    return Path(main[2]).with_name(Path(main[2]).name + ".media")


def set_post_photos(conn: sqlite3.Connection, media_fids: Sequence[int] | None = None) -> int:
    """Point each post's `photo` field (what the map tip and the attribute form show) at the local
    cached copy of its first fetched photo (a video's first frame when it has no photo). Posts
    of the given photos, or every post with a cached photo; never a URL."""
    where = ("fid IN (SELECT post_fid FROM media WHERE status = :ok AND cache_path IS NOT NULL "
             "AND kind IN ('photo', 'frame'))")
    params: dict[str, object] = {"dir": media_dir_of(conn).as_posix(), "ok": MediaStatus.OK}
    if media_fids is not None:
        if not media_fids:
            return 0
        params["ids"] = json.dumps([int(f) for f in media_fids])
        where += (" AND fid IN (SELECT post_fid FROM media "
                  "WHERE fid IN (SELECT CAST(value AS INTEGER) FROM json_each(:ids)))")
    return conn.execute(
        f"""
        UPDATE posts SET photo = (
            SELECT :dir || '/' || m.cache_path FROM media m
            WHERE m.post_fid = posts.fid AND m.status = :ok AND m.cache_path IS NOT NULL
              AND m.kind IN ('photo', 'frame') AND coalesce(m.content_type, '') NOT LIKE 'video/%'
            ORDER BY m.kind = 'frame', m.position, m.fid LIMIT 1)
        WHERE {where}
        """,
        params,
    ).rowcount
