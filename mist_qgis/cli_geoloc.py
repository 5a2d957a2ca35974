"""Arguments of `geolocate`, `import-references` and `evaluate-geolocation`: mapped onto the
`mist:` geolocation algorithms; cli.py lists the verbs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .cli_store import STORE_HELP, STORE_METAVAR

MATCHERS = ["disk-lightglue", "aliked-lightglue", "loftr", "sift"]
FORMATS = ["auto", "csv", "success", "geojson", "photos"]


def _error(message: str) -> Exception:
    from .cli import CliError

    return CliError(message)


def _store(args: argparse.Namespace) -> str:
    from .cli_store import existing_store

    return existing_store(args.store)


def geolocate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP)
    parser.add_argument("--matcher", default="disk-lightglue", choices=MATCHERS, help="image matcher")
    parser.add_argument("--paper-faithful", action="store_true",
                        help="LSGL selection: match every candidate, choose by the paper's rate")
    parser.add_argument("--top-k", type=int, default=10, metavar="K", help="references matched per photo")
    parser.add_argument("--radius", type=float, default=0.0, metavar="M",
                        help="search radius in metres (default: each post's own uncertainty, else 500)")
    parser.add_argument("--min-confidence", type=float, default=0.5, metavar="P",
                        help="move a post only at this confidence or above (default 0.5)")
    parser.add_argument("--mask-model", metavar="DIR", help="local MaskFormer (ADE20k) folder for the LSGL mask")
    parser.add_argument("--loftr-weights", metavar="FILE", help="LoFTR outdoor weights (for --matcher loftr)")
    parser.add_argument("--gazetteer", metavar="LAYER", help="gazetteer layer file to place unlocated posts")
    parser.add_argument("--name-field", default="name", metavar="FIELD", help="gazetteer name field")
    parser.add_argument("--redo", action="store_true", help="redo posts already geolocated")


def geolocate_parameters(args: argparse.Namespace) -> dict[str, Any]:
    if args.top_k < 1:
        raise _error("--top-k must be at least 1")
    if args.radius < 0:
        raise _error("--radius must not be negative")
    if not 0.0 <= args.min_confidence <= 1.0:
        raise _error("--min-confidence must be between 0 and 1")
    for option, value in (("--mask-model", args.mask_model), ("--loftr-weights", args.loftr_weights),
                          ("--gazetteer", args.gazetteer)):
        if value and not Path(value).exists():
            raise _error(f"{option} {value} does not exist")
    params: dict[str, Any] = {
        "STORE": _store(args), "MATCHER": MATCHERS.index(args.matcher), "PAPER_FAITHFUL": args.paper_faithful,
        "TOP_K": args.top_k, "RADIUS": args.radius, "MIN_CONFIDENCE": args.min_confidence, "REDO": args.redo,
    }
    if args.mask_model:
        params["MASK_MODEL"] = args.mask_model
    if args.loftr_weights:
        params["LOFTR_WEIGHTS"] = args.loftr_weights
    if args.gazetteer:
        params["GAZETTEER"] = args.gazetteer
        params["NAME_FIELD"] = args.name_field
    return params


def import_references_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP)
    parser.add_argument("--input", required=True, metavar="PATH",
                        help="CSV, success.csv, GeoJSON(-seq) file, or a street-view / geotagged-photo folder")
    parser.add_argument("--format", default="auto", choices=FORMATS, help="collection format (default: detect)")
    parser.add_argument("--collection", metavar="NAME", help="collection name (default: file or folder name)")


def import_references_parameters(args: argparse.Namespace) -> dict[str, Any]:
    path = Path(args.input)
    if not path.exists():
        raise _error(f"--input {path} does not exist")
    params: dict[str, Any] = {"STORE": _store(args), "FORMAT": FORMATS.index(args.format),
                              "COLLECTION": args.collection or ""}
    params["FOLDER" if path.is_dir() else "INPUT"] = str(path)
    return params


def evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP)
    parser.add_argument("--truth", required=True, metavar="LAYER", help="point layer of true post locations")
    parser.add_argument("--id-field", default="post_id", metavar="FIELD", help="post id field of --truth")


def evaluate_parameters(args: argparse.Namespace) -> dict[str, Any]:
    if not Path(args.truth).exists():
        raise _error(f"--truth {args.truth} does not exist")
    return {"STORE": _store(args), "TRUTH": args.truth, "ID_FIELD": args.id_field}
