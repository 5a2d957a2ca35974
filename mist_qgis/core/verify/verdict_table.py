"""Verdicts from a table (CSV): a colleague's spreadsheet, an earlier campaign, a demo's examples.

Columns (header names, any order, case-insensitive): `post_id` (required), `verdict` (flood,
not_flood or unsure), `water_depth_m` (metres: "0.5", "50 cm", or a depth class such as "knee"),
`analyst`, `note`, and optionally `platform` when post ids repeat across platforms. Each row is
one verdict on the whole post, so it counts for every photo of the post (as a verdict given in the
dock without picking a photo). Every row is untrusted: a row naming an unknown post, an unknown
verdict, an impossible depth or no analyst is reported (line and reason) and skipped; the valid
rows are written together in one transaction. A row equal to the analyst's latest verdict on that
post is counted as unchanged and not written again, so importing a file twice is harmless.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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

    def skip(line: int | None, reason: str) -> None:
        summary.skipped += 1
        issues.append((path.name, line, reason))
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
        for line, row in rows:
            fids = [f for f, p in found.get(row["post_id"], []) if not row["platform"] or p == row["platform"]]
            if not fids:
                skip(line, f"post {row['post_id']!r} is not in the store")
                continue
            if len(fids) > 1:
                skip(line, f"post id {row['post_id']!r} exists on several platforms; add a platform column")
                continue
            try:
                verdict = Verdict(fids[0], row["verdict"], row["analyst"] or (default_analyst or ""), None,
                                  parse_table_depth(row["water_depth_m"]), row["note"] or None).validated()
            except VerdictError as exc:
                skip(line, str(exc))
                continue
            key = (verdict.post_fid, verdict.analyst)
            previous = seen.get(key)
            if previous is None:
                latest = sql.latest_post_level(store, verdict.post_fid, verdict.analyst)
                if latest is not None and (latest["verdict"], latest["water_depth_m"], latest["note"]) == (
                        verdict.verdict, verdict.water_depth_m, verdict.note):
                    summary.unchanged += 1
                    seen[key] = verdict
                    continue
            elif previous == verdict:
                summary.unchanged += 1
                continue
            seen[key] = verdict
            verdicts.append(verdict)
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
    """(line, row) for rows with a post id; rows without one are reported through `skip`."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(fh, dialect=dialect)
        names = reader.fieldnames or []
        columns = {name: _column(names, name) for name in _ALIASES}
        if columns["post_id"] is None or columns["verdict"] is None:
            found = ", ".join(names) or "none"
            raise VerdictError(f"{path.name}: needs the columns post_id and verdict (found: {found})")
        rows: list[tuple[int, dict[str, str]]] = []
        for line, raw in enumerate(reader, start=2):
            if line > MAX_ROWS:
                skip(line, f"more than {MAX_ROWS} rows; the rest is ignored")
                break
            row = {name: (raw.get(col) or "").strip() if col else "" for name, col in columns.items()}
            if not row["post_id"]:
                skip(line, "no post id")
                continue
            row["verdict"] = row["verdict"].lower().replace(" ", "_")
            rows.append((line, row))
    return rows
