"""`python -m mist_qgis <verb> ...`: the headless CLI.

Each verb maps its arguments onto one `mist:` Processing algorithm and prints the algorithm's
results as one JSON object on stdout. A user mistake is one line on stderr and exit status 2;
nothing here prints a traceback unless --debug is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import cli_geoloc, cli_media, cli_models, cli_posts, cli_rasters, cli_text, cli_verify

EXIT_USAGE = 2
EXIT_FAILED = 1


class CliError(Exception):
    """A mistake the user can fix; printed as one line."""


@dataclass(frozen=True)
class Verb:
    name: str
    help: str
    algorithm: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    parameters: Callable[[argparse.Namespace], dict[str, Any]]


def _store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar="STORE.gpkg", help="the MIST store")


def _existing_store(args: argparse.Namespace) -> str:
    path = Path(args.store)
    if not path.is_file():
        raise CliError(f"store {path} does not exist (create it with: python -m mist_qgis init --store {path})")
    return str(path)


def _export_verified_arguments(parser: argparse.ArgumentParser) -> None:
    _store_argument(parser)
    parser.add_argument("--out", required=True, metavar="FILE", help="points file (.gpkg, .geojson or .csv)")
    parser.add_argument("--format", choices=["gpkg", "geojson", "csv"], help="default: from the file extension")
    parser.add_argument("--verdicts", default="flood", metavar="V[,V]",
                        help="verdicts to export: flood, not_flood, unsure (default: flood)")
    parser.add_argument("--include-text", action="store_true", help="also export the post text")
    parser.add_argument("--training-set", metavar="DIR", help="also copy the verified photos by label into DIR")
    parser.add_argument("--include-unsure", action="store_true", help="training set: add unsure photos")
    parser.add_argument("--keep-conflicts", action="store_true",
                        help="training set: keep photos analysts disagree on")


def _export_verified_parameters(args: argparse.Namespace) -> dict[str, Any]:
    choices = ["flood", "not_flood", "unsure"]
    verdicts = [v.strip() for v in args.verdicts.split(",") if v.strip()]
    unknown = [v for v in verdicts if v not in choices]
    if unknown or not verdicts:
        raise CliError(f"--verdicts takes flood, not_flood, unsure; not {', '.join(unknown) or 'nothing'}")
    return {
        "STORE": _existing_store(args), "OUTPUT": str(Path(args.out).resolve()),
        "FORMAT": ["auto", "gpkg", "geojson", "csv"].index(args.format or "auto"),
        "VERDICTS": [choices.index(v) for v in verdicts], "INCLUDE_TEXT": args.include_text,
        "TRAINING_SET": str(Path(args.training_set).resolve()) if args.training_set else "",
        "INCLUDE_UNSURE": args.include_unsure, "KEEP_CONFLICTS": args.keep_conflicts,
    }


VERBS: list[Verb] = [  # in the order of the workflow, as --help lists them
    Verb(
        "init", "create a store, or upgrade an existing one", "mist:createstore",
        _store_argument, lambda a: {"STORE": a.store},
    ),
    Verb(
        "info", "print what a store holds", "mist:storeinfo",
        _store_argument, lambda a: {"STORE": _existing_store(a)},
    ),
    Verb("import", "import post collections (tweets, Weibo, CrisisMMD, CSV, GeoJSON, photo folders) as points",
         "mist:importposts", cli_posts.import_arguments, cli_posts.import_parameters),
    Verb("fetch-media", "fetch, cache and vet every pending photo and video (online or --offline)",
         "mist:fetchmedia", cli_media.fetch_media_arguments, cli_media.fetch_media_parameters),
    Verb("models", "list the registered models and execution providers", "mist:listmodels",
         cli_models.models_arguments, cli_models.models_parameters),
    Verb("predict", "top-k labels and scores of a model for image files", "mist:predictimages",
         cli_models.predict_arguments, cli_models.predict_parameters),
    Verb("classify", "classify every fetched photo of a store with a model (resumable)", "mist:classifymedia",
         cli_models.classify_arguments, cli_models.classify_parameters),
    Verb("import-verifications", "add analysts' verdicts from a CSV table (post_id, verdict, water_depth_m, ...)",
         "mist:importverifications", cli_verify.import_verifications_arguments,
         cli_verify.import_verifications_parameters),
    Verb("train-head", "train a screening head from the analysts' verified photos", "mist:trainhead",
         cli_models.train_head_arguments, cli_models.train_head_parameters),
    Verb("next-to-verify", "photos to verify next: least certain for a head, plus a random sample",
         "mist:nexttoverify", cli_models.next_arguments, cli_models.next_parameters),
    Verb("screen-text", "categorise every post by its text, photo or not (keyword rules or text heads)",
         "mist:screentext", cli_text.screen_text_arguments, cli_text.screen_text_parameters),
    Verb("train-text-head", "train one text head per category from the analysts' post categories",
         "mist:traintexthead", cli_text.train_text_head_arguments, cli_text.train_text_head_parameters),
    Verb("next-posts", "posts to categorise next: least certain for a text head, plus a random sample",
         "mist:nextpoststolabel", cli_text.next_posts_arguments, cli_text.next_posts_parameters),
    Verb("text-categories", "list the post categories and keyword rules, or replace them from a CSV table",
         "mist:textcategories", cli_text.categories_arguments, cli_text.categories_parameters),
    Verb("import-references", "import reference imagery (CSV, MIST-SMMD street view, GeoJSON, geotagged photos)",
         "mist:importreferences", cli_geoloc.import_references_arguments, cli_geoloc.import_references_parameters),
    Verb("geolocate", "move posts to where their photos were taken by matching reference imagery",
         "mist:geolocatephotos", cli_geoloc.geolocate_arguments, cli_geoloc.geolocate_parameters),
    Verb("evaluate-geolocation", "geolocation error in metres against true locations", "mist:evaluategeolocation",
         cli_geoloc.evaluate_arguments, cli_geoloc.evaluate_parameters),
    Verb(
        "export-verified", "export verified flood points (and optionally a training-set folder)",
        "mist:exportverified", _export_verified_arguments, _export_verified_parameters,
    ),
    Verb("density", "kernel density of posts (optionally per hour or day)", "mist:postdensity",
         cli_rasters.density_arguments, cli_rasters.density_parameters),
    Verb("inundation", "flood depth raster and extent from verified depths and a DEM", "mist:inundation",
         cli_rasters.inundation_arguments, cli_rasters.inundation_parameters),
    Verb("selo", "semantic localization map of an image for a text, exemplar or patch-head query", "mist:selo",
         cli_rasters.selo_arguments, cli_rasters.selo_parameters),
    Verb("evaluate-selo", "SLM metrics (Rsu, Ras, Rda, Rmi) of probability maps", "mist:evaluateselo",
         cli_rasters.evaluate_selo_arguments, cli_rasters.evaluate_selo_parameters),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mist_qgis",
        description="MIST: flood evidence from social-media posts, headless.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and Processing log")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb in VERBS:
        p = sub.add_parser(verb.name, help=verb.help, description=verb.help)
        verb.add_arguments(p)
        p.set_defaults(_verb=verb)
    return parser


def run_verb(verb: Verb, args: argparse.Namespace) -> dict[str, Any]:
    from .headless import AlgorithmError, run_algorithm

    parameters = verb.parameters(args)
    echo = (lambda info: print(info, file=sys.stderr)) if args.debug else None
    try:
        results, _warnings = run_algorithm(verb.algorithm, parameters, on_info=echo)
    except AlgorithmError as exc:
        raise CliError(str(exc).splitlines()[-1]) from exc
    return {key.lower(): value for key, value in results.items()}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    verb = getattr(args, "_verb", None)
    if verb is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        result = run_verb(verb, args)
    except CliError as exc:
        print(f"mist: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a failure that is not the user's: one line, or a traceback on --debug
        if args.debug:
            raise
        print(f"mist: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        json.dump(result, sys.stdout, default=str)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
