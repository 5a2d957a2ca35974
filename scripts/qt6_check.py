"""Qt 6 readiness of the plugin (QGIS 4 runs on Qt 6 / PyQt6): fails when the code uses a Qt name
that PyQt6 does not have, an unscoped enum, `exec_()`, compiled resources, or imports Qt other
than through `qgis.PyQt`.

    .venv-qt6/bin/python scripts/qt6_check.py --qt mist_qgis     # Qt names, resolved in PyQt6
    .venv/bin/python scripts/qt6_check.py --qgis mist_qgis       # QGIS enums, resolved in QGIS

`--qt` collects every attribute chain rooted at a name imported from `qgis.PyQt.*`
(`Qt.AlignmentFlag.AlignLeft`, `QDialogButtonBox.ButtonRole.AcceptRole`, `QVariant.Int`) and
resolves it in the PyQt6 module of the same name: an unscoped enum (`Qt.AlignLeft`), a QVariant
type constant, `QRegExp` or `QDesktopWidget` do not exist there and fail. `--qgis` resolves the
chains rooted at QGIS classes in the QGIS under test and fails on an enum value reached through
its class instead of its enum (`QgsTask.CanCancel` instead of `QgsTask.Flag.CanCancel`).
Prints one line per problem (file:line) and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import ast
import enum
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

# QGIS's `qgis.PyQt.QtWidgets` on Qt 6 still offers the classes Qt 6 moved to QtGui.
MOVED_TO_QTGUI = {"QAction", "QActionGroup", "QShortcut", "QFileSystemModel", "QUndoCommand", "QUndoGroup",
                  "QUndoStack"}
QGIS_MODULES = ("qgis.core", "qgis.gui", "qgis.analysis")


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def chain_of(node: ast.Attribute) -> list[str] | None:
    """`A.b.c` as ["A", "b", "c"], or None when the chain does not start at a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def outermost_chains(tree: ast.AST) -> list[tuple[int, list[str]]]:
    """Every maximal attribute chain (`Qt.AlignmentFlag.AlignLeft`, not also `Qt.AlignmentFlag`)."""
    inner = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            inner.add(id(node.value))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            chain = chain_of(node)
            if chain:
                out.append((node.lineno, chain))
    return out


def imported_names(tree: ast.AST, prefix: str) -> dict[str, tuple[str, str, int]]:
    """Local name -> (module, imported name, line) for `from <prefix>... import X [as Y]`."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(prefix):
            for alias in node.names:
                names[alias.asname or alias.name] = (node.module, alias.name, node.lineno)
    return names


def resolved_chains(tree: ast.AST, roots: dict[str, object]):
    """(line, chain, objects along it, first missing attribute or None) for every chain that
    starts at one of `roots` (local name -> the Qt or QGIS object it names)."""
    for line, chain in outermost_chains(tree):
        if chain[0] in roots:
            yield (line, chain, *resolve(roots[chain[0]], chain[1:]))


def resolve(root: object, attrs: list[str]) -> tuple[list[object], str | None]:
    """The objects along the chain, and the first attribute that is missing (or None)."""
    objects = [root]
    for attr in attrs:
        try:
            objects.append(getattr(objects[-1], attr))
        except AttributeError:
            return objects, attr
    return objects, None


def common_problems(path: Path, tree: ast.AST) -> list[Problem]:
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "exec_":
            problems.append(Problem(path, node.lineno, "exec_() does not exist in PyQt6: use exec()"))
        if isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            if top in ("PyQt5", "PyQt6", "PySide2", "PySide6"):
                problems.append(Problem(path, node.lineno, f"import Qt through qgis.PyQt, not {node.module}"))
            if any(a.name.endswith("resources_rc") for a in node.names) or node.module.endswith("resources_rc"):
                problems.append(Problem(path, node.lineno, "compiled resources (resources_rc) are gone in Qt 6"))
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("PyQt5", "PyQt6") or alias.name.endswith("resources_rc"):
                    problems.append(Problem(path, node.lineno, f"import Qt through qgis.PyQt, not {alias.name}"))
    return problems


def qt_problems(path: Path, tree: ast.AST) -> list[Problem]:
    """Every Qt name and attribute chain must exist in PyQt6."""
    problems = []
    names = imported_names(tree, "qgis.PyQt")
    resolved: dict[str, object] = {}
    for local, (module, name, line) in names.items():
        qt_module = module.replace("qgis.PyQt", "PyQt6", 1)
        if module == "qgis.PyQt":  # from qgis.PyQt import QtCore
            qt_module, name = f"PyQt6.{name}", None
        try:
            mod = importlib.import_module(qt_module)
        except ImportError:
            problems.append(Problem(path, line, f"{qt_module} does not exist in PyQt6"))
            continue
        if name is None:
            resolved[local] = mod
        elif hasattr(mod, name):
            resolved[local] = getattr(mod, name)
        elif module.endswith("QtWidgets") and name in MOVED_TO_QTGUI:
            resolved[local] = getattr(importlib.import_module("PyQt6.QtGui"), name)
        else:
            problems.append(Problem(path, line, f"{name} does not exist in PyQt6's {qt_module.split('.')[-1]}"))
    for line, chain, _, missing in resolved_chains(tree, resolved):
        if missing:
            problems.append(Problem(path, line, f"{'.'.join(chain)}: no {missing!r} in PyQt6 "
                                                f"(an unscoped enum or a name Qt 6 removed)"))
    return problems


def _is_enum_value(value: object) -> bool:
    if isinstance(value, enum.Enum):
        return True
    kind = type(type(value))
    return kind.__name__ in ("enumtype", "EnumType") and kind.__module__ in ("sip", "PyQt5.sip", "PyQt6.sip")


def qgis_problems(path: Path, tree: ast.AST) -> list[Problem]:
    """QGIS enum values must be reached through their enum (scoped), as QGIS 4 requires."""
    problems = []
    names = imported_names(tree, "qgis.")
    roots = {}
    for local, (module, name, _) in names.items():
        if module in QGIS_MODULES:
            mod = importlib.import_module(module)
            if hasattr(mod, name):
                roots[local] = getattr(mod, name)
    for line, chain, objects, missing in resolved_chains(tree, roots):
        if missing:
            problems.append(Problem(path, line, f"{'.'.join(chain)}: no {missing!r} in QGIS"))
            continue
        for attr, parent, value in zip(chain[1:], objects, objects[1:], strict=False):
            if _is_enum_value(value) and parent is not type(value):
                scoped = f"{type(value).__qualname__}.{attr}"
                problems.append(Problem(path, line, f"{'.'.join(chain)}: unscoped enum, use {scoped}"))
                break
    return problems


def check(paths: list[Path], qt: bool, qgis: bool) -> list[Problem]:
    problems: list[Problem] = []
    files = sorted(f for p in paths for f in ([p] if p.is_file() else p.rglob("*.py")))
    for root in paths:
        for qrc in ([] if root.is_file() else root.rglob("*.qrc")):
            problems.append(Problem(qrc, 1, "compiled resources (.qrc) are gone in Qt 6: load files by path"))
    for file in files:
        tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
        problems += common_problems(file, tree)
        if qt:
            problems += qt_problems(file, tree)
        if qgis:
            problems += qgis_problems(file, tree)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--qt", action="store_true", help="resolve Qt names in PyQt6")
    parser.add_argument("--qgis", action="store_true", help="check QGIS enums are scoped, in the QGIS under test")
    args = parser.parse_args(argv)
    if not (args.qt or args.qgis):
        parser.error("give --qt, --qgis or both")
    problems = check(args.paths, args.qt, args.qgis)
    for problem in problems:
        print(problem)
    what = " and ".join(w for w, on in (("PyQt6 names", args.qt), ("scoped QGIS enums", args.qgis)) if on)
    files = sum(1 for p in args.paths for _ in ([p] if p.is_file() else p.rglob("*.py")))
    print(f"qt6 check ({what}): {len(problems)} problem(s) in {files} files")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
