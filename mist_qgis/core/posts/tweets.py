"""The reader for Twitter/X JSON files: v1.1 tweets, v2 responses and bare v2 tweets, in JSON
lines, JSON arrays or pretty-printed files, one record at a time.

Every JSON value is classified on its own, so a file that mixes v1.1 and v2 records (a merged
harvest) imports completely. Forcing one format (`twitter_v1` or `twitter_v2`) makes records of
the other kind a reported skip instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .issues import Note, Records, Skip, SkipRecord
from .record import PostRecord
from .textio import Source, iter_json
from .twitter_v1 import is_v1_tweet, parse_tweet
from .twitter_v2 import EMPTY, is_v2_response, is_v2_tweet, parse_response, parse_v2_tweet


def read_tweets(src: Source, accept: str = "any") -> Records:
    """`accept`: "any", "v1" or "v2"."""
    return tweets_from_values(iter_json(src), src.name, accept)


def tweets_from_values(items: Iterable[tuple[int, Any] | Skip | Note], name: str, accept: str = "any") -> Records:
    """The records of already-parsed JSON values (line, value); a tailed file comes this way."""

    def parse(line: int, obj: Any) -> PostRecord | list | None:
        if isinstance(obj, dict) and accept != "v2" and is_v1_tweet(obj):
            return parse_tweet(obj, name, line)
        if accept != "v1" and is_v2_response(obj):
            return parse_response(obj, name, line)
        if accept != "v1" and is_v2_tweet(obj):
            return parse_v2_tweet(obj, EMPTY, name, line)
        if isinstance(obj, dict) and "data" in obj and not obj["data"] and accept != "v1":
            return [Note(name, line, "API response without tweets")]
        raise SkipRecord(_not_a_tweet(obj, accept))

    return Records(name, items, parse)


def _not_a_tweet(obj: object, accept: str) -> str:
    wanted = {"v1": "a Twitter v1.1 tweet", "v2": "a Twitter v2 response or tweet"}.get(accept, "a tweet")
    if not isinstance(obj, dict):
        return f"record is a JSON {type(obj).__name__}, not {wanted}"
    keys = ", ".join(sorted(map(str, obj))[:6])
    return f"record is not {wanted} (keys: {keys})"
