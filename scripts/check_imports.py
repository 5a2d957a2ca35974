"""The architecture check: MIST's import graph, relative imports resolved, against its layering.

    .venv/bin/python scripts/check_imports.py [PACKAGE_DIR]     (run by `make lint`)

Every `import` and `from ... import` in the package is read with `ast`, wherever it stands (module
level or inside a function: a lazy import is still a dependency), except under
`if TYPE_CHECKING:`. Relative imports are resolved against the importing module, and
`from . import x` counts as an import of the submodule `x` when there is one. The rules:

- no import cycle between the package's modules;
- `core` (the science and the data) imports no QGIS (`qgis`, `PyQt5`) and none of the layers
  above it: `gui`, `processing_provider`, `cli`, `qgis_ops`, `demo`, `plugin`, `headless`.

Exit status 1 with one line per violation, 0 when the graph is clean.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ABOVE_CORE = ("gui", "processing_provider", "cli", "qgis_ops", "demo", "plugin", "headless", "tasks")
QGIS = ("qgis", "PyQt5", "PyQt6", "sip")


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, dotted
    target: str  # imported module, dotted (inside the package: resolved to a module that exists)
    path: Path
    line: int


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under the package folder `root`."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


@dataclass(frozen=True)
class Import:
    """One imported name as written: `import module` (names empty) or `from .module import names`."""

    module: str
    level: int
    names: tuple[str, ...]
    line: int


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def parse(source: str, filename: str = "<module>") -> list[Import]:
    """Every import statement of a module's source, wherever it stands, except under
    `if TYPE_CHECKING:`."""
    tree = ast.parse(source, filename)
    skip = _type_checking_lines(tree)
    found = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [Import(alias.name, 0, (), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append(Import(node.module or "", node.level, tuple(a.name for a in node.names), node.lineno))
    return found


def resolve(module: str, path: Path, parsed: list[Import], known: dict[str, Path]) -> Iterator[Edge]:
    """The modules `module` imports, with relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for imp in parsed:
        if not imp.names:
            yield Edge(module, imp.module, path, imp.line)
            continue
        if imp.level:
            base = package.split(".")
            base = base[: len(base) - (imp.level - 1)] if imp.level > 1 else base
            target = ".".join(base + ([imp.module] if imp.module else []))
        else:
            target = imp.module
        for name in imp.names:
            sub = f"{target}.{name}"
            yield Edge(module, sub if sub in known else target, path, imp.line)


class Package:
    """A package folder whose files are parsed once, to check it again and again with a file's
    source replaced (how the architecture tests plant one bad import at a time)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.known = modules(root)
        self.parsed = {name: parse(path.read_text(encoding="utf-8"), str(path)) for name, path in self.known.items()}
        self.names = {path.relative_to(root).as_posix(): name for name, path in self.known.items()}

    def check(self, replaced: dict[str, str] | None = None) -> list[str]:
        """One line per violation, with the files in `replaced` (path relative to the package
        folder -> source) read as given there instead of from disk."""
        parsed = dict(self.parsed)
        for relative, source in (replaced or {}).items():
            parsed[self.names[relative]] = parse(source, str(self.root / relative))  # KeyError: no such file
        edges = [edge for name, path in self.known.items() for edge in resolve(name, path, parsed[name], self.known)]
        return problems(self.root.name, self.known, edges)


def cycles(known: dict[str, Path], edges: list[Edge]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    succ: dict[str, set[str]] = {m: set() for m in known}
    for e in edges:
        if e.target in known and e.target != e.source:
            succ[e.source].add(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(succ):
        if v not in index:
            visit(v)
    return sorted(found)


def layer_violations(package: str, edges: list[Edge]) -> list[Edge]:
    """Imports from `core` of QGIS or of a layer above core."""
    core = f"{package}.core"
    forbidden = tuple(f"{package}.{layer}" for layer in ABOVE_CORE)
    bad = []
    for e in edges:
        if not (e.source == core or e.source.startswith(core + ".")):
            continue
        top = e.target.split(".")[0]
        if top in QGIS or any(e.target == f or e.target.startswith(f + ".") for f in forbidden):
            bad.append(e)
    return bad


def problems(package: str, known: dict[str, Path], edges: list[Edge]) -> list[str]:
    """One line per violation of the rules in the import graph of `package`."""
    found = [f"{e.path}:{e.line}: core imports {e.target}" for e in layer_violations(package, edges)]
    found += [f"import cycle: {' <-> '.join(group)}" for group in cycles(known, edges)]
    return found


def check(root: Path) -> list[str]:
    """One line per violation in the package folder `root`."""
    return Package(root).check()


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    root = Path(args[0]) if args else Path(__file__).resolve().parents[1] / "mist_qgis"
    problems = check(root.resolve())
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
