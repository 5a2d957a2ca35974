"""CLI verbs between field stores and a team store: `push` and `checkout`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .cli_store import STORE_HELP, STORE_METAVAR, existing_store, store_target


def push_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("field", metavar="FIELD.gpkg", help="the field store to push")
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP)


def push_parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {"FIELD": existing_store(args.field), "STORE": existing_store(args.store)}


def checkout_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP)
    parser.add_argument("--out", required=True, metavar="FIELD.gpkg", help="the new field store")
    parser.add_argument("--extent", metavar="XMIN,YMIN,XMAX,YMAX", help="only posts in this box (degrees)")
    parser.add_argument("--since", metavar="T", help="only posts from this time on (ISO, UTC unless given)")
    parser.add_argument("--until", metavar="T", help="only posts before this time")


def checkout_parameters(args: argparse.Namespace) -> dict[str, Any]:
    from .cli import CliError
    from .core.store.sync import Selection, SelectionError

    try:
        selection = Selection.parse(args.extent, args.since, args.until)
    except SelectionError as exc:
        raise CliError(str(exc)) from None
    out = Path(store_target(args.out))
    if out.exists():
        raise CliError(f"{out} exists already: check out into a new file")
    params: dict[str, Any] = {"STORE": existing_store(args.store), "OUTPUT": str(out),
                              "SINCE": selection.since or "", "UNTIL": selection.until or ""}
    if selection.extent:
        x0, y0, x1, y1 = selection.extent
        params["EXTENT"] = f"{x0},{x1},{y0},{y1} [EPSG:4326]"
    return params
