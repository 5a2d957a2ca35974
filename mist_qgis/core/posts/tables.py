"""Tabular exports (CSV, TSV, .xlsx): the header, then one column->value dict per row, with row
lines, width checks and the workbook path kept in one place for every table-shaped format."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .issues import NotAPostCollection, Note, Skip
from .textio import Source, guess_delimiter, iter_rows

XLSX_SUFFIXES = (".xlsx", ".xlsm")


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, dict[str, Any]] | Skip | Note]


def openpyxl_available() -> bool:
    return importlib.util.find_spec("openpyxl") is not None


def open_table(src: Source, fix_row=None) -> Table:
    """The header and a row iterator. `fix_row(header, cells)` may repair a known quirk (the
    MIST-SMMD tables' trailing tab after `mid`) before the width check."""
    if src.path.suffix.lower() in XLSX_SUFFIXES:
        return _open_xlsx(src)
    first = src.info.text.split("\n", 1)[0]
    delimiter = guess_delimiter(first, src.path.suffix)
    rows = iter_rows(src, delimiter)
    header: list[str] | None = None
    for item in rows:
        if isinstance(item, Note):
            continue
        if isinstance(item, Skip):
            raise NotAPostCollection(f"{src.path.name}: the header row is unreadable ({item.reason})")
        header = [h.replace("\ufeff", "").strip() for h in item[1]]
        break
    if not header:
        raise NotAPostCollection(f"{src.path.name} has no header row")
    return Table(header, _dict_rows(src.name, header, rows, fix_row))


def _dict_rows(name: str, header: list[str], rows, fix_row) -> Iterator[tuple[int, dict[str, Any]] | Skip]:
    width = len(header)
    for item in rows:
        if isinstance(item, (Skip, Note)):
            yield item
            continue
        line, cells = item
        if fix_row is not None:
            cells = fix_row(header, cells)
        if len(cells) != width:
            extra = cells[width:]
            if len(cells) > width and not any(c.strip() for c in extra):
                cells = cells[:width]
            else:
                yield Skip(name, line, f"row has {len(cells)} fields, the header has {width}")
                continue
        yield line, dict(zip(header, cells, strict=True))


def _open_xlsx(src: Source) -> Table:
    """The first sheet of a workbook, read row by row (openpyxl read-only mode)."""
    if not openpyxl_available():
        raise NotAPostCollection(
            f"{src.path.name} is an Excel workbook; reading .xlsx needs the openpyxl package "
            "(python3 -m pip install openpyxl), or save the sheet as CSV UTF-8 and import that"
        )
    import openpyxl

    try:
        book = openpyxl.load_workbook(src.path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 (zip, XML and format errors all mean: not readable)
        raise NotAPostCollection(f"{src.path.name} is not a readable Excel workbook ({_short(exc)})") from None
    try:
        values = book.worksheets[0].iter_rows(values_only=True)
        header_row = next(values, None)
    except Exception as exc:  # noqa: BLE001
        book.close()
        raise NotAPostCollection(f"{src.path.name}: the first sheet is unreadable ({_short(exc)})") from None
    if not header_row:
        book.close()
        raise NotAPostCollection(f"{src.path.name}: the first sheet is empty")
    header = ["" if h is None else str(h).strip() for h in header_row]

    def rows() -> Iterator[tuple[int, dict[str, Any]] | Skip]:
        line = 1
        try:
            for line, row in enumerate(values, 2):  # noqa: B007 (the last line is reported below)
                if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                    continue
                cells = list(row) + [None] * (len(header) - len(row))
                yield line, {h: v for h, v in zip(header, cells[: len(header)], strict=True) if h}
        except Exception as exc:  # noqa: BLE001 (a damaged sheet: keep what was read, report the rest)
            yield Skip(src.name, line + 1, f"the sheet is damaged from here on; not read ({_short(exc)})")
        finally:
            book.close()

    return Table(header, rows())


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc)[:120]}"
