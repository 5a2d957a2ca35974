"""The field loop's verbs: `field-package` (out to QField / Mergin Maps) and `import-field` (back in)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core.field import layout
from ..core.geodesy import extent_text
from .common import Verb, add_selection, add_store, existing, existing_store, option, output, selection


def field_package_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    parser.add_argument("--out", required=True, metavar="DIR_OR_ZIP", help="package folder, or a .zip file")
    add_selection(parser)
    option(parser, "--max-mb", "MAX_MB", type=float, default=layout.DEFAULT_MAX_MB, metavar="N",
           help=f"size limit of the package in MB (default {layout.DEFAULT_MAX_MB:g})")


def field_package_parameters(args: argparse.Namespace) -> dict[str, Any]:
    chosen = selection(args)
    parameters: dict[str, Any] = {"STORE": existing_store(args), "OUTPUT": output(args.out), "MAX_MB": args.max_mb}
    if chosen.extent:
        parameters["EXTENT"] = extent_text(*chosen.extent)
    for key, when in (("SINCE", chosen.since), ("UNTIL", chosen.until)):
        if when:
            parameters[key] = when  # UTC with milliseconds and Z, which QGIS reads as a date-time
    return parameters


def import_field_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    option(parser, "--analyst", "ANALYST", default=layout.DEFAULT_ANALYST,
           help=f"observer name when the form has none (default {layout.DEFAULT_ANALYST!r})")
    parser.add_argument("input", metavar="PACKAGE_OR_FOLDER", help="a returned package (.zip or folder) or photos")


def import_field_parameters(args: argparse.Namespace) -> dict[str, Any]:
    source = existing(args.input, "returned package or photo folder")
    return {"STORE": existing_store(args), "FOLDER" if Path(source).is_dir() else "INPUT": source,
            "ANALYST": args.analyst or ""}


FIELD_PACKAGE = Verb("field-package",
                     "a folder or zip for QField / Mergin Maps: verified evidence, photos, a field form",
                     "mist:fieldpackage", field_package_arguments, field_package_parameters)
IMPORT_FIELD = Verb("import-field",
                    "import a returned field package or phone photos as verified posts and references",
                    "mist:importfield", import_field_arguments, import_field_parameters)
