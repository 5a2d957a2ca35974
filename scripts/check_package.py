"""Checks a release zip the way plugins.qgis.org would, plus MIST's own limits."""

from __future__ import annotations

import configparser
import sys
import zipfile
from pathlib import Path

REQUIRED = ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
            "repository", "tracker", "homepage", "hasProcessingProvider", "tags", "category", "icon")
MAX_BYTES = 25 * 1024 * 1024
FORBIDDEN_PARTS = ("__pycache__", ".pyc", ".git", ".venv", ".pytest_cache")


def check(zip_path: Path) -> list[str]:
    problems: list[str] = []
    size = zip_path.stat().st_size
    if size > MAX_BYTES:
        problems.append(f"zip is {size / 1e6:.1f} MB, over the 25 MB limit")
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        tops = {n.split("/", 1)[0] for n in names}
        if len(tops) != 1:
            problems.append(f"zip must hold one top-level folder, found {sorted(tops)}")
        top = next(iter(tops))
        for name in names:
            if any(part in name for part in FORBIDDEN_PARTS):
                problems.append(f"build artefact in package: {name}")
            if name.startswith("/") or ".." in Path(name).parts:
                problems.append(f"unsafe path in package: {name}")
        for needed in ("__init__.py", "metadata.txt", "LICENSE"):
            if f"{top}/{needed}" not in names:
                problems.append(f"missing {needed}")
        if not any(n.startswith(f"{top}/i18n/") and n.endswith(".qm") for n in names):
            problems.append("no compiled translation (.qm) in the package")
        meta = configparser.ConfigParser()
        meta.read_string(zf.read(f"{top}/metadata.txt").decode("utf-8"))
        general = meta["general"]
        for key in REQUIRED:
            if not general.get(key, "").strip():
                problems.append(f"metadata.txt lacks {key}")
        icon = general.get("icon", "")
        if icon and f"{top}/{icon}" not in names:
            problems.append(f"icon {icon} named in metadata.txt is not in the package")
    return problems


def main() -> int:
    zip_path = Path(sys.argv[1])
    problems = check(zip_path)
    for problem in problems:
        print(f"package: {problem}", file=sys.stderr)
    if not problems:
        print(f"package: {zip_path} ok ({zip_path.stat().st_size / 1e3:.0f} kB)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
