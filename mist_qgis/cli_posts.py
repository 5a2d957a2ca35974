"""Arguments of `import`: mapped onto `mist:importposts`; cli.py lists the verb."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .cli_store import STORE_HELP, STORE_METAVAR, store_target
from .core.posts.detect import FORMAT_CHOICES


def _error(message: str) -> Exception:
    from .cli import CliError

    return CliError(message)


def import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="FILE",
                        help="post collection files, or folders of geotagged photos")
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP + " (created if missing)")
    parser.add_argument("--format", choices=FORMAT_CHOICES, default="auto",
                        help="input format (default: detected from each file's content)")
    parser.add_argument("--media-root", metavar="DIR",
                        help="folder that photo paths in the export are relative to (default: the file's folder)")
    parser.add_argument("--keep-authors", action="store_true",
                        help="store author names as given instead of per-store pseudonyms")
    parser.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                        help="column for a post field in CSV/TSV/GeoJSON, e.g. --map lat=Y_WGS84 (repeatable)")


def import_parameters(args: argparse.Namespace) -> dict[str, Any]:
    from .core.posts.columns import parse_overrides

    inputs = [Path(p) for p in args.inputs]
    missing = [str(p) for p in inputs if not p.exists()]
    if missing:
        raise _error(f"input {missing[0]} does not exist")
    if args.media_root and not Path(args.media_root).is_dir():
        raise _error(f"media root {args.media_root} is not a folder")
    try:
        mapping = parse_overrides(args.map)
    except ValueError as exc:
        raise _error(str(exc)) from None
    files = [str(p.resolve()) for p in inputs if not p.is_dir()]
    folders = [str(p.resolve()) for p in inputs if p.is_dir()]
    if len(folders) > 1:
        raise _error("import one photo folder at a time (or list the photos as files)")
    return {
        "INPUTS": files, "FOLDER": folders[0] if folders else "", "STORE": store_target(args.store),
        "FORMAT": FORMAT_CHOICES.index(args.format), "MEDIA_ROOT": str(Path(args.media_root).resolve())
        if args.media_root else "", "KEEP_AUTHORS": args.keep_authors,
        "MAPPING": ";".join(f"{k}={v}" for k, v in mapping.items()),
    }
