"""The verification verbs: `import-verifications` and `export-verified`."""

from __future__ import annotations

import argparse
from typing import Any

from ..core import options
from .common import CliError, Verb, add_store, choice, existing_file, existing_store, option, output


def import_verifications_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    parser.add_argument("--analyst", help="analyst for rows whose analyst column is empty")
    parser.add_argument("--platform", help="platform of the post ids, when ids repeat across platforms")
    parser.add_argument("table", metavar="VERDICTS.csv",
                        help="post_id, verdict, water_depth_m, analyst, note (optional: platform)")


def import_verifications_parameters(args: argparse.Namespace) -> dict[str, Any]:
    store = existing_store(args)
    return {"STORE": store, "INPUT": existing_file(args.table, "verdicts table"), "ANALYST": args.analyst or "",
            "PLATFORM": args.platform or ""}


def export_verified_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    parser.add_argument("--out", required=True, metavar="FILE", help="points file (.gpkg, .geojson or .csv)")
    choice(parser, "--format", "FORMAT", options.EXPORT_FORMATS, "auto: from the file extension")
    option(parser, "--verdicts", "VERDICTS", default=options.VERDICTS.default, metavar="V[,V]",
           help=f"verdicts to export: {', '.join(options.VERDICTS)} (default: {options.VERDICTS.default})")
    option(parser, "--include-text", "INCLUDE_TEXT", action="store_true", help="also export the post text")
    parser.add_argument("--training-set", metavar="DIR", help="also copy the verified photos by label into DIR")
    option(parser, "--include-unsure", "INCLUDE_UNSURE", action="store_true",
           help="training set: add unsure photos")
    option(parser, "--keep-conflicts", "KEEP_CONFLICTS", action="store_true",
           help="training set: keep photos analysts disagree on")


def export_verified_parameters(args: argparse.Namespace) -> dict[str, Any]:
    verdicts = [v.strip() for v in args.verdicts.split(",") if v.strip()]
    unknown = [v for v in verdicts if v not in options.VERDICTS]
    if unknown or not verdicts:
        raise CliError(f"--verdicts takes {', '.join(options.VERDICTS)}; not {', '.join(unknown) or 'nothing'}")
    return {
        "STORE": existing_store(args), "OUTPUT": output(args.out), "FORMAT": args.format, "VERDICTS": verdicts,
        "INCLUDE_TEXT": args.include_text, "TRAINING_SET": output(args.training_set) if args.training_set else "",
        "INCLUDE_UNSURE": args.include_unsure, "KEEP_CONFLICTS": args.keep_conflicts,
    }


IMPORT_VERIFICATIONS = Verb(
    "import-verifications", "add analysts' verdicts from a CSV table (post_id, verdict, water_depth_m, ...)",
    "mist:importverifications", import_verifications_arguments, import_verifications_parameters)
EXPORT_VERIFIED = Verb(
    "export-verified", "export verified flood points (and optionally a training-set folder)", "mist:exportverified",
    export_verified_arguments, export_verified_parameters)
