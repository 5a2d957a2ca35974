"""Verdicts from a table (CSV): a colleague's spreadsheet, an earlier campaign, a demo's examples.

Columns (header names, any order, case-insensitive): `post_id` (required), `verdict` (flood,
not_flood or unsure), `water_depth_m` (metres: "0.5", "50 cm", or a depth class such as "knee"),
`analyst`, `note`, and optionally `platform` when post ids repeat across platforms. Each row is
one verdict on the whole post, so it counts for every photo of the post (as a verdict given in the
dock without picking a photo). Ids follow the import's rule (`5`, `5.0` and `05` are one post).
Every row is untrusted and parsed under the per-record guard (`posts.issues.Records`): a row
naming an unknown post, an unknown verdict, an impossible depth or no analyst, or one the text
layer cannot read (a 200 KB cell), is reported (line and reason) and skipped; the valid rows
are written together in one transaction. A row equal to the analyst's latest verdict on that post
is counted as unchanged and not written again, so importing a file twice is harmless.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..posts.ids import canonical_id
from ..posts.issues import NotAPostCollection, Note, Records, Skip, SkipRecord
from ..posts.tables import open_table
from ..posts.textio import Source, sniff
from ..stage import run_stage
from ..store import Store
from ..store import verdict_import as sql
from .records import Verdict, VerdictError, parse_depth
from .verdicts import write_verdicts

STAGE = "import_verdicts"
MAX_ROWS = 1_000_000
REPORT_ISSUES = 50
_ALIASES = {
    "post_id": ("post_id", "id", "tweet_id", "id_str"),
    "verdict": ("verdict", "label"),
    "water_depth_m": ("water_depth_m", "depth_m", "depth", "water_depth"),
    "analyst": ("analyst", "verified_by"),
    "note": ("note", "comment"),
    "platform": ("platform",),
}


@dataclass
class VerdictImportSummary:
    run_id: int | None
    rows_read: int = 0
    written: int = 0
    unchanged: int = 0
    skipped: int = 0
    verdict_counts: dict[str, int] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def counts(self) -> dict[str, int]:
        """What the run records."""
        return {"rows_read": self.rows_read, "written": self.written, "unchanged": self.unchanged,
                "skipped": self.skipped}


def parse_table_depth(text: str | None) -> float | None:
    """Metres from a table cell: "0.5", "0,5", "0.5 m", "50cm" or a class name ("knee"); a bare
    number is always metres."""
    return parse_depth(text, class_numbers=False)


def _column(fieldnames: list[str], name: str) -> str | None:
    lowered = {f.strip().lower(): f for f in fieldnames if f}
    for alias in _ALIASES[name]:
        if alias in lowered:
            return lowered[alias]
    return None


def import_verdict_table(
    store: Store, path: str | Path, default_analyst: str | None = None, platform: str | None = None,
) -> VerdictImportSummary:
    """Write the verdicts of a CSV file into the store as one run (see the module docstring)."""
    path = Path(path)
    parameters = {"path": str(path), "default_analyst": default_analyst, "platform": platform}
    summary = VerdictImportSummary(None)
    issues: list[tuple[str | None, int | None, str]] = []

    def skip(line: int | None, reason: str, counted: bool = True) -> None:
        """A skipped row (counted), or a note on a kept one (`counted=False`: a line decoded
        with a fallback encoding)."""
        summary.skipped += counted
        issues.append((path.name, line, reason if counted else "note: " + reason))
        if len(summary.issues) < REPORT_ISSUES:
            summary.issues.append({"line": line, "reason": reason})

    with run_stage(store, STAGE, parameters) as run:
        run_id = summary.run_id = run.run_id
        run.counts = summary.counts()
        rows = _read_rows(path, skip)
        summary.rows_read = len(rows) + summary.skipped
        found = sql.post_fids_by_id(store, (r["post_id"] for _, r in rows), platform)
        verdicts: list[Verdict] = []
        seen: dict[tuple[int, str], Verdict] = {}

        def parse(line: int, row: dict[str, str]) -> None:
            fids = [f for f, p in found.get(row["post_id"], []) if not row["platform"] or p == row["platform"]]
            if not fids:
                raise SkipRecord(f"post {row['post_id'][:60]!r} is not in the store")
            if len(fids) > 1:
                raise SkipRecord(f"post id {row['post_id'][:60]!r} exists on several platforms; add a platform column")
            try:
                verdict = Verdict(fids[0], row["verdict"], row["analyst"] or (default_analyst or ""), None,
                                  parse_table_depth(row["water_depth_m"]), row["note"] or None).validated()
            except VerdictError as exc:
                raise SkipRecord(str(exc)) from None
            key = (verdict.post_fid, verdict.analyst)
            previous = seen.get(key)
            if previous is None:
                latest = sql.latest_post_level(store, verdict.post_fid, verdict.analyst)
                if latest is not None and (latest["verdict"], latest["water_depth_m"], latest["note"]) == (
                        verdict.verdict, verdict.water_depth_m, verdict.note):
                    summary.unchanged += 1
                    seen[key] = verdict
                    return
            elif previous == verdict:
                summary.unchanged += 1
                return
            seen[key] = verdict
            verdicts.append(verdict)

        for item in Records(path.name, rows, parse):
            skip(item.line, item.reason)
        if verdicts:
            write_verdicts(store, verdicts)
        summary.written = len(verdicts)
        for v in verdicts:
            summary.verdict_counts[v.verdict] = summary.verdict_counts.get(v.verdict, 0) + 1
        if issues:
            with store.batch() as conn:
                store.record_issues(conn, run_id, STAGE, issues)
        run.counts = summary.counts()
    return summary


def _read_rows(path: Path, skip) -> list[tuple[int, dict[str, str]]]:
    """(line, row) for rows with a post id; rows without one, and rows the text layer cannot
    read (a broken quote, a cell over the size limit, a wrong encoding), go through `skip`."""
    src = Source(path, sniff(path))
    try:
        try:
            table = open_table(src)
        except NotAPostCollection:
            table = None
        names = table.header if table else []
        columns = {name: _column(names, name) for name in _ALIASES}
        if table is None or columns["post_id"] is None or columns["verdict"] is None:
            found = ", ".join(names) or "none"
            raise VerdictError(f"{path.name}: needs the columns post_id and verdict (found: {found})")

        def parse(line: int, raw: dict) -> tuple[int, dict[str, str]]:
            if line > MAX_ROWS:
                raise SkipRecord(f"more than {MAX_ROWS} rows; not read")
            row = {name: str(raw.get(col) or "").strip() if col else "" for name, col in columns.items()}
            if not row["post_id"]:
                raise SkipRecord("no post id")
            row["post_id"] = canonical_id(row["post_id"])
            row["verdict"] = row["verdict"].lower().replace(" ", "_")
            return line, row

        rows: list[tuple[int, dict[str, str]]] = []
        for item in Records(path.name, table.rows, parse):
            if isinstance(item, Skip | Note):
                skip(item.line, item.reason, counted=isinstance(item, Skip))
            else:
                rows.append(item)
        return rows
    finally:
        src.close()
