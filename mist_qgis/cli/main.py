"""`python -m mist_qgis <verb> ...`: the headless CLI.

Each verb maps its arguments onto one `mist:` Processing algorithm and prints the algorithm's
results as one JSON object on stdout. Exit status: 0 done; 2 a mistake the user can fix (bad
arguments, a missing file, anything raised as `MistError`), one line `mist: error: ...` on stderr;
1 an internal failure, one line `mist: internal error: ...` with the traceback on --debug or in a
log file the line names.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from typing import Any

from ..core.errors import MistError
from . import field, geoloc, live, media, models, posts, rasters, store, team, text, verify
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Verb

VERBS: list[Verb] = [  # in the order of the workflow, as --help lists them
    store.INIT, store.INFO, team.PUSH, team.CHECKOUT, posts.IMPORT, media.FETCH_MEDIA, models.MODELS, models.PREDICT,
    models.CLASSIFY,
    verify.IMPORT_VERIFICATIONS, models.TRAIN_HEAD, models.NEXT_TO_VERIFY, text.SCREEN_TEXT, text.TRAIN_TEXT_HEAD,
    text.NEXT_POSTS, text.TEXT_CATEGORIES, geoloc.IMPORT_REFERENCES,
    geoloc.GEOLOCATE, geoloc.LOCATE_RETRIEVAL, geoloc.EVALUATE_GEOLOCATION, geoloc.REFIT_CONFIDENCE,
    verify.EXPORT_VERIFIED,
    rasters.DENSITY, rasters.INUNDATION, rasters.SELO, rasters.EVALUATE_SELO, live.WATCH,
    field.FIELD_PACKAGE, field.IMPORT_FIELD,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mist_qgis",
        description="MIST: flood evidence from social-media posts, headless.",
        epilog="exit status: 0 done, 2 a mistake in the command or its inputs, 1 an internal failure",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and Processing log")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb in VERBS:
        p = sub.add_parser(verb.name, help=verb.help, description=verb.help)
        verb.add_arguments(p)
        p.set_defaults(_verb=verb)
    return parser


def run_verb(verb: Verb, args: argparse.Namespace) -> dict[str, Any]:
    from ..headless import run_algorithm

    parameters = verb.parameters(args)
    echo = (lambda info: print(info, file=sys.stderr)) if args.debug else None
    results, _warnings = run_algorithm(verb.algorithm, parameters, on_info=echo,
                                       stop_on_signals=verb.runs_until_stopped)
    return {key.lower(): value for key, value in results.items()}


def _internal_error(exc: BaseException, debug: bool) -> None:
    """One line on stderr; the traceback on stderr with --debug, else in a log file named there."""
    text = "".join(traceback.format_exception(exc))
    detail = getattr(exc, "detail", "")
    if detail:
        text += "\n" + detail
    line = (str(exc).strip().splitlines() or [""])[-1] or type(exc).__name__
    if debug:
        print(text, file=sys.stderr)
        print(f"mist: internal error: {line}", file=sys.stderr)
        return
    fd, path = tempfile.mkstemp(prefix="mist-internal-error-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"mist: internal error: {line} (traceback in {path}; --debug shows it)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # a usage mistake exits 2 here, argparse's own way
    verb = getattr(args, "_verb", None)
    if verb is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        result = run_verb(verb, args)
    except MistError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"mist: error: {(str(exc).strip().splitlines() or [type(exc).__name__])[-1]}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # not the user's: a bug or a failure of this machine
        _internal_error(exc, args.debug)
        return EXIT_FAILED
    try:
        json.dump(result, sys.stdout, default=str)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK
