"""The screening verbs: `models`, `predict`, `classify`, `train-head`, `next-to-verify`."""

from __future__ import annotations

import argparse
from typing import Any

from ..core import options
from .common import CliError, Verb, add_store, choice, existing_file, existing_store, model_ref, option, output


def classify_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    parser.add_argument("--model", required=True, metavar="ID_OR_PATH", help="model id, id@version or .onnx file")
    option(parser, "--batch-size", "BATCH_SIZE", type=int, default=32)
    option(parser, "--top-k", "TOP_K", type=int, default=5, help="labels kept per photo (default 5)")
    option(parser, "--allow-no-skill", "ALLOW_NO_SKILL", action="store_true",
           help="screen even with a head whose training showed no skill beyond chance")


def classify_parameters(args: argparse.Namespace) -> dict[str, Any]:
    if args.batch_size < 1 or args.top_k < 1:
        raise CliError("--batch-size and --top-k must be at least 1")
    return {"STORE": existing_store(args), "MODEL": model_ref(args.model), "BATCH_SIZE": args.batch_size,
            "TOP_K": args.top_k, "ALLOW_NO_SKILL": args.allow_no_skill}


def train_head_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    option(parser, "--backbone", "BACKBONE", default="efficientnet-lite0", help="image embedding model (id or .onnx)")
    choice(parser, "--features", "FEATURES", options.HEAD_FEATURES)
    choice(parser, "--labels", "LABELS", options.LABEL_SCHEMES,
           "verdict (flood/not_flood), depth (water depth classes) or note (first line)")
    option(parser, "--depth-bins", "DEPTH_BINS", default="0.3,1.0", help="depth class limits in metres")
    choice(parser, "--kind", "KIND", options.HEAD_KINDS)
    option(parser, "--id", "MODEL_ID", default="flood-head", help="model id of the head")
    parser.add_argument("--out", metavar="HEAD.onnx", help="default: the QGIS profile's model folder")


def train_head_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params = {
        "STORE": existing_store(args), "BACKBONE": model_ref(args.backbone), "FEATURES": args.features,
        "LABELS": args.labels, "DEPTH_BINS": args.depth_bins, "KIND": args.kind, "MODEL_ID": args.id,
    }
    if args.out:
        params["OUTPUT"] = output(args.out)
    return params


def next_arguments(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    parser.add_argument("--model", required=True, metavar="HEAD", help="head id, id@version or .onnx file")
    option(parser, ("-n", "--count"), "COUNT", type=int, default=20)
    option(parser, "--random-share", "RANDOM_SHARE", type=float, default=0.25)


def next_parameters(args: argparse.Namespace) -> dict[str, Any]:
    if not 0.0 <= args.random_share <= 1.0:
        raise CliError("--random-share must be between 0 and 1")
    return {"STORE": existing_store(args), "MODEL": model_ref(args.model), "COUNT": args.count,
            "RANDOM_SHARE": args.random_share}


def predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="ID_OR_PATH", help="model id, id@version or .onnx file")
    option(parser, "--top-k", "TOP_K", type=int, default=5)
    parser.add_argument("--text", help="post text read with every image by an image+text model")
    parser.add_argument("images", nargs="+", metavar="IMAGE")


def predict_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params = {"MODEL": model_ref(args.model), "IMAGES": "\n".join(existing_file(p, "image") for p in args.images),
              "TOP_K": args.top_k}
    if args.text:
        params["TEXT"] = args.text
    return params


MODELS = Verb("models", "list the registered models and execution providers", "mist:listmodels",
              lambda parser: None, lambda args: {})
PREDICT = Verb("predict", "top-k labels and scores of a model for image files", "mist:predictimages",
               predict_arguments, predict_parameters)
CLASSIFY = Verb("classify", "classify every fetched photo of a store with a model (resumable)", "mist:classifymedia",
                classify_arguments, classify_parameters)
TRAIN_HEAD = Verb("train-head", "train a screening head from the analysts' verified photos", "mist:trainhead",
                  train_head_arguments, train_head_parameters)
NEXT_TO_VERIFY = Verb("next-to-verify", "photos to verify next: least certain for a head, plus a random sample",
                      "mist:nexttoverify", next_arguments, next_parameters)


