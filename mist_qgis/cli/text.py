"""The text screening verbs: `screen-text`, `train-text-head`, `next-posts`, `text-categories`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..core import options
from .common import CliError, Verb, add_store, choice, existing_file, existing_store, option, output


def _heads(path: str) -> str:
    if not Path(path).expanduser().is_dir():
        raise CliError(f"heads folder {path} does not exist (train it with: train-text-head)")
    return str(Path(path).expanduser().resolve())


def _features(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    choice(parser, "--features", "FEATURES", options.TEXT_FEATURE_SETS, "text features")
    option(parser, "--encoder", "ENCODER", metavar="MODEL",
           help="text encoder for --features multilingual: an id, id@version, .onnx file or a folder holding one "
                "(default: the first multilingual encoder in the model folders)")


def _feature_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {"STORE": existing_store(args), "FEATURES": args.features}
    if args.encoder:
        path = Path(args.encoder).expanduser()
        looks_like_path = path.suffix == ".onnx" or "/" in args.encoder or "\\" in args.encoder
        if looks_like_path and not path.exists():
            raise CliError(f"encoder {args.encoder} does not exist")
        params["ENCODER"] = str(path.resolve()) if path.exists() else args.encoder
    return params


def screen_text_arguments(parser: argparse.ArgumentParser) -> None:
    _features(parser)
    option(parser, "--heads", "HEADS", metavar="DIR", help="text heads folder (default: keyword rules)")
    option(parser, "--allow-no-skill", "ALLOW_NO_SKILL", action="store_true",
           help="screen even with a text head whose training showed no skill beyond chance")


def screen_text_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params = _feature_parameters(args)
    if args.heads:
        params["HEADS"] = _heads(args.heads)
    params["ALLOW_NO_SKILL"] = args.allow_no_skill
    return params


def train_text_head_arguments(parser: argparse.ArgumentParser) -> None:
    _features(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the text-<category>.onnx heads")


def train_text_head_parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {**_feature_parameters(args), "OUTPUT": output(args.out)}


def categories_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    parser.add_argument("--set", metavar="TABLE.csv", help="replace the list: columns name, title, keywords (a;b;c)")


def categories_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {"STORE": existing_store(args)}
    if args.set:
        params["INPUT"] = existing_file(args.set, "category table")
    return params


def next_posts_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    parser.add_argument("--heads", required=True, metavar="DIR", help="text heads folder")
    option(parser, ("-n", "--count"), "COUNT", type=int, default=20)


def next_posts_parameters(args: argparse.Namespace) -> dict[str, Any]:
    if args.count < 1:
        raise CliError("--count must be at least 1")
    return {"STORE": existing_store(args), "HEADS": _heads(args.heads), "COUNT": args.count}


SCREEN_TEXT = Verb("screen-text", "categorise every post by its text, photo or not (keyword rules or text heads)",
                   "mist:screentext", screen_text_arguments, screen_text_parameters)
TRAIN_TEXT_HEAD = Verb("train-text-head", "train one text head per category from the analysts' post categories",
                       "mist:traintexthead", train_text_head_arguments, train_text_head_parameters)
NEXT_POSTS = Verb("next-posts", "posts to categorise next: least certain for a text head, plus a random sample",
                  "mist:nextpoststolabel", next_posts_arguments, next_posts_parameters)
TEXT_CATEGORIES = Verb("text-categories",
                       "list the post categories and keyword rules, or replace them from a CSV table",
                       "mist:textcategories", categories_arguments, categories_parameters)
