"""Arguments of the screening verbs (`classify`, `train-head`, `next-to-verify`, `predict`, `models`).

Each pair maps the command line onto one `mist:` algorithm's parameters; cli.py lists the verbs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .cli_store import STORE_HELP, STORE_METAVAR

FEATURES = ["image", "text", "image+text"]
SCHEMES = ["verdict", "depth", "note"]
KINDS = ["logreg", "mlp"]


def _error(message: str) -> Exception:
    from .cli import CliError

    return CliError(message)


def _store(path: str) -> str:
    from .cli_store import existing_store

    return existing_store(path)


def _model(ref: str) -> str:
    """A path is made absolute (Processing may run elsewhere); an id stays for the registry."""
    if ref.endswith(".onnx") or Path(ref).is_file():
        if not Path(ref).is_file():
            raise _error(f"model file {ref} does not exist")
        return str(Path(ref).resolve())
    return ref


def classify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP)
    parser.add_argument("--model", required=True, metavar="ID_OR_PATH", help="model id, id@version or .onnx file")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--top-k", type=int, default=5, help="labels kept per photo (default 5)")


def classify_parameters(args: argparse.Namespace) -> dict[str, Any]:
    if args.batch_size < 1 or args.top_k < 1:
        raise _error("--batch-size and --top-k must be at least 1")
    return {"STORE": _store(args.store), "MODEL": _model(args.model), "BATCH_SIZE": args.batch_size,
            "TOP_K": args.top_k}


def train_head_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP)
    parser.add_argument("--backbone", default="efficientnet-lite0", help="image embedding model (id or .onnx)")
    parser.add_argument("--features", choices=FEATURES, default="image")
    parser.add_argument("--labels", choices=SCHEMES, default="verdict",
                        help="verdict (flood/not_flood), depth (water depth classes) or note (first line)")
    parser.add_argument("--depth-bins", default="0.3,1.0", help="depth class limits in metres")
    parser.add_argument("--kind", choices=KINDS, default="logreg")
    parser.add_argument("--id", default="flood-head", help="model id of the head")
    parser.add_argument("--out", metavar="HEAD.onnx", help="default: the QGIS profile's model folder")


def train_head_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params = {
        "STORE": _store(args.store), "BACKBONE": _model(args.backbone), "FEATURES": FEATURES.index(args.features),
        "LABELS": SCHEMES.index(args.labels), "DEPTH_BINS": args.depth_bins, "KIND": KINDS.index(args.kind),
        "MODEL_ID": args.id,
    }
    if args.out:
        params["OUTPUT"] = str(Path(args.out).resolve())
    return params


def next_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar=STORE_METAVAR, help=STORE_HELP)
    parser.add_argument("--model", required=True, metavar="HEAD", help="head id, id@version or .onnx file")
    parser.add_argument("-n", "--count", type=int, default=20)
    parser.add_argument("--random-share", type=float, default=0.25)


def next_parameters(args: argparse.Namespace) -> dict[str, Any]:
    if not 0.0 <= args.random_share <= 1.0:
        raise _error("--random-share must be between 0 and 1")
    return {"STORE": _store(args.store), "MODEL": _model(args.model), "COUNT": args.count,
            "RANDOM_SHARE": args.random_share}


def predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="ID_OR_PATH", help="model id, id@version or .onnx file")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--text", help="post text read with every image by an image+text model")
    parser.add_argument("images", nargs="+", metavar="IMAGE")


def predict_parameters(args: argparse.Namespace) -> dict[str, Any]:
    params = {"MODEL": _model(args.model), "IMAGES": "\n".join(str(Path(p).resolve()) for p in args.images),
              "TOP_K": args.top_k}
    if args.text:
        params["TEXT"] = args.text
    return params


def models_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def models_parameters(args: argparse.Namespace) -> dict[str, Any]:
    return {}
