"""Twitter/X API v1.1 tweets (JSON lines or JSON arrays): one tweet object -> one PostRecord.

Location, best first: the exact `coordinates` point (GeoJSON [lon, lat]), the legacy `geo`
([lat, lon]), then the centre of `place.bounding_box` with an accuracy from the box size. A point
that disagrees with `geo` or lies outside its own place box only when swapped is rejected as a
lat/lon swap. Retweets are flagged `is_repost` and never inherit the original's location.
This parser runs a million times per benchmark: it does plain dict look-ups and nothing more.
"""

from __future__ import annotations

from typing import Any

from .geo import bbox_centre, checked_point, inside, is_null_island
from .ids import canonical_id, is_ascii_digits
from .issues import SkipRecord
from .record import MediaRef, PostRecord
from .timeparse import parse_time, twitter_time

PLATFORM = "twitter"


def is_v1_tweet(obj: Any) -> bool:
    """A v1.1 tweet has `id_str`/numeric `id` and a `user` object or Twitter-format `created_at`."""
    if not isinstance(obj, dict) or "data" in obj:
        return False
    if "id_str" in obj or "user" in obj:
        return True
    created = obj.get("created_at")
    return isinstance(obj.get("id"), int) and isinstance(created, str) and len(created) == 30


def tweet_id(obj: dict) -> str:
    value = obj.get("id_str")
    if isinstance(value, str) and is_ascii_digits(value):
        return canonical_id(value)
    value = obj.get("id")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and is_ascii_digits(value):
        return canonical_id(value)
    raise SkipRecord("tweet has no valid id")


def _text(obj: dict) -> str:
    ext = obj.get("extended_tweet")
    if isinstance(ext, dict) and isinstance(ext.get("full_text"), str):
        return ext["full_text"]
    text = obj.get("full_text")
    if isinstance(text, str):
        return text
    text = obj.get("text")
    return text if isinstance(text, str) else ""


def _media(obj: dict) -> list[MediaRef]:
    if "extended_entities" not in obj and "extended_tweet" not in obj:
        ent = obj.get("entities")
        if not isinstance(ent, dict) or "media" not in ent:
            return []
    items = None
    for holder in (obj.get("extended_tweet"), obj):
        if not isinstance(holder, dict):
            continue
        for key in ("extended_entities", "entities"):
            ent = holder.get(key)
            if isinstance(ent, dict) and isinstance(ent.get("media"), list):
                items = ent["media"]
                break
        if items is not None:
            break
    if not items:
        return []
    out = []
    for m in items:
        if not isinstance(m, dict):
            continue
        url = m.get("media_url_https") or m.get("media_url")
        if not isinstance(url, str):
            continue
        kind = m.get("type")
        out.append(MediaRef(url=url, kind="photo" if kind in (None, "photo") else f"{kind}_thumbnail"))
    return out


def _place_box(place: Any) -> tuple[float, float, float, float] | None:
    if not isinstance(place, dict):
        return None
    box = place.get("bounding_box")
    if not isinstance(box, dict):
        return None
    coords = box.get("coordinates")
    try:
        ring = coords[0]
        xs = [float(p[0]) for p in ring]
        ys = [float(p[1]) for p in ring]
    except (TypeError, IndexError, ValueError, KeyError):
        raise SkipRecord("place bounding box is malformed") from None
    if not xs:
        raise SkipRecord("place bounding box is empty")
    return min(xs), min(ys), max(xs), max(ys)


def _point(obj: dict) -> tuple[float, float] | None:
    """The exact point from `coordinates` or `geo`, cross-checked when both are present."""
    coords = obj.get("coordinates")
    geo = obj.get("geo")
    pair = None
    if isinstance(coords, dict):
        c = coords.get("coordinates")
        if not (isinstance(c, list) and len(c) >= 2):
            raise SkipRecord("coordinates field is malformed")
        pair = checked_point(c[0], c[1])
    if isinstance(geo, dict):
        g = geo.get("coordinates")
        if not (isinstance(g, list) and len(g) >= 2):
            if pair is None:
                raise SkipRecord("geo field is malformed")
            return pair
        if pair is None:
            lon, lat = checked_point(g[1], g[0])
            return lon, lat
        gx, gy = checked_point(g[1], g[0])
        if abs(gx - pair[0]) > 1e-6 or abs(gy - pair[1]) > 1e-6:
            if abs(gx - pair[1]) < 1e-6 and abs(gy - pair[0]) < 1e-6:
                raise SkipRecord("coordinates and geo disagree: latitude and longitude look swapped "
                                 f"({pair[0]:g}, {pair[1]:g})")
            raise SkipRecord("coordinates and geo disagree")
    return pair


def parse_tweet(obj: dict, source: str | None = None, line: int | None = None) -> PostRecord:
    """A v1.1 tweet as a PostRecord; SkipRecord with the reason if it cannot be one."""
    if not isinstance(obj, dict):
        raise SkipRecord("record is not a JSON object")
    post_id = tweet_id(obj)
    created = obj.get("created_at")
    if isinstance(created, str) and len(created) == 30:
        timestamp = twitter_time(created)
    else:
        timestamp = parse_time(created)
    user = obj.get("user")
    author = None
    if isinstance(user, dict):
        author = user.get("screen_name") or user.get("id_str")
        if author is not None and not isinstance(author, str):
            author = str(author)
    rt = obj.get("retweeted_status")
    is_repost = isinstance(rt, dict)
    if is_repost:
        text = _text(rt)
        rt_user = rt.get("user")
        name = rt_user.get("screen_name") if isinstance(rt_user, dict) else None
        text = f"RT @{name}: {text}" if isinstance(name, str) else text
        media = _media(obj) or _media(rt)
    else:
        text = _text(obj)
        media = _media(obj)
    lang = obj.get("lang")
    attributes: dict[str, Any] = {}
    if is_repost:
        rt_id = rt.get("id_str") or rt.get("id")
        if rt_id is not None:
            attributes["repost_of"] = str(rt_id)
    lon = lat = accuracy = None
    geo_source = "none"
    point = _point(obj)
    place = obj.get("place")
    box = _place_box(place) if place else None
    if isinstance(place, dict) and isinstance(place.get("full_name"), str):
        attributes["place"] = place["full_name"]
    if point is not None and is_null_island(*point):
        point = None
    if point is not None:
        lon, lat = point
        geo_source = "gps"
        if box is not None and not inside(lon, lat, box, 0.05) and inside(lat, lon, box, 0.05):
            raise SkipRecord(f"point lies outside its place but inside it when swapped ({lon:g}, {lat:g})")
    elif box is not None:
        lon, lat, accuracy = bbox_centre(*box)
        geo_source = "place"
    return PostRecord(
        post_id=post_id, platform=PLATFORM, lon=lon, lat=lat, text=text, author=author,
        lang=lang if isinstance(lang, str) else None,
        url=f"https://twitter.com/i/web/status/{post_id}", timestamp=timestamp,
        geo_source=geo_source, geo_accuracy_m=accuracy, is_repost=is_repost, media=media,
        source_file=source, source_line=line, attributes=attributes,
    )
