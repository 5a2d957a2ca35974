"""CrisisMMD annotation TSVs: one row per (tweet, image), labels as columns.

All rows of one tweet become one post with one media row per image, so every photo is kept, also
when a tweet's rows are not consecutive (the file's posts are gathered, then written in the order
their first row came; CrisisMMD files hold some ten thousand rows); the label columns stay as
attributes (per image under `images`, tweet-level ones once).
CrisisMMD has no coordinates: posts go to the unlocated table, and their time comes from the
tweet id (a Twitter snowflake) because the files carry none.
"""

from __future__ import annotations

from typing import Any

from .columns import normalise
from .ids import canonical_id, is_ascii_digits
from .issues import NotAPostCollection, Records, SkipRecord
from .record import MediaRef, PostRecord
from .tables import open_table
from .textio import Source
from .timeparse import snowflake_time

PLATFORM = "twitter"
REQUIRED = {"tweet_id", "image_id", "tweet_text"}
TWEET_LEVEL = ("text_info", "text_info_conf", "text_human", "text_human_conf")
IMAGE_LEVEL = ("image_id", "image_info", "image_info_conf", "image_human", "image_human_conf",
               "image_damage", "image_damage_conf")


def is_crisismmd(header: list[str]) -> bool:
    return REQUIRED <= {normalise(h) for h in header}


def read_crisismmd(src: Source) -> Records:
    table = open_table(src)
    cols = {normalise(h): h for h in table.header}
    if not REQUIRED <= set(cols):
        missing = ", ".join(sorted(REQUIRED - set(cols)))
        raise NotAPostCollection(f"{src.path.name} is not a CrisisMMD annotation file (missing {missing})")
    posts: dict[str, PostRecord] = {}

    def parse(line: int, values: dict[str, str]) -> None:
        raw = (values.get(cols["tweet_id"]) or "").strip()
        tweet_id = canonical_id(raw)
        if not is_ascii_digits(tweet_id):
            raise SkipRecord(f"tweet_id is not a number: {raw[:30]!r}")
        current = posts.get(tweet_id)
        if current is None:
            posts[tweet_id] = _new_post(tweet_id, values, cols, src.name, line)
        else:
            _add_image(current, values, cols)

    return Records(src.name, table.rows, parse, flush=lambda: posts.values())


def _new_post(tweet_id: str, values: dict[str, str], cols: dict[str, str], source: str, line: int) -> PostRecord:
    attributes: dict[str, Any] = {}
    for key in TWEET_LEVEL:
        if key in cols and values.get(cols[key], "").strip():
            attributes[key] = values[cols[key]].strip()
    known = set(TWEET_LEVEL) | set(IMAGE_LEVEL) | {"tweet_id", "tweet_text", "image_url", "image_path"}
    for norm, col in cols.items():
        if norm not in known and values.get(col, "").strip():
            attributes[col] = values[col].strip()
    attributes["images"] = []
    attributes["timestamp_from"] = "tweet id"
    rec = PostRecord(
        post_id=tweet_id, platform=PLATFORM, text=values.get(cols["tweet_text"], "").strip(),
        url=f"https://twitter.com/i/web/status/{tweet_id}", timestamp=snowflake_time(tweet_id),
        source_file=source, source_line=line, attributes=attributes,
    )
    _add_image(rec, values, cols)
    return rec


def _add_image(rec: PostRecord, values: dict[str, str], cols: dict[str, str]) -> None:
    labels = {k: values[cols[k]].strip() for k in IMAGE_LEVEL if k in cols and values.get(cols[k], "").strip()}
    if labels:
        rec.attributes["images"].append(labels)
    url = values.get(cols.get("image_url", ""), "").strip() if "image_url" in cols else ""
    path = values.get(cols.get("image_path", ""), "").strip() if "image_path" in cols else ""
    if url and not url.lower().startswith(("http://", "https://")):
        url = ""
    if url or path:
        rec.media.append(MediaRef(url=url or None, path=path or None))
