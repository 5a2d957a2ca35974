"""Arguments of `field-package` and `import-field`: mapped onto `mist:fieldpackage` and
`mist:importfield`; VERBS lists them."""

from __future__ import annotations

import argparse
from datetime import UTC
from pathlib import Path
from typing import Any

from .cli_geoloc import _error, _store
from .core.field import layout


def field_package_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar="STORE.gpkg", help="the MIST store")
    parser.add_argument("--out", required=True, metavar="DIR_OR_ZIP", help="package folder, or a .zip file")
    parser.add_argument("--extent", metavar="XMIN,YMIN,XMAX,YMAX", help="area of interest in longitude/latitude")
    parser.add_argument("--since", metavar="T", help="posts from this time (ISO 8601, UTC unless an offset is given)")
    parser.add_argument("--until", metavar="T", help="posts until this time")
    parser.add_argument("--max-mb", type=float, default=layout.DEFAULT_MAX_MB, metavar="N",
                        help=f"size limit of the package in MB (default {layout.DEFAULT_MAX_MB:g})")


def field_package_parameters(args: argparse.Namespace) -> dict[str, Any]:
    from .core.field.package import FieldPackageError, parse_extent_option, parse_time_option

    try:
        extent = parse_extent_option(args.extent)
        since = parse_time_option(args.since, "--since")
        until = parse_time_option(args.until, "--until")
    except FieldPackageError as exc:
        raise _error(str(exc)) from None
    parameters: dict[str, Any] = {"STORE": _store(args), "OUTPUT": str(Path(args.out).resolve()), "MAX_MB": args.max_mb}
    if extent:
        parameters["EXTENT"] = f"{extent[0]},{extent[2]},{extent[1]},{extent[3]} [EPSG:4326]"
    for key, when in (("SINCE", since), ("UNTIL", until)):
        if when:
            parameters[key] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return parameters


def import_field_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar="STORE.gpkg", help="the MIST store")
    parser.add_argument("--analyst", help=f"observer name when the form has none (default {layout.DEFAULT_ANALYST!r})")
    parser.add_argument("input", metavar="PACKAGE_OR_FOLDER", help="a returned package (.zip or folder) or photos")


def import_field_parameters(args: argparse.Namespace) -> dict[str, Any]:
    source = Path(args.input)
    if not source.exists():
        raise _error(f"{source} does not exist")
    return {"STORE": _store(args), "FOLDER" if source.is_dir() else "INPUT": str(source.resolve()),
            "ANALYST": args.analyst or ""}
