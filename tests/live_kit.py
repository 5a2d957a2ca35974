"""Tweets as a stream collector writes them, for the live-monitoring tests and benchmark."""

from __future__ import annotations

import json


def v1_line(n: int, text: str = "water on the road", lon: float = 113.6, lat: float = 34.7,
            photo: str | None = None) -> str:
    obj = {"created_at": "Tue Jul 20 10:05:00 +0000 2021", "id": 1417400000000000000 + n,
           "id_str": str(1417400000000000000 + n), "text": f"{text} {n}",
           "user": {"id": 70, "id_str": "70", "screen_name": "alice"}, "lang": "en",
           "coordinates": {"type": "Point", "coordinates": [lon, lat]}, "entities": {"hashtags": [], "urls": []}}
    if photo:
        obj["extended_entities"] = {"media": [{"type": "photo", "media_url_https": photo}]}
    return json.dumps(obj) + "\n"


def v2_line(n: int, text: str = "street flooded", lon: float = 113.61, lat: float = 34.71) -> str:
    obj = {"id": str(1417700000000000000 + n), "text": f"{text} {n}", "created_at": "2021-07-20T12:00:00Z",
           "author_id": "9", "geo": {"coordinates": {"type": "Point", "coordinates": [lon, lat]}}}
    return json.dumps(obj) + "\n"


def mixed_lines(start: int, count: int) -> str:
    """`count` tweets, v1.1 and v2 alternating, numbered from `start` (ids never collide)."""
    return "".join(v1_line(n) if n % 2 == 0 else v2_line(n) for n in range(start, start + count))
