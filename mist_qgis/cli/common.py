"""What every verb shares: the Verb record, the error a user can fix, the shared arguments
(`--store` is defined here once) and the checks on paths.

An argument that maps straight onto a parameter of the verb's algorithm is declared with
`option()` or `choice()`, which record the parameter's name on the argparse action; a test walks
every verb and checks those options against the algorithm (name, choices, default).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import MistError
from ..core.options import Choices

EXIT_OK = 0
EXIT_FAILED = 1  # an internal failure: a bug, or something this process could not do
EXIT_USAGE = 2  # a mistake the user can fix (argparse uses 2 as well)


class CliError(MistError):
    """A mistake the user can fix; printed as one line."""


@dataclass(frozen=True)
class Verb:
    name: str
    help: str
    algorithm: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    parameters: Callable[[argparse.Namespace], dict[str, Any]]
    runs_until_stopped: bool = False  # SIGINT/SIGTERM stop it cleanly after the batch in hand


def option(parser: argparse.ArgumentParser, flag: str | tuple[str, ...], parameter: str,
           **kwargs: Any) -> argparse.Action:
    """An argument that is the algorithm's `parameter` (same meaning, same default)."""
    action = parser.add_argument(*((flag,) if isinstance(flag, str) else flag), **kwargs)
    action.parameter = parameter  # type: ignore[attr-defined]
    return action


def choice(parser: argparse.ArgumentParser, flag: str, parameter: str, choices: Choices,
           help: str | None = None) -> argparse.Action:  # noqa: A002
    """An argument over one of core's option lists, passed to the algorithm by name."""
    text = f"{help} " if help else ""
    return option(parser, flag, parameter, choices=list(choices.names), default=choices.default,
                  help=f"{text}(default {choices.default})")


STORE_METAVAR = "STORE"
STORE_HELP = "the MIST store: a .gpkg file, or a team store (postgresql://..., service=NAME or qgis:CONNECTION)"


def add_store(parser: argparse.ArgumentParser, help: str = STORE_HELP) -> None:  # noqa: A002
    """The `--store` argument (every verb that reads or writes a store): a GeoPackage path or a
    team store (`postgresql://...`, `service=NAME`, or `qgis:NAME` for a connection saved in QGIS)."""
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=help)


def add_selection(parser: argparse.ArgumentParser) -> None:
    """`--extent`, `--since` and `--until`: which posts a verb takes out of a store (read by
    `selection`, so every verb reads them alike)."""
    parser.add_argument("--extent", metavar="XMIN,YMIN,XMAX,YMAX", help="only posts in this box (longitude/latitude)")
    parser.add_argument("--since", metavar="T", help="only posts from this time on (ISO 8601, UTC unless an offset "
                                                      "is given)")
    parser.add_argument("--until", metavar="T", help="only posts before this time")


def selection(args: argparse.Namespace):
    """The `add_selection` arguments as a `core.store.sync.Selection` (extent in degrees, UTC
    times), or a `CliError` that says which one is wrong."""
    from ..core.store.sync import Selection, SelectionError

    try:
        return Selection.parse(args.extent, args.since, args.until)
    except SelectionError as exc:
        raise CliError(str(exc)) from None


def store_target(value: str) -> str:
    """The store as Processing receives it: a team store's connection unchanged (never with a
    password in it: parameters are echoed and recorded), a file as an absolute path (Processing
    may run elsewhere)."""
    from ..core.store.pg import PASSWORD_IN_TARGET, has_password, is_postgres_target
    from ..pg_connections import store_target as recorded_target

    if is_postgres_target(value) and has_password(value):
        raise CliError(PASSWORD_IN_TARGET)
    return recorded_target(value)


def existing_store_target(value: str) -> str:
    """`store_target` of a store that must exist already (a team store is checked when opened);
    a missing file is a one-line mistake."""
    from ..core.store.pg import is_postgres_target
    from ..pg_connections import is_qgis_connection

    if not (is_postgres_target(value) or is_qgis_connection(value)) and not Path(value).expanduser().is_file():
        raise CliError(f"store {value} does not exist (create it with: python -m mist_qgis init --store {value})")
    return store_target(value)


def store_path(args: argparse.Namespace) -> str:
    """The store to create or write to (`--store`), as `store_target` gives it."""
    return store_target(args.store)


def existing_store(args: argparse.Namespace) -> str:
    """The store the verb reads (`--store`), as `existing_store_target` gives it."""
    return existing_store_target(args.store)


def existing(path: str | None, what: str) -> str:
    """An input file or folder that must exist, as an absolute path."""
    if not path or not Path(path).expanduser().exists():
        raise CliError(f"{what} {path} does not exist")
    return str(Path(path).expanduser().resolve())


def existing_file(path: str, what: str) -> str:
    """An input that must be a file (not a folder), as an absolute path."""
    if not Path(path).expanduser().is_file():
        raise CliError(f"{what} {path} does not exist" if not Path(path).exists() else f"{what} {path} is not a file")
    return str(Path(path).expanduser().resolve())


def output(path: str) -> str:
    """An output path, absolute."""
    return str(Path(path).expanduser().resolve())


def model_ref(ref: str) -> str:
    """A model path is made absolute (Processing may run elsewhere); an id stays for the registry."""
    if ref.endswith(".onnx") or Path(ref).is_file():
        return existing_file(ref, "model file")
    return ref
