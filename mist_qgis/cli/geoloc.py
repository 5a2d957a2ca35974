"""The geolocation verbs: `import-references`, `geolocate`, `locate-retrieval`, `evaluate-geolocation`,
`refit-confidence`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core import options
from .common import CliError, Verb, add_store, choice, existing, existing_store, option, output


def geolocate_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    choice(parser, "--matcher", "MATCHER", options.MATCHERS, "image matcher")
    option(parser, "--paper-faithful", "PAPER_FAITHFUL", action="store_true",
           help="LSGL selection: match every candidate, choose by the paper's rate")
    option(parser, "--top-k", "TOP_K", type=int, default=10, metavar="K", help="references matched per photo")
    option(parser, "--radius", "RADIUS", type=float, default=0.0, metavar="M",
           help="search radius in metres (default: each post's own uncertainty, else 500)")
    option(parser, "--min-confidence", "MIN_CONFIDENCE", type=float, default=0.5, metavar="P",
           help="move a post only at this confidence or above (default 0.5)")
    parser.add_argument("--mask-model", metavar="DIR",
                        help="folder with an exported MaskFormer (ADE20k) or DETR panoptic model for the LSGL mask")
    parser.add_argument("--loftr-weights", metavar="FILE", help="LoFTR outdoor weights (for --matcher loftr)")
    parser.add_argument("--gazetteer", metavar="LAYER", help="gazetteer layer file to place unlocated posts")
    option(parser, "--name-field", "NAME_FIELD", default="name", metavar="FIELD", help="gazetteer name field")
    option(parser, "--redo", "REDO", action="store_true", help="redo posts already geolocated")
    option(parser, "--retrieval-model", "RETRIEVAL_MODEL", metavar="TAG",
           help="candidates from the retrieval index of this image embedding model: unlocated posts are placed "
                "too, and a place from the text is combined with the neighbours")
    option(parser, "--retrieval-k", "RETRIEVAL_K", type=int, default=10, metavar="K",
           help="retrieval neighbours (default 10)")
    choice(parser, "--first-pass", "FIRST_PASS", options.FIRST_PASS, "fast matcher that ranks the top k first")
    option(parser, "--first-pass-keep", "FIRST_PASS_KEEP", type=int, default=3, metavar="N",
           help="candidates the first pass hands to the matcher (default 3)")


def geolocate_parameters(args: argparse.Namespace) -> dict[str, Any]:
    if args.top_k < 1:
        raise CliError("--top-k must be at least 1")
    if args.radius < 0:
        raise CliError("--radius must not be negative")
    if not 0.0 <= args.min_confidence <= 1.0:
        raise CliError("--min-confidence must be between 0 and 1")
    if args.retrieval_k < 1:
        raise CliError("--retrieval-k must be at least 1")
    if args.first_pass_keep < 1:
        raise CliError("--first-pass-keep must be at least 1")
    params: dict[str, Any] = {
        "STORE": existing_store(args), "MATCHER": args.matcher, "PAPER_FAITHFUL": args.paper_faithful,
        "TOP_K": args.top_k, "RADIUS": args.radius, "MIN_CONFIDENCE": args.min_confidence, "REDO": args.redo,
        "FIRST_PASS": args.first_pass, "FIRST_PASS_KEEP": args.first_pass_keep,
    }
    if args.mask_model:
        params["MASK_MODEL"] = existing(args.mask_model, "--mask-model")
    if args.loftr_weights:
        params["LOFTR_WEIGHTS"] = existing(args.loftr_weights, "--loftr-weights")
    if args.gazetteer:
        params["GAZETTEER"] = existing(args.gazetteer, "--gazetteer")
        params["NAME_FIELD"] = args.name_field
    if args.retrieval_model:
        params.update({"RETRIEVAL_MODEL": args.retrieval_model, "RETRIEVAL_K": args.retrieval_k})
    return params


def locate_retrieval_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    option(parser, "--model", "MODEL", metavar="TAG", help="image embedding model tag (default: the store's only one)")
    option(parser, "--k", "K", type=int, default=10, metavar="K", help="neighbours per photo (default 10)")
    parser.add_argument("--rasters", metavar="DIR", help="write each photo's probability GeoTIFF into DIR")


def locate_retrieval_parameters(args: argparse.Namespace) -> dict[str, Any]:
    if args.k < 1:
        raise CliError("--k must be at least 1")
    params: dict[str, Any] = {"STORE": existing_store(args), "K": args.k}
    if args.model:
        params["MODEL"] = args.model
    if args.rasters:
        params["RASTERS"] = output(args.rasters)
    return params


def import_references_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    parser.add_argument("--input", required=True, metavar="PATH",
                        help="CSV, success.csv, GeoJSON(-seq) file, or a street-view / geotagged-photo folder")
    choice(parser, "--format", "FORMAT", options.REFERENCE_FORMATS, "collection format (auto: detect)")
    parser.add_argument("--collection", metavar="NAME", help="collection name (default: file or folder name)")


def import_references_parameters(args: argparse.Namespace) -> dict[str, Any]:
    path = existing(args.input, "--input")
    params: dict[str, Any] = {"STORE": existing_store(args), "FORMAT": args.format,
                              "COLLECTION": args.collection or ""}
    params["FOLDER" if Path(path).is_dir() else "INPUT"] = path
    return params


def evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    parser.add_argument("--truth", required=True, metavar="LAYER", help="point layer of true post locations")
    option(parser, "--id-field", "ID_FIELD", default="post_id", metavar="FIELD", help="post id field of --truth")


def evaluate_parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {"STORE": existing_store(args), "TRUTH": existing(args.truth, "--truth"), "ID_FIELD": args.id_field}


def refit_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    choice(parser, "--matcher", "MATCHER", options.MATCHERS, "matcher whose confidence is refitted")


def refit_parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {"STORE": existing_store(args), "MATCHER": args.matcher}


IMPORT_REFERENCES = Verb(
    "import-references", "import reference imagery (CSV, MIST-SMMD street view, GeoJSON, geotagged photos)",
    "mist:importreferences", import_references_arguments, import_references_parameters)
GEOLOCATE = Verb("geolocate", "move posts to where their photos were taken by matching reference imagery",
                 "mist:geolocatephotos", geolocate_arguments, geolocate_parameters)
LOCATE_RETRIEVAL = Verb(
    "locate-retrieval", "place unlocated photos from their nearest geotagged neighbours (probability rasters)",
    "mist:retrievalgeolocation", locate_retrieval_arguments, locate_retrieval_parameters)
EVALUATE_GEOLOCATION = Verb("evaluate-geolocation", "geolocation error in metres against true locations",
                            "mist:evaluategeolocation", evaluate_arguments, evaluate_parameters)
REFIT_CONFIDENCE = Verb("refit-confidence", "refit the geolocation confidence from analysts' placement verdicts",
                        "mist:refitgeolocconfidence", refit_arguments, refit_parameters)
