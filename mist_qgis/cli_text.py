"""Arguments of the text screening verbs (`screen-text`, `train-text-head`).

Each pair maps the command line onto one `mist:` algorithm's parameters; cli.py lists the verbs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .cli_models import _error, _store
from .core.text.features import DEFAULT_FEATURE_SET, FEATURE_SETS


def _heads(path: str) -> str:
    if not Path(path).is_dir():
        raise _error(f"heads folder {path} does not exist (train it with: train-text-head)")
    return str(Path(path).resolve())


def _features(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar="STORE.gpkg", help="the MIST store")
    parser.add_argument("--features", choices=FEATURE_SETS, default=DEFAULT_FEATURE_SET,
                        help=f"text features (default {DEFAULT_FEATURE_SET})")
    parser.add_argument("--encoder", metavar="DIR", help="multilingual encoder folder (for --features multilingual)")


def _feature_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {"STORE": _store(args.store), "FEATURES": FEATURE_SETS.index(args.features)}
    if args.encoder:
        if not Path(args.encoder).is_dir():
            raise _error(f"encoder folder {args.encoder} does not exist")
        params["ENCODER"] = str(Path(args.encoder).resolve())
    elif args.features == "multilingual":
        raise _error("--features multilingual needs --encoder DIR (a multilingual sentence encoder folder)")
    return params


def screen_text_arguments(parser: argparse.ArgumentParser) -> None:
    _features(parser)
    parser.add_argument("--heads", metavar="DIR", help="text heads folder (default: keyword rules)")


def screen_text_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params = _feature_parameters(args)
    if args.heads:
        params["HEADS"] = _heads(args.heads)
    return params


def train_text_head_arguments(parser: argparse.ArgumentParser) -> None:
    _features(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the text-<category>.onnx heads")


def train_text_head_parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {**_feature_parameters(args), "OUTPUT": str(Path(args.out).resolve())}


def categories_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar="STORE.gpkg", help="the MIST store")
    parser.add_argument("--set", metavar="TABLE.csv", help="replace the list: columns name, title, keywords (a;b;c)")


def categories_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {"STORE": _store(args.store)}
    if args.set:
        if not Path(args.set).is_file():
            raise _error(f"category table {args.set} does not exist")
        params["INPUT"] = str(Path(args.set).resolve())
    return params


def next_posts_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar="STORE.gpkg", help="the MIST store")
    parser.add_argument("--heads", required=True, metavar="DIR", help="text heads folder")
    parser.add_argument("-n", "--count", type=int, default=20)


def next_posts_parameters(args: argparse.Namespace) -> dict[str, Any]:
    if args.count < 1:
        raise _error("--count must be at least 1")
    return {"STORE": _store(args.store), "HEADS": _heads(args.heads), "COUNT": args.count}
