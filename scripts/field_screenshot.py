"""Pictures of the demo's field package for the README (`make screenshots` runs it after the
desktop shots; run `make demo` first):

    field_package.png   the package's project (mist_field.qgz) drawn by QGIS, as a phone opens it
    field_form.png      the field layer's attribute form for a new observation

    .venv/bin/python scripts/field_screenshot.py [--package build/demo/field_package] [--out docs/img]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, default=REPO / "build" / "demo" / "field_package")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args = parser.parse_args(argv)
    project = args.package / "mist_field.qgz"
    if not project.is_file():
        print(f"no field package at {args.package} (run make demo first)", file=sys.stderr)
        return 2
    from mist_qgis.headless import start_qgis

    start_qgis(gui=True)
    from mist_qgis.qgis_ops.field_project import render_field_form, render_project

    args.out.mkdir(parents=True, exist_ok=True)
    for path in (render_project(project, args.out / "field_package.png"),
                 render_field_form(project, args.out / "field_form.png")):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
