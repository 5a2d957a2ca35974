"""Statements sent now and read later, so that a team store answers several in one round trip.

An analyst's verdict and "next post" are a handful of small statements each. On a team store
every statement waited for its answer was a round trip to the server, and with many analysts
on a busy server the waiting, not the work, made each verdict slow. Inside
`store.batch(pipeline=True)` the code sends (`submit`) every statement it can before it reads
any answer: on PostgreSQL they travel together in pipeline mode (the BEGIN with the first, the
writes nobody reads with the COMMIT), and the first read waits once for all of them. On a
GeoPackage, and outside such a batch, `submit` runs the statement at once; the calling code is
the same for both.
"""

from __future__ import annotations

from typing import Any


class Fetched:
    """An executed statement's result: its rows (already fetched), rowcount and lastrowid."""

    def __init__(self, rows: list, rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self._pos = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self):
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def fetchall(self) -> list:
        rows, self._pos = self._rows[self._pos:], len(self._rows)
        return rows

    def __iter__(self):
        return iter(self.fetchall())


def submit(conn, sql: str, params: Any = ()):
    """Send one statement; read its result (`fetchone`, `fetchall`, `rowcount`, `lastrowid`)
    when it is needed. A PostgreSQL statement submitted in a pipelined batch runs, and may fail,
    when a later read or the batch's end sends it; everywhere else it runs now."""
    send = getattr(conn, "submit", None)
    if send is not None:
        return send(sql, params)
    cur = conn.execute(sql, params)
    return Fetched(cur.fetchall() if cur.description is not None else [], cur.rowcount, cur.lastrowid)
