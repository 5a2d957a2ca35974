"""The `import` verb: post collections into a store (`mist:importposts`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core import options
from .common import STORE_HELP, CliError, Verb, add_store, choice, option, store_path


def import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="FILE",
                        help="post collection files, or folders of geotagged photos")
    add_store(parser, STORE_HELP + " (created if missing)")
    choice(parser, "--format", "FORMAT", options.POST_FORMATS, "input format (auto: detected from each file)")
    parser.add_argument("--media-root", metavar="DIR",
                        help="folder that photo paths in the export are relative to (default: the file's folder)")
    option(parser, "--keep-authors", "KEEP_AUTHORS", action="store_true",
           help="store author names as given instead of per-store pseudonyms")
    parser.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                        help="column for a post field in CSV/TSV/GeoJSON, e.g. --map lat=Y_WGS84 (repeatable)")
    option(parser, "--crs", "CRS", metavar="CRS",
           help="CRS of projected x/y columns, e.g. EPSG:3857 or EPSG:32650; they are transformed to WGS 84 "
                "(default: longitude/latitude in WGS 84)")
    option(parser, "--naive-tz", "NAIVE_TZ", metavar="ZONE",
           help="time zone of times without one, e.g. Asia/Shanghai (default: UTC; Weibo exports: China time)")


def import_parameters(args: argparse.Namespace) -> dict[str, Any]:
    from ..core.posts.columns import Reading, parse_overrides

    inputs = [Path(p) for p in args.inputs]
    missing = [str(p) for p in inputs if not p.exists()]
    if missing:
        raise CliError(f"input {missing[0]} does not exist")
    if args.media_root and not Path(args.media_root).is_dir():
        raise CliError(f"media root {args.media_root} is not a folder")
    try:
        mapping = parse_overrides(args.map)
        reading = Reading(args.crs, args.naive_tz)  # a typo is one line before anything starts
    except ValueError as exc:
        raise CliError(str(exc)) from None
    files = [str(p.resolve()) for p in inputs if not p.is_dir()]
    folders = [str(p.resolve()) for p in inputs if p.is_dir()]
    if len(folders) > 1:
        raise CliError("import one photo folder at a time (or list the photos as files)")
    return {
        "INPUTS": files, "FOLDER": folders[0] if folders else "", "STORE": store_path(args),
        "FORMAT": args.format, "MEDIA_ROOT": str(Path(args.media_root).resolve()) if args.media_root else "",
        "KEEP_AUTHORS": args.keep_authors, "MAPPING": ";".join(f"{k}={v}" for k, v in mapping.items()),
        "CRS": _crs_for_qgis(reading.crs) if reading.crs else None,
        "NAIVE_TZ": reading.naive_tz or "",
    }


def _crs_for_qgis(text: str) -> str:
    """`EPSG:n` where the CRS has one (`32650` alone is not a CRS to QGIS), else the user's text."""
    from ..core.posts.crs import source_crs

    epsg = source_crs(text).epsg
    return f"EPSG:{epsg}" if epsg else text


IMPORT = Verb("import", "import post collections (tweets, Weibo, CrisisMMD, CSV, GeoJSON, photo folders) as points",
              "mist:importposts", import_arguments, import_parameters)
