"""The reader for Twitter/X JSON files: v1.1 tweets, v2 responses and bare v2 tweets, in JSON
lines, JSON arrays or pretty-printed files, one record at a time.

Every JSON value is classified on its own, so a file that mixes v1.1 and v2 records (a merged
harvest) imports completely. Forcing one format (`twitter_v1` or `twitter_v2`) makes records of
the other kind a reported skip instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .issues import Note, Skip, SkipRecord
from .record import PostRecord
from .textio import Source, iter_json
from .twitter_v1 import is_v1_tweet, parse_tweet
from .twitter_v2 import EMPTY, is_v2_response, is_v2_tweet, parse_response, parse_v2_tweet


def read_tweets(src: Source, accept: str = "any") -> Iterator[PostRecord | Skip | Note]:
    """`accept`: "any", "v1" or "v2"."""
    yield from tweets_from_values(iter_json(src), src.name, accept)


def tweets_from_values(items: Iterable[tuple[int, Any] | Skip], name: str,
                       accept: str = "any") -> Iterator[PostRecord | Skip | Note]:
    """The records of already-parsed JSON values (line, value); a tailed file comes this way."""
    for item in items:
        if isinstance(item, Skip):
            yield item
            continue
        line, obj = item
        if isinstance(obj, dict) and accept != "v2" and is_v1_tweet(obj):
            try:
                yield parse_tweet(obj, name, line)
            except SkipRecord as exc:
                yield Skip(name, line, str(exc))
        elif accept != "v1" and is_v2_response(obj):
            yield from parse_response(obj, name, line)
        elif accept != "v1" and is_v2_tweet(obj):
            try:
                yield parse_v2_tweet(obj, EMPTY, name, line)
            except SkipRecord as exc:
                yield Skip(name, line, str(exc))
        elif isinstance(obj, dict) and "data" in obj and not obj["data"] and accept != "v1":
            yield Note(name, line, "API response without tweets")
        else:
            yield Skip(name, line, _not_a_tweet(obj, accept))


def _not_a_tweet(obj: object, accept: str) -> str:
    wanted = {"v1": "a Twitter v1.1 tweet", "v2": "a Twitter v2 response or tweet"}.get(accept, "a tweet")
    if not isinstance(obj, dict):
        return f"record is a JSON {type(obj).__name__}, not {wanted}"
    keys = ", ".join(sorted(map(str, obj))[:6])
    return f"record is not {wanted} (keys: {keys})"
