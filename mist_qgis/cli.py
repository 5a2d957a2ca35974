"""`python -m mist_qgis <verb> ...`: the headless CLI.

Each verb maps its arguments onto one `mist:` Processing algorithm and prints the algorithm's
results as one JSON object on stdout. A user mistake is one line on stderr and exit status 2;
nothing here prints a traceback unless --debug is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


VERBS: list[Verb] = [
    Verb(
        "init", "create a store, or upgrade an existing one", "mist:createstore",
        _store_argument, lambda a: {"STORE": a.store},
    ),
    Verb(
        "info", "print what a store holds", "mist:storeinfo",
        _store_argument, lambda a: {"STORE": _existing_store(a)},
    ),
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


def _decode(results: dict[str, Any]) -> dict[str, Any]:
    """Algorithms return JSON strings for structured outputs; print them as structure."""
    out: dict[str, Any] = {}
    for key, value in results.items():
        if isinstance(value, str) and value[:1] in "{[":
            try:
                value = json.loads(value)
            except ValueError:
                pass
        out[key.lower()] = value
    return out


def run_verb(verb: Verb, args: argparse.Namespace) -> dict[str, Any]:
    from .headless import init_processing

    parameters = verb.parameters(args)
    init_processing()
    import processing
    from qgis.core import QgsProcessingFeedback

    class StderrFeedback(QgsProcessingFeedback):
        def __init__(self) -> None:
            super().__init__()
            self.errors: list[str] = []

        def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
            self.errors.append(error)

        def pushInfo(self, info: str) -> None:  # noqa: N802
            if args.debug:
                print(info, file=sys.stderr)

    feedback = StderrFeedback()
    from qgis.core import QgsProcessingException

    try:
        results = processing.run(verb.algorithm, parameters, feedback=feedback)
    except QgsProcessingException as exc:
        detail = feedback.errors[-1] if feedback.errors else str(exc)
        raise CliError(detail.strip().splitlines()[-1]) from exc
    return _decode(results)


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
    json.dump(result, sys.stdout, default=str)
    sys.stdout.write("\n")
    return 0
