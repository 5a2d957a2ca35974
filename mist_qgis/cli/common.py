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


def add_store(parser: argparse.ArgumentParser, help: str = "the MIST store") -> None:  # noqa: A002
    """The `--store` argument (every verb that reads or writes a store)."""
    parser.add_argument("--store", required=True, metavar="STORE.gpkg", help=help)


def store_path(args: argparse.Namespace) -> str:
    """The store to create or write to, as an absolute path (Processing may run elsewhere)."""
    return str(Path(args.store).expanduser().resolve())


def existing_store(args: argparse.Namespace) -> str:
    """The store the verb reads, as an absolute path; a missing one is a one-line mistake."""
    path = Path(args.store).expanduser()
    if not path.is_file():
        raise CliError(f"store {args.store} does not exist (create it with: python -m mist_qgis init "
                       f"--store {args.store})")
    return str(path.resolve())


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
