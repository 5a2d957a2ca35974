"""Statuses are enums (`core/stage.py`): no SQL in the package writes a status as a literal such as
`status = 'done'`; it binds the enum's value as a parameter, so renaming or adding a status has one
home. The check reads every string of the package's source (f-strings and implicit
concatenations included, docstrings left out) and flags a string that names a `status` column and
quotes one of the enums' values. The store's released migrations (`core/store/schema.py`) are the
one other place the values are spelled: their CHECK constraints, which a migration never edits."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from mist_qgis.core.stage import LocateStatus, MediaStatus, Status

PACKAGE = Path(__file__).resolve().parents[2] / "mist_qgis"
HOMES = {"core/stage.py", "core/store/schema.py"}
VALUES = sorted({member.value for enum in (Status, MediaStatus, LocateStatus) for member in enum})
LITERAL = re.compile(r"'(" + "|".join(VALUES) + r")'")
STATUS = re.compile(r"\bstatus\b")


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _text(node: ast.AST) -> str | None:
    """The text of a string literal; an f-string's replacement fields read as `{}`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def status_literals(source: str, name: str = "<source>") -> list[str]:
    """`name:line: text` for each string in `source` that quotes a status value beside `status`."""
    tree = ast.parse(source, name)
    skip = _docstrings(tree)
    inside_fstring = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    found = []
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in inside_fstring:
            continue
        text = _text(node)
        if text and STATUS.search(text) and LITERAL.search(text):
            found.append((node.lineno, f"{name}:{node.lineno}: {' '.join(text.split())[:120]}"))
    return [line for _, line in sorted(found)]


def test_the_check_finds_a_status_literal_in_sql():
    bad = (
        'def finished(conn, kind):\n'
        '    """Runs with status \'done\' (a docstring may say so)."""\n'
        '    return conn.execute("SELECT fid FROM runs "\n'
        '                        f"WHERE kind = {kind!r} AND status = \'done\'")\n'
        'FRAGMENT = "m.status IN (\'ok\', \'pending\')"\n'
        'GOOD = "SELECT fid FROM runs WHERE status = ?"\n'
    )
    found = status_literals(bad, "bad.py")
    assert [f.split(": ")[0] for f in found] == ["bad.py:3", "bad.py:5"], found


def test_no_sql_outside_the_enums_home_writes_a_status_literal():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative not in HOMES:
            found += status_literals(path.read_text(encoding="utf-8"), relative)
    assert not found, "bind the Status / MediaStatus / LocateStatus value instead:\n" + "\n".join(found)


def test_the_schema_allows_exactly_the_enums_values():
    """The enums and the store's CHECK constraints agree (a new status needs a migration)."""
    source = (PACKAGE / "core" / "store" / "schema.py").read_text(encoding="utf-8")
    checks = [set(re.findall(r"'(\w+)'", values)) for values in re.findall(r"CHECK \(status IN \(([^)]*)\)\)", source)]
    for enum in (Status, MediaStatus, LocateStatus):
        assert {m.value for m in enum} in checks, enum
