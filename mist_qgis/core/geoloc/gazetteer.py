"""Toponyms in post text matched against a gazetteer the user already has (OSM roads, places).

The gazetteer is plain data (names + shapely geometries in WGS 84 lon/lat) so this module stays
QGIS-free; the Processing algorithm converts a QGIS layer. Matching is multilingual by
normalisation, not by language models: NFKC (full-width letters, digits and punctuation become
ASCII), case folding, punctuation and symbols as separators, and English street-type
abbreviations expanded (St -> street, Rd -> road, ...). Chinese text has no word boundaries, so
CJK characters are matched one by one; Latin words must match whole.

Lookup is by hashing every window of up to `max_units` units of the post text, so cost grows
with text length, not with gazetteer size.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

ABBREVIATIONS = {
    "st": "street", "rd": "road", "ave": "avenue", "av": "avenue", "blvd": "boulevard", "dr": "drive",
    "hwy": "highway", "ln": "lane", "pl": "place", "sq": "square", "ct": "court", "fwy": "freeway",
    "pkwy": "parkway", "expy": "expressway", "bldg": "building", "ctr": "center", "centre": "center",
    "mt": "mount", "n": "north", "s": "south", "e": "east", "w": "west",
}
# Names that are only a generic word name nothing in particular.
GENERIC = {"road", "street", "avenue", "lane", "bridge", "park", "river", "station", "the", "路", "街", "桥", "河",
           "公园", "小区", "大道", "道路", "地铁站"}
MIN_LATIN_CHARS = 3
MAX_UNITS = 24

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_UNIT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\s\u3040-\u30ff"
                   r"\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


def normalise(text: str) -> str:
    """NFKC, case-folded, punctuation and symbols turned into spaces, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in ("P", "S", "Z", "C"):
            out.append(" ")
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def units(text: str) -> list[str]:
    """Matching units of normalised text: one per CJK character, one per Latin word (expanded)."""
    return [ABBREVIATIONS.get(u, u) for u in _UNIT.findall(normalise(text))]


def key(text: str) -> str:
    return " ".join(units(text))


@dataclass
class GazetteerEntry:
    """One named feature; `geometry` is a shapely geometry in lon/lat (WGS 84)."""

    name: str
    geometry: object
    feature_id: object = None

    @property
    def kind(self) -> str:
        t = getattr(self.geometry, "geom_type", "")
        if "Polygon" in t:
            return "polygon"
        if "Line" in t:
            return "line"
        return "point"


@dataclass
class ToponymMatch:
    toponym: str  # the normalised words as found in the text
    start: int  # unit offsets in the text
    end: int
    entries: list[GazetteerEntry] = field(default_factory=list)

    @property
    def length(self) -> int:
        return self.end - self.start


class Gazetteer:
    """Names indexed by their normalised key; entries without a usable name or geometry are
    counted in `rejected` rather than dropped silently."""

    def __init__(self, entries: list[GazetteerEntry]) -> None:
        self.index: dict[str, list[GazetteerEntry]] = defaultdict(list)
        self.rejected = 0
        self.max_units = 1
        for entry in entries:
            k = key(entry.name)
            geom = entry.geometry
            if not k or geom is None or getattr(geom, "is_empty", True) or not _usable(k):
                self.rejected += 1
                continue
            self.index[k].append(entry)
            self.max_units = min(MAX_UNITS, max(self.max_units, len(k.split(" "))))

    def __len__(self) -> int:
        return sum(len(v) for v in self.index.values())

    def find(self, text: str) -> list[ToponymMatch]:
        """Toponyms in `text`, longest first, not overlapping each other."""
        u = units(text)
        found: list[ToponymMatch] = []
        for i in range(len(u)):
            for n in range(min(self.max_units, len(u) - i), 0, -1):
                k = " ".join(u[i:i + n])
                hit = self.index.get(k)
                if hit:
                    found.append(ToponymMatch(k, i, i + n, list(hit)))
        found.sort(key=lambda m: (-m.length, m.start))
        taken: list[ToponymMatch] = []
        for m in found:
            if all(m.end <= t.start or m.start >= t.end for t in taken):
                taken.append(m)
        return sorted(taken, key=lambda m: m.start)


def _usable(k: str) -> bool:
    if k in GENERIC or k.replace(" ", "") in GENERIC:
        return False
    parts = k.split(" ")
    if _CJK.search(k):
        return len(parts) >= 2  # a single Chinese character names too much
    return len(k.replace(" ", "")) >= MIN_LATIN_CHARS


def is_short(toponym: str) -> bool:
    """Short names (2 CJK characters, or fewer than 5 Latin letters) are more often wrong."""
    parts = toponym.split(" ")
    if _CJK.search(toponym):
        return len(parts) <= 2
    return len(toponym.replace(" ", "")) < 5
