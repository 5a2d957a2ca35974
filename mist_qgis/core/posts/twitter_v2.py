"""Twitter/X API v2 responses: `data` (one tweet or a list) with `includes.media`,
`includes.places` and `includes.users`, as single responses or JSON lines of responses.

Each tweet becomes one PostRecord: `geo.coordinates` is a GPS point, `geo.place_id` resolves to
the place's `geo.bbox` centre with an accuracy from the box size, `attachments.media_keys`
resolve to photo URLs (video preview images for videos), `referenced_tweets` of type
`retweeted` flag a repost. A bare v2 tweet object (as some tools write one per line) works too.
"""

from __future__ import annotations

from typing import Any

from .geo import bbox_centre, checked_point, is_null_island
from .ids import canonical_id, is_ascii_digits
from .issues import Note, Skip, SkipRecord, each
from .record import MediaRef, PostRecord
from .timeparse import parse_time

PLATFORM = "twitter"


def is_v2_response(obj: Any) -> bool:
    return isinstance(obj, dict) and "data" in obj and isinstance(obj["data"], (dict, list)) \
        and (obj["data"] == [] or _looks_v2_tweet(obj["data"] if isinstance(obj["data"], dict) else obj["data"][0]))


def is_v2_tweet(obj: Any) -> bool:
    return isinstance(obj, dict) and "data" not in obj and _looks_v2_tweet(obj)


def _looks_v2_tweet(obj: Any) -> bool:
    if not isinstance(obj, dict) or "id_str" in obj or "user" in obj:
        return False
    return isinstance(obj.get("id"), str) and "text" in obj and (
        "edit_history_tweet_ids" in obj or "author_id" in obj or "attachments" in obj
        or "referenced_tweets" in obj or "geo" in obj or "created_at" in obj or "public_metrics" in obj
    )


def _index(items: Any, key: str) -> dict[str, dict]:
    if not isinstance(items, list):
        return {}
    return {str(i[key]): i for i in items if isinstance(i, dict) and key in i}


class Includes:
    """The lookup tables of one response."""

    def __init__(self, includes: Any) -> None:
        includes = includes if isinstance(includes, dict) else {}
        self.media = _index(includes.get("media"), "media_key")
        self.places = _index(includes.get("places"), "id")
        self.users = _index(includes.get("users"), "id")


EMPTY = Includes(None)


def parse_v2_tweet(tweet: Any, inc: Includes = EMPTY, source: str | None = None, line: int | None = None) -> PostRecord:
    if not isinstance(tweet, dict):
        raise SkipRecord("tweet is not a JSON object")
    post_id = tweet.get("id")
    if isinstance(post_id, int) and not isinstance(post_id, bool):
        post_id = str(post_id)
    if not isinstance(post_id, str) or not is_ascii_digits(post_id):
        raise SkipRecord("tweet has no valid id")
    post_id = canonical_id(post_id)
    note = tweet.get("note_tweet")
    text = note.get("text") if isinstance(note, dict) and isinstance(note.get("text"), str) else tweet.get("text")
    text = text if isinstance(text, str) else ""
    timestamp = parse_time(tweet.get("created_at"))
    author_id = tweet.get("author_id")
    author = None
    if author_id is not None:
        user = inc.users.get(str(author_id))
        author = user.get("username") if user and isinstance(user.get("username"), str) else str(author_id)
    refs = tweet.get("referenced_tweets")
    repost_of = None
    if isinstance(refs, list):
        for ref in refs:
            if isinstance(ref, dict) and ref.get("type") == "retweeted":
                repost_of = str(ref.get("id"))
    media: list[MediaRef] = []
    attachments = tweet.get("attachments")
    keys = attachments.get("media_keys") if isinstance(attachments, dict) else None
    if isinstance(keys, list):
        for key in keys:
            item = inc.media.get(str(key))
            if not item:
                continue
            kind = item.get("type")
            url = item.get("url") if kind == "photo" else item.get("preview_image_url")
            if isinstance(url, str):
                media.append(MediaRef(url=url, kind="photo" if kind == "photo" else f"{kind}_thumbnail"))
    attributes: dict[str, Any] = {}
    if repost_of:
        attributes["repost_of"] = repost_of
    lon = lat = accuracy = None
    geo_source = "none"
    geo = tweet.get("geo")
    if isinstance(geo, dict):
        point = geo.get("coordinates")
        if isinstance(point, dict):
            c = point.get("coordinates")
            if not (isinstance(c, list) and len(c) >= 2):
                raise SkipRecord("geo.coordinates is malformed")
            lon, lat = checked_point(c[0], c[1])
            if is_null_island(lon, lat):
                lon = lat = None
            else:
                geo_source = "gps"
        place_id = geo.get("place_id")
        if place_id is not None:
            place = inc.places.get(str(place_id))
            if place and isinstance(place.get("full_name"), str):
                attributes["place"] = place["full_name"]
            if lon is None and place:
                bbox = place.get("geo", {}).get("bbox") if isinstance(place.get("geo"), dict) else None
                if isinstance(bbox, list) and len(bbox) == 4:
                    lon, lat, accuracy = bbox_centre(*bbox)
                    geo_source = "place"
    lang = tweet.get("lang")
    return PostRecord(
        post_id=post_id, platform=PLATFORM, lon=lon, lat=lat, text=text, author=author,
        lang=lang if isinstance(lang, str) else None, url=f"https://twitter.com/i/web/status/{post_id}",
        timestamp=timestamp, geo_source=geo_source, geo_accuracy_m=accuracy, is_repost=repost_of is not None,
        media=media, source_file=source, source_line=line, attributes=attributes,
    )


def parse_response(obj: dict, source: str, line: int) -> list[PostRecord | Skip | Note]:
    """Every tweet of one v2 response; a broken tweet is one Skip, the others still import."""
    data = obj.get("data")
    tweets = data if isinstance(data, list) else [data]
    inc = Includes(obj.get("includes"))
    notes = [Note(source, line, "API response has errors and no tweets")] if not tweets and obj.get("errors") else []
    return notes + each(source, ((line, t) for t in tweets), lambda n, t: parse_v2_tweet(t, inc, source, n))
