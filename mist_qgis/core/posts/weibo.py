"""Weibo exports (crawler CSVs in English or Chinese headers, the MIST-SMMD `weibo_dataset`
sheet) and the MIST-SMMD coarse-location table (`mid, date, ..., X_WGS84, Y_WGS84, confidence`).

Facts from specs/lsgl.md: `created_at`/`date` may be Excel serial days; the `mid` strings carry a
trailing tab (which in a TSV also adds an empty cell); the coarse table has one row per (post,
candidate place), so its post id is `mid@st_loc` and the accuracy is the paper's buffer radius for
the geocoder confidence. Weibo times without an offset are China time (UTC+8).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import chain

from .columns import GUESSES, ColumnMapping, Reading, guess_mapping, normalise, row_to_record
from .generic_csv import read_rows, usable
from .ids import canonical_id, is_ascii_digits
from .issues import NotAPostCollection, Note, Records, SkipRecord
from .record import PostRecord
from .tables import XLSX_SUFFIXES, open_table
from .textio import Source
from .timeparse import CHINA

PLATFORM = "weibo"
# Baidu geocoder confidence -> uncertainty buffer (m), MIST-SMMD `Coarse-grained` stage.
CONFIDENCE_BUFFER_M = {30: 5000, 40: 2000, 50: 1000, 60: 500, 70: 300, 75: 200, 80: 100, 90: 50, 100: 20}
SMMD_COLUMNS = {"mid", "x_wgs84", "y_wgs84"}
WEIBO_HINTS = {
    "mid", "bid", "pics", "reposts_count", "attitudes_count", "comments_count", "ip_location", "ip属地", "ip",
    "微博正文", "原始图片url", "用户昵称", "转发数", "评论数", "点赞数", "spider_keyword", "是否原创", "retweet_id",
}

WEIBO_GUESSES = dict(GUESSES)
WEIBO_GUESSES.update({
    "post_id": ("mid", "id", "weibo_id", "微博id", "bid"),
    "time": ("created_at", "create_at", "date", "发布时间", "日期", "时间"),
    "text": ("text", "微博正文", "微博内容", "博文", "正文", "content", "内容"),
    "author": ("screen_name", "用户昵称", "nickname", "user_id", "用户id"),
    "media_url": ("pics", "原始图片url", "pictures", "pic_urls", "image_urls", "图片", "media_url"),
    "lon": ("lon", "lng", "longitude", "x_wgs84", "经度"),
    "lat": ("lat", "latitude", "y_wgs84", "纬度"),
})


def is_smmd_table(header: list[str]) -> bool:
    return SMMD_COLUMNS <= {normalise(h) for h in header}


def looks_like_weibo(header: list[str]) -> bool:
    names = {normalise(h) for h in header}
    return is_smmd_table(header) or bool(names & WEIBO_HINTS)


def _strip_mid_tab(mid_index: int | None):
    def fix(header: list[str], cells: list[str]) -> list[str]:
        if mid_index is not None and len(cells) == len(header) + 1 and mid_index + 1 < len(cells) \
                and cells[mid_index + 1] == "":
            return cells[: mid_index + 1] + cells[mid_index + 2:]
        return cells
    return fix


def read_weibo(src: Source, overrides: Mapping[str, str] | None = None, reading: Reading | None = None) -> Records:
    probe = open_table(src) if src.path.suffix.lower() in XLSX_SUFFIXES else None
    header = probe.header if probe else _header_only(src)
    mid_index = next((i for i, h in enumerate(header) if normalise(h) == "mid"), None)
    table = probe or open_table(src, fix_row=_strip_mid_tab(mid_index))
    mapping = guess_mapping(table.header, overrides, WEIBO_GUESSES)
    reading = reading or Reading()
    if is_smmd_table(table.header):
        return _read_smmd(src, table, mapping, reading)
    if not usable(mapping):
        raise NotAPostCollection(f"{src.path.name}: no Weibo text, picture or location column found")
    return read_rows(src, mapping, table.rows, reading.context(PLATFORM, CHINA), _weibo_fields)


def _header_only(src: Source) -> list[str]:
    from .textio import guess_delimiter

    first = src.info.text.split("\n", 1)[0].rstrip("\r")
    import csv

    return next(csv.reader([first], delimiter=guess_delimiter(first, src.path.suffix)), [])


def _weibo_fields(rec: PostRecord) -> PostRecord:
    """Weibo-specific columns: repost flags and the IP region, kept where analysts look for them."""
    attrs = rec.attributes
    for key in list(attrs):
        norm = normalise(key)
        value = str(attrs[key]).strip()
        if norm in ("是否原创", "original") and value.lower() in ("false", "0", "否"):
            rec.is_repost = True
        elif norm in ("retweet_id", "源微博id", "repost_id") and value not in ("", "0"):
            rec.is_repost = True
            attrs["repost_of"] = value
        elif norm in ("ip_location", "ip属地", "ip", "region"):
            attrs["region"] = value
    if not rec.url and is_ascii_digits(rec.post_id):
        rec.url = f"https://m.weibo.cn/detail/{rec.post_id}"
    return rec


def _read_smmd(src: Source, table, mapping: ColumnMapping, reading: Reading) -> Records:
    """The coarse-location table: one candidate place per row, geocoded from the post's text."""
    cols = {normalise(h): h for h in table.header}
    mid_col, loc_col, conf_col = cols["mid"], cols.get("st_loc") or cols.get("ts_loc"), cols.get("confidence")
    mapping.fields.update({"lon": cols["x_wgs84"], "lat": cols["y_wgs84"]})
    mapping.fields.pop("post_id", None)
    if "date" in cols:
        mapping.fields["time"] = cols["date"]
    # its X_WGS84/Y_WGS84 columns say their CRS: the CRS option does not apply
    ctx = Reading(naive_tz=reading.naive_tz).context(PLATFORM, CHINA, "geocoded")
    name = src.name

    def parse(line: int, values: dict) -> PostRecord:
        mid = canonical_id(values.get(mid_col))
        if not mid:
            raise SkipRecord("row has no mid")
        place = str(values.get(loc_col) or "").strip() if loc_col else ""
        rec = row_to_record(values, mapping, ctx, name, line)
        rec.post_id = f"{mid}@{place}" if place else mid
        rec.attributes["mid"] = mid
        if rec.located and conf_col:
            try:
                confidence = float(str(values.get(conf_col)).strip())
            except ValueError:
                confidence = None
            if confidence is not None and math.isfinite(confidence):
                rec.geo_accuracy_m = float(CONFIDENCE_BUFFER_M.get(int(confidence), 5000)) \
                    if confidence.is_integer() else 5000.0
        return ctx.noted(rec)

    note = Note(name, 1, "MIST-SMMD coarse-location table: one post per (mid, standardized place)")
    return Records(name, chain([note], table.rows), parse)
