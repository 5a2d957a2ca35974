"""Any CSV/TSV (or .xlsx) with a header: columns mapped to post fields by guessing from the header
(lat/lon/x/y/longitude/latitude, WKT, time, text, image columns) or by the user's mapping."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .columns import ColumnMapping, RowContext, guess_mapping, row_to_record
from .issues import NotAPostCollection, Note, Skip, SkipRecord
from .record import PostRecord
from .tables import open_table
from .textio import Source


def describe(mapping: ColumnMapping) -> str:
    return "columns used: " + ", ".join(f"{f}={c}" for f, c in mapping.fields.items())


def usable(mapping: ColumnMapping) -> bool:
    """A table is a post collection if it has a location, or a text or photo column."""
    f = mapping.fields
    return mapping.located or "text" in f or "photo" in f or "media_url" in f


def read_rows(
    src: Source, mapping: ColumnMapping, rows, ctx: RowContext,
) -> Iterator[PostRecord | Skip | Note]:
    name = src.name
    yield Note(name, 1, describe(mapping))
    for item in rows:
        if isinstance(item, Skip):
            yield item
            continue
        line, values = item
        try:
            yield row_to_record(values, mapping, ctx, name, line)
        except SkipRecord as exc:
            yield Skip(name, line, str(exc))


def read_csv(src: Source, overrides: Mapping[str, str] | None = None) -> Iterator[PostRecord | Skip | Note]:
    table = open_table(src)
    mapping = guess_mapping(table.header, overrides)
    if not usable(mapping):
        raise NotAPostCollection(
            f"{src.path.name}: no column looks like a location, text or photo "
            f"(header: {', '.join(table.header[:12])}); map them with field=column"
        )
    yield from read_rows(src, mapping, table.rows, RowContext())
