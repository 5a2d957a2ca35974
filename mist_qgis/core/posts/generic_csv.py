"""Any CSV/TSV (or .xlsx) with a header: columns mapped to post fields by guessing from the header
(lat/lon/x/y/longitude/latitude, WKT, time, text, image columns) or by the user's mapping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import chain

from .columns import ColumnMapping, Reading, RowContext, guess_mapping, row_to_record
from .issues import NotAPostCollection, Note, Records
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
    finish: Callable[[PostRecord], PostRecord] | None = None,
) -> Records:
    """The table's rows as posts; `finish` adds a format's own fields to each record."""
    name = src.name

    def parse(line: int, values: dict) -> PostRecord:
        rec = row_to_record(values, mapping, ctx, name, line)
        return ctx.noted(finish(rec) if finish is not None else rec)

    return Records(name, chain([Note(name, 1, describe(mapping))], rows), parse)


def read_csv(src: Source, overrides: Mapping[str, str] | None = None, reading: Reading | None = None) -> Records:
    table = open_table(src)
    mapping = guess_mapping(table.header, overrides)
    if not usable(mapping):
        raise NotAPostCollection(
            f"{src.path.name}: no column looks like a location, text or photo "
            f"(header: {', '.join(table.header[:12])}); map them with field=column"
        )
    return read_rows(src, mapping, table.rows, (reading or Reading()).context())
