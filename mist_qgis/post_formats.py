"""What each post-collection format is called where users choose one (dock, Processing); the
CLI and the store use the short names of `core.posts.detect.FORMATS`."""

from __future__ import annotations

from .core.posts.detect import FORMAT_CHOICES
from .i18n import QT_TR_NOOP, tr

FORMAT_LABELS: dict[str, str] = {
    "auto": QT_TR_NOOP("Detect from the content"),
    "twitter_v1": QT_TR_NOOP("Twitter/X API v1.1 tweets"),
    "twitter_v2": QT_TR_NOOP("Twitter/X API v2 responses"),
    "weibo": QT_TR_NOOP("Weibo export or MIST-SMMD table"),
    "crisismmd": QT_TR_NOOP("CrisisMMD annotation table"),
    "csv": QT_TR_NOOP("Table (CSV, TSV, Excel) with a column mapping"),
    "geojson": QT_TR_NOOP("GeoJSON or GeoJSON sequence"),
    "photos": QT_TR_NOOP("Folder of geotagged photos"),
}


def format_choices() -> list[tuple[str, str]]:
    """(name, translated label) for every choice, auto first."""
    return [(name, format_label(name)) for name in FORMAT_CHOICES]


def format_label(name: str) -> str:
    """The translated label with the short name the CLI takes, e.g. "GeoJSON … (geojson)"."""
    return f"{tr(FORMAT_LABELS[name])} ({name})"
