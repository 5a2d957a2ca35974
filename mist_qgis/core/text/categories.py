"""The categories a team sorts posts into, and the keyword rules that give first labels.

The defaults are the humanitarian categories of the crisis-post classifier MIST builds on (each
goes to a different desk of a response team) plus flood / not flood. A team edits the list and
each category's keywords; the list lives in the store (`text_categories`), so every analyst of
one store sees the same one. A post may hold several categories.

Keyword rules are the collection keywords responders already use (Chinese and English). They
label posts before anyone has labelled one, and their labels are always shown as "keyword rule";
trained heads replace them category by category.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MistError
from .normalize import NormalizedText, normalize, to_simplified

if TYPE_CHECKING:
    from ..store import Store


@dataclass(frozen=True)
class Category:
    name: str  # snake_case id, stored on posts
    title: str  # what the analyst reads
    keywords: tuple[str, ...] = field(default_factory=tuple)


# "not_relevant" and "not_flood" are the complements: their rules fire when no other rule does.
COMPLEMENTS = {"not_relevant": None, "not_flood": "flood"}

DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category("urgent_help", "urgent help needed", (
        "help", "sos", "trapped", "stranded", "rescue us", "need rescue", "urgent", "please send", "stuck on roof",
        "no food", "no water", "elderly", "救命", "求救", "求助", "被困", "困在", "急需", "紧急", "救救", "等待救援",
        "断粮", "急救", "帮帮",
    )),
    Category("relief_rescue", "relief and rescue information", (
        "rescue team", "rescued", "evacuat", "shelter", "relief", "volunteer", "donat", "supplies", "boats",
        "hotline", "救援队", "救援", "转移", "安置", "避难所", "物资", "志愿者", "捐", "冲锋舟", "热线", "消防",
    )),
    Category("infrastructure_damage", "infrastructure damage", (
        "collapsed", "bridge", "power outage", "blackout", "road closed", "washed away", "dam", "levee", "subway",
        "damage", "burst", "倒塌", "坍塌", "桥", "停电", "断电", "塌方", "决堤", "溃坝", "地铁", "冲毁", "损毁",
        "封闭", "停运",
    )),
    Category("caution_advice", "caution and advice", (
        "warning", "stay indoors", "avoid", "alert", "be careful", "do not drive", "safety", "forecast", "advisory",
        "预警", "注意安全", "避免", "不要", "请勿", "提醒", "远离", "红色预警", "防范", "出行",
    )),
    Category("misinformation", "misinformation", (
        "fake", "rumor", "rumour", "hoax", "old photo", "not true", "false", "debunk", "misleading",
        "谣言", "辟谣", "假的", "不实", "旧图", "旧视频", "假消息", "造谣", "网传",
    )),
    Category("not_relevant", "not relevant", ()),
    Category("flood", "flood", (
        "flood", "flooding", "flooded", "inundat", "water level", "waterlogged", "submerged", "heavy rain",
        "storm surge", "洪水", "洪涝", "内涝", "水淹", "被淹", "淹了", "积水", "水浸", "暴雨", "涨水", "洪峰", "泄洪",
    )),
    Category("not_flood", "not flood", ()),
)

HUMANITARIAN = tuple(c.name for c in DEFAULT_CATEGORIES if c.name not in ("flood", "not_flood"))


class CategoryError(MistError, ValueError):
    """A category list the analyst typed cannot be used (the message says why)."""


def check_name(name: str) -> str:
    clean = name.strip().lower().replace(" ", "_")
    if not clean or not all(ch.isalnum() or ch == "_" for ch in clean) or len(clean) > 60:
        raise CategoryError(f"category name {name!r}: use letters, digits and underscores (at most 60)")
    return clean


def load_categories(store: Store) -> tuple[Category, ...]:
    """The store's list, or the defaults when the team has not edited one yet."""
    rows = store.query("SELECT name, title, keywords FROM text_categories ORDER BY position, name")
    if not rows:
        return DEFAULT_CATEGORIES
    return tuple(Category(r[0], r[1] or r[0], tuple(json.loads(r[2] or "[]"))) for r in rows)


def save_categories(store: Store, categories: Sequence[Category]) -> None:
    """Replace the store's category list (names checked, keywords normalised like post text)."""
    seen: set[str] = set()
    rows = []
    for i, c in enumerate(categories):
        name = check_name(c.name)
        if name in seen:
            raise CategoryError(f"category {name!r} appears twice")
        seen.add(name)
        words = [normalize(k).text for k in c.keywords if normalize(k).text]
        rows.append((name, c.title or name, i, json.dumps(words, ensure_ascii=False)))
    if not rows:
        raise CategoryError("the category list is empty")
    with store.batch() as conn:
        conn.execute("DELETE FROM text_categories")
        conn.executemany("INSERT INTO text_categories (name, title, position, keywords) VALUES (?, ?, ?, ?)", rows)


@functools.lru_cache(maxsize=16)
def _compiled(categories: tuple[Category, ...]) -> tuple[list[tuple[str, re.Pattern]], frozenset[str]]:
    """One regular expression per category (its keywords as normalised text reads them)."""
    rules = []
    for c in categories:
        words = [to_simplified(k.lower()) for k in c.keywords if k.strip()]
        if c.name not in COMPLEMENTS and words:
            rules.append((c.name, re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))))
    return rules, frozenset(c.name for c in categories)


def keyword_labels(norm: NormalizedText, categories: Sequence[Category]) -> tuple[str, ...]:
    """The categories whose keywords occur in a normalised post; complements fill the gaps.

    `not_relevant` holds when no other humanitarian rule fires; `not_flood` when `flood` does not.
    A post with no text gets no label at all.
    """
    if not norm.has_text:
        return ()
    text = norm.text
    rules, names = _compiled(tuple(categories))
    hits = [name for name, pattern in rules if pattern.search(text)]
    out = list(hits)
    if "not_relevant" in names and not any(h in HUMANITARIAN for h in hits):
        out.append("not_relevant")
    for comp, base in COMPLEMENTS.items():
        if base and comp in names and base not in hits:
            out.append(comp)
    return tuple(out)


def read_category_table(path: str | Path) -> list[Category]:
    """A team's category list from a CSV table: name, title, keywords (separated by ';'), one
    category per row, in desk order. Bad rows are errors that name the line."""
    import csv

    out = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "name" not in reader.fieldnames:
            raise CategoryError(f"{path}: the first row must name the columns name, title, keywords")
        for line, row in enumerate(reader, start=2):
            try:
                name = check_name(row.get("name") or "")
            except CategoryError as exc:
                raise CategoryError(f"{path}, line {line}: {exc}") from None
            words = tuple(w.strip() for w in (row.get("keywords") or "").split(";") if w.strip())
            out.append(Category(name, (row.get("title") or name).strip(), words))
    return out
