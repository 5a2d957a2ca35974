"""Verbs between field stores and a team store: `push` and `checkout`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core.geodesy import extent_text
from .common import (
    CliError,
    Verb,
    add_selection,
    add_store,
    existing_store,
    existing_store_target,
    selection,
    store_target,
)


def push_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("field", metavar="FIELD.gpkg", help="the field store to push")
    add_store(parser)


def push_parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {"FIELD": existing_store_target(args.field), "STORE": existing_store(args)}


def checkout_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    parser.add_argument("--out", required=True, metavar="FIELD.gpkg", help="the new field store")
    add_selection(parser)


def checkout_parameters(args: argparse.Namespace) -> dict[str, Any]:
    chosen = selection(args)
    out = Path(store_target(args.out))
    if out.exists():
        raise CliError(f"{out} exists already: check out into a new file")
    params: dict[str, Any] = {"STORE": existing_store(args), "OUTPUT": str(out),
                              "SINCE": chosen.since or "", "UNTIL": chosen.until or ""}
    if chosen.extent:
        params["EXTENT"] = extent_text(*chosen.extent)
    return params


PUSH = Verb("push", "push a field store into a team store (posts, photos, verdicts; nothing twice)",
            "mist:pushstore", push_arguments, push_parameters)
CHECKOUT = Verb("checkout", "check out part of a team store (extent, time window) as a new GeoPackage",
                "mist:checkoutstore", checkout_arguments, checkout_parameters)
