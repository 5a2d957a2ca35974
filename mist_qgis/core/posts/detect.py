"""Which reader a file needs, decided from its content (the extension is only a hint), so
analysts can drop in whatever their tool exported. `--format` overrides it."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from ..options import POST_FORMATS
from .columns import guess_mapping
from .crisismmd import is_crisismmd
from .generic_csv import usable
from .geojson import is_feature_collection
from .issues import NotAPostCollection
from .photos import PHOTO_SUFFIXES, has_photos
from .tables import XLSX_SUFFIXES, open_table
from .textio import Sniff, Source, guess_delimiter, require_text, sniff
from .twitter_v1 import is_v1_tweet
from .twitter_v2 import is_v2_response, is_v2_tweet
from .weibo import looks_like_weibo

FORMAT_CHOICES = POST_FORMATS.names  # what a user chooses from
FORMATS = tuple(f for f in FORMAT_CHOICES if f != "auto")
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"II*\x00", b"MM\x00*", b"RIFF")


def detect_format(path: Path) -> str:
    """One of FORMATS, or NotAPostCollection saying what the file is instead."""
    if path.is_dir():
        if has_photos(path):
            return "photos"
        raise NotAPostCollection(f"folder {path.name} holds no photos to import")
    if not path.exists():
        raise NotAPostCollection(f"{path} does not exist")
    info = sniff(path)
    if path.suffix.lower() in PHOTO_SUFFIXES and info.sample.startswith(_IMAGE_MAGIC):
        return "photos"
    if path.suffix.lower() in XLSX_SUFFIXES and info.sample.startswith(b"PK\x03\x04"):
        return _detect_table(path, info)
    require_text(info)
    text = info.text.lstrip("\ufeff \t\r\n\x1e")
    if text[:1] in "{[":
        return _detect_json(path, info, text)
    return _detect_table(path, info)


def _first_json_value(text: str) -> object | None:
    """The first record of a JSON text sample: a line, an array element or a whole object."""
    body = text.lstrip("[ \t\r\n\x1e")
    first_line = body.split("\n", 1)[0].strip().rstrip(",")
    for candidate in (first_line, body):
        try:
            value, _ = json.JSONDecoder().raw_decode(candidate)
            return value
        except ValueError:
            continue
    return None


def _detect_json(path: Path, info: Sniff, text: str) -> str:
    if is_feature_collection(text) or re.match(r'\{\s*"type"\s*:\s*"Feature"', text):
        return "geojson"
    value = _first_json_value(text)
    if isinstance(value, dict):
        if value.get("type") == "Feature":
            return "geojson"
        if is_v1_tweet(value):
            return "twitter_v1"
        if is_v2_response(value) or is_v2_tweet(value):
            return "twitter_v2"
    elif value is None and re.fullmatch(r"\[\s*\]\s*", text):
        raise NotAPostCollection(f"{path.name} holds no records (an empty JSON array)")
    elif value is None:  # first record larger than the sample or broken: look for tell-tale keys
        if re.search(r'"id_str"\s*:|"user"\s*:\s*\{', text):
            return "twitter_v1"
        if re.search(r'"data"\s*:', text) and re.search(r'"edit_history_tweet_ids"|"author_id"|"includes"', text):
            return "twitter_v2"
        raise NotAPostCollection(f"{path.name}: the first JSON record is malformed or too large to identify")
    what = f"a JSON {type(value).__name__}" if not isinstance(value, dict) else \
        "JSON whose records have keys " + ", ".join(sorted(map(str, value))[:8])
    raise NotAPostCollection(f"{path.name} is {what}: not tweets, Twitter API responses or GeoJSON")


def _detect_table(path: Path, info: Sniff) -> str:
    if path.suffix.lower() in XLSX_SUFFIXES:
        src = Source(path, info)
        try:
            header = open_table(src).header
        finally:
            src.close()
    else:
        first = info.text.split("\n", 1)[0].rstrip("\r")
        header = next(csv.reader([first], delimiter=guess_delimiter(first, path.suffix)), [])
    if len(header) < 2:
        raise NotAPostCollection(
            f"{path.name} is not a post collection: text without a recognisable header or JSON records"
        )
    if is_crisismmd(header):
        return "crisismmd"
    if looks_like_weibo(header):
        return "weibo"
    if usable(guess_mapping(header)):
        return "csv"
    raise NotAPostCollection(
        f"{path.name}: a table whose columns ({', '.join(h[:20] for h in header[:10])}) hold no location, "
        "text or photo MIST recognises; choose --format csv and map columns with field=column"
    )
