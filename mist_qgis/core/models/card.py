"""Model cards: what an ONNX model says about itself in its `metadata_props`.

Every MIST model carries namespaced JSON values under keys `mist.*` (task, labels, input size,
layout, colour order, mean/std, thresholds, version, licence, source, weights sha256, ...). They are
read at run time through onnxruntime's `custom_metadata_map`, so a model file is all a team needs
to share. A missing or invalid key is a `ModelCardError` naming the file and the key, raised
before any photo is processed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import MistError
from ..options import HEAD_FEATURES

PREFIX = "mist."
TASKS = ("classify", "embed", "head", "multimodal", "features", "match", "segment", "text-encoder")
INPUT_KINDS = ("image", "embedding", "image+text", "text", "keypoints", "image-pair")
SCORE_TASKS = ("classify", "head", "multimodal")  # tasks whose "scores" are one score per label
# Tasks whose graphs have several named inputs and outputs: `mist.inputs` and `mist.outputs` map
# roles to graph names; the code that runs them names the roles it needs (see `require_roles`).
GRAPH_TASKS = ("features", "match", "segment")
DYNAMIC_SIZE_TASKS = ("features",)  # any image size: `mist.input_size` may be absent
LAYOUTS = ("NCHW", "NHWC")
COLOR_ORDERS = ("RGB", "BGR")
RESIZE_MODES = ("stretch", "center_crop")
SCORE_KINDS = ("logits", "probabilities")
FEATURE_SETS = HEAD_FEATURES.names
TEXT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")  # what an image+text model may read
MAX_TEXT_LENGTH = 4096
# A text encoder's pooling: "mean" of the token vectors under the mask or the "cls" token's vector,
# done by MIST on a (N, L, D) output; "none" when the graph pools itself and outputs (N, D).
POOLINGS = ("mean", "cls", "none")


MAX_INPUT_GAIN = 1e4
"""A pixel's largest normalised value, 255 / (pixel_scale * std): ImageNet models give about 4.4,
models on raw 0..255 input 255. Beyond this the std is a typo (or zero in disguise)."""


class ModelCardError(MistError, ValueError):
    """A model's metadata is missing or invalid, or its graph does not match its card."""


@dataclass(frozen=True)
class ModelCard:
    """A model's self-description. `tag` (id@version) is what predictions and embeddings record."""

    id: str
    version: str
    task: str
    licence: str
    source: str
    labels: tuple[str, ...] = ()
    input_kind: str = "image"
    input_size: tuple[int, int] | None = None  # (height, width)
    layout: str = "NCHW"
    color_order: str = "RGB"
    pixel_scale: float = 255.0
    mean: tuple[float, ...] = (0.0, 0.0, 0.0)
    std: tuple[float, ...] = (1.0, 1.0, 1.0)
    resize: str = "stretch"
    scores: str = "logits"
    outputs: dict[str, str] = field(default_factory=dict)  # role ("scores", "embedding") -> name
    thresholds: dict[str, float] = field(default_factory=dict)
    weights_sha256: str = "unknown"
    embedding_model: str | None = None  # heads: tag of the model whose embeddings they read
    embedding_dim: int | None = None
    features: str | None = None  # heads: "image", "text" or "image+text"
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def tag(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def has_scores(self) -> bool:
        return "scores" in self.outputs

    @property
    def has_embedding(self) -> bool:
        return "embedding" in self.outputs

    @property
    def is_text_encoder(self) -> bool:
        """A sentence encoder for post text: task "text-encoder", or an older "embed" card reading text."""
        return self.task == "text-encoder" or (self.task == "embed" and self.input_kind == "text")

    @property
    def pooling(self) -> str:
        return str(self.extra.get("pooling", "none"))

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.extra.get("languages", ()))

    def with_path(self, path: Path) -> ModelCard:
        return replace(self, path=path)


# key -> (field name, required)
_SIMPLE_KEYS = {
    "id": "id", "version": "version", "task": "task", "licence": "licence", "source": "source",
    "labels": "labels", "input_kind": "input_kind", "input_size": "input_size", "layout": "layout",
    "color_order": "color_order", "pixel_scale": "pixel_scale", "mean": "mean", "std": "std",
    "resize": "resize", "scores": "scores", "outputs": "outputs", "thresholds": "thresholds",
    "weights_sha256": "weights_sha256", "embedding_model": "embedding_model",
    "embedding_dim": "embedding_dim", "features": "features", "description": "description",
}
_ALWAYS_REQUIRED = ("task", "version", "licence", "source", "outputs")
_IMAGE_REQUIRED = ("input_size", "layout", "color_order", "mean", "std")


def card_to_metadata(card: ModelCard) -> dict[str, str]:
    """The `metadata_props` to embed in an ONNX file (values JSON-encoded, keys `mist.*`)."""
    values: dict[str, Any] = {
        "id": card.id, "version": card.version, "task": card.task, "licence": card.licence,
        "source": card.source, "input_kind": card.input_kind, "outputs": card.outputs,
        "scores": card.scores, "weights_sha256": card.weights_sha256,
        "thresholds": card.thresholds, "description": card.description,
    }
    if card.labels:
        values["labels"] = list(card.labels)
    if card.input_kind in ("image", "image+text"):
        values.update(
            input_size=list(card.input_size) if card.input_size else None, layout=card.layout,
            color_order=card.color_order, pixel_scale=card.pixel_scale, mean=list(card.mean),
            std=list(card.std), resize=card.resize,
        )
    for key in ("embedding_model", "embedding_dim", "features"):
        if getattr(card, key) is not None:
            values[key] = getattr(card, key)
    out = {PREFIX + k: json.dumps(v) for k, v in values.items() if v is not None}
    out.update({PREFIX + k: json.dumps(v) for k, v in card.extra.items()})
    return out


def card_from_metadata(metadata: Mapping[str, str], source_file: str | Path) -> ModelCard:
    """Validate `mist.*` metadata and build a card; errors name the file and the key."""
    where = str(source_file)
    raw: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, text in metadata.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):]
        try:
            value = json.loads(text)
        except (TypeError, ValueError):
            raise ModelCardError(f"{where}: metadata key {key!r} is not valid JSON: {str(text)[:60]!r}") from None
        if name in _SIMPLE_KEYS:
            raw[name] = value
        else:
            extra[name] = value
    if not raw:
        raise ModelCardError(f"{where}: no MIST metadata (keys 'mist.*'); export the model with a MIST export script")
    for name in _ALWAYS_REQUIRED:
        if name not in raw:
            raise ModelCardError(f"{where}: metadata key 'mist.{name}' is missing")

    def bad(name: str, why: str) -> ModelCardError:
        return ModelCardError(f"{where}: metadata key 'mist.{name}' {why}")

    def text(name: str, default: str | None = None, choices: tuple[str, ...] | None = None) -> str:
        value = raw.get(name, default)
        if not isinstance(value, str) or not value:
            raise bad(name, "must be a non-empty string")
        if choices and value not in choices:
            raise bad(name, f"must be one of {', '.join(choices)} (got {value!r})")
        return value

    def numbers(name: str, length: int) -> tuple[float, ...]:
        value = raw.get(name)
        if not isinstance(value, list) or len(value) != length or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value
        ):
            raise bad(name, f"must be a list of {length} numbers, all finite (got {value!r})")
        return tuple(float(v) for v in value)

    task = text("task", choices=TASKS)
    input_kind = text("input_kind", "image", INPUT_KINDS)
    outputs = raw["outputs"]
    if not isinstance(outputs, dict) or not outputs or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in outputs.items()
    ):
        raise bad("outputs", "must map output roles to output names")
    if task not in GRAPH_TASKS and not set(outputs) <= {"scores", "embedding"}:
        raise bad("outputs", 'must map "scores" and/or "embedding" to output names')
    if task in GRAPH_TASKS:
        roles = extra.get("inputs")
        if not isinstance(roles, dict) or not roles or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in roles.items()
        ):
            raise bad("inputs", f"must map input roles to graph input names for a {task} model")
    labels: tuple[str, ...] = ()
    if "labels" in raw or task in SCORE_TASKS:
        value = raw.get("labels")
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise bad("labels", "must be a non-empty list of strings")
        if len(set(value)) != len(value):
            raise bad("labels", "has duplicate labels")
        labels = tuple(value)
    if task in SCORE_TASKS and "scores" not in outputs:
        raise bad("outputs", f'must name a "scores" output for a {task} model')
    if task in ("embed", "text-encoder") and "embedding" not in outputs:
        raise bad("outputs", f'must name an "embedding" output for an {task} model')
    if task == "text-encoder":
        if input_kind != "text":
            raise bad("input_kind", f'must be "text" for a text-encoder model (got {input_kind!r})')
        _check_encoder_keys(raw, extra, bad)

    fields: dict[str, Any] = dict(
        id=text("id", Path(source_file).stem), version=text("version"), task=task,
        licence=text("licence"), source=text("source"), labels=labels, input_kind=input_kind,
        scores=text("scores", "logits", SCORE_KINDS), outputs=dict(outputs),
        weights_sha256=text("weights_sha256", "unknown"), description=str(raw.get("description", "")),
        extra=extra,
    )
    thresholds = raw.get("thresholds", {})
    if not isinstance(thresholds, dict) or not all(
        k in labels and isinstance(v, int | float) and 0.0 <= v <= 1.0 for k, v in thresholds.items()
    ):
        raise bad("thresholds", "must map labels of the model to numbers in [0, 1]")
    fields["thresholds"] = {k: float(v) for k, v in thresholds.items()}

    if input_kind in ("image", "image+text"):
        for name in _IMAGE_REQUIRED:
            if name not in raw and not (name == "input_size" and task in DYNAMIC_SIZE_TASKS):
                raise bad(name, "is missing (required for image models)")
        size = raw.get("input_size")
        if size is not None or task not in DYNAMIC_SIZE_TASKS:
            if not isinstance(size, list) or len(size) != 2 or not all(
                isinstance(v, int) and not isinstance(v, bool) and 8 <= v <= 4096 for v in size
            ):
                raise bad("input_size", f"must be [height, width] in pixels, 8..4096 (got {size!r})")
            size = (size[0], size[1])
        fields.update(
            input_size=size, layout=text("layout", choices=LAYOUTS),
            color_order=text("color_order", choices=COLOR_ORDERS), mean=numbers("mean", 3),
            std=numbers("std", 3), resize=text("resize", "stretch", RESIZE_MODES),
        )
        if any(s <= 0 for s in fields["std"]):
            raise bad("std", "must be positive")
        scale = raw.get("pixel_scale", 255.0)
        if not isinstance(scale, int | float) or isinstance(scale, bool) or not math.isfinite(scale) or scale <= 0:
            raise bad("pixel_scale", f"must be a positive finite number (got {scale!r})")
        fields["pixel_scale"] = float(scale)
        gain = 255.0 / (float(scale) * min(fields["std"]))
        if gain > MAX_INPUT_GAIN:
            raise bad("std", f"is near zero for pixel_scale {scale:g}: a pixel would be multiplied by {gain:.3g}, "
                             f"more than {MAX_INPUT_GAIN:g} (got {list(fields['std'])})")
    if input_kind in ("image+text", "text"):
        _check_text_keys(extra, bad)
    if input_kind == "embedding":
        dim = raw.get("embedding_dim")
        if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
            raise bad("embedding_dim", "must be a positive integer (required for models reading embeddings)")
        fields["embedding_dim"] = dim
        fields["embedding_model"] = text("embedding_model")
        fields["features"] = text("features", "image", FEATURE_SETS)
    elif "embedding_dim" in raw:
        dim = raw["embedding_dim"]
        if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
            raise bad("embedding_dim", "must be a positive integer")
        fields["embedding_dim"] = dim
    return ModelCard(**fields, path=Path(source_file))


def _check_encoder_keys(raw: dict[str, Any], extra: dict[str, Any], bad: Any) -> None:
    """What makes a sentence-transformers-style export usable as a text encoder: its pooling, the
    languages it was trained on (shown in the model choice; "multilingual" features pick a
    model with several), whether vectors are L2-normalised, its width and the weights' sha256."""
    if extra.get("pooling") not in POOLINGS:
        raise bad("pooling", f"must be one of {', '.join(POOLINGS)} (got {extra.get('pooling')!r})")
    languages = extra.get("languages")
    if not isinstance(languages, list) or not languages or not all(
        isinstance(v, str) and 0 < len(v) <= 20 for v in languages
    ):
        raise bad("languages", f'must list the language codes the encoder knows, e.g. ["en"] (got {languages!r})')
    extra["normalize"] = extra.get("normalize", True)
    if not isinstance(extra["normalize"], bool):
        raise bad("normalize", "must be true or false")
    dim = raw.get("embedding_dim")
    if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
        raise bad("embedding_dim", "must be a positive integer (required for a text encoder)")
    if not isinstance(raw.get("weights_sha256"), str) or not re.fullmatch(r"[0-9a-f]{64}", raw["weights_sha256"]):
        raise bad("weights_sha256", "must be the sha256 (64 hex digits) of the weights the encoder was made from")


def _check_text_keys(extra: dict[str, Any], bad: Any) -> None:
    """The text side of an image+text card: the tokenizer folder beside the model (a plain name,
    never a path that could point elsewhere), the token length and the graph's text inputs."""
    folder = extra.get("tokenizer")
    if not isinstance(folder, str) or not folder or folder in (".", "..") or "/" in folder or "\\" in folder:
        raise bad("tokenizer", f"must name the tokenizer folder beside the model (got {folder!r})")
    length = extra.get("max_length")
    if not isinstance(length, int) or isinstance(length, bool) or not 2 <= length <= MAX_TEXT_LENGTH:
        raise bad("max_length", f"must be an integer number of tokens, 2..{MAX_TEXT_LENGTH} (got {length!r})")
    names = extra.setdefault("text_inputs", ["input_ids", "attention_mask"])
    if not isinstance(names, list) or "input_ids" not in names or len(set(names)) != len(names) or not all(
        n in TEXT_INPUTS for n in names
    ):
        raise bad("text_inputs", f"must list input_ids and optionally {', '.join(TEXT_INPUTS[1:])} (got {names!r})")


def _dims(shape: list[Any]) -> list[int | None]:
    return [d if isinstance(d, int) and d > 0 else None for d in shape]


def check_graph(card: ModelCard, session: Any) -> None:
    """Compare the card with the graph's real inputs and outputs, so a model whose input spec
    does not match its file fails here with a clear message, not mid-run inside onnxruntime."""
    where = str(card.path)
    inputs = session.get_inputs()
    outputs = {o.name: o for o in session.get_outputs()}
    for role, name in card.outputs.items():
        if name not in outputs:
            raise ModelCardError(
                f"{where}: metadata key 'mist.outputs' names {role} output {name!r}, "
                f"but the graph's outputs are {sorted(outputs)}"
            )
    if card.task in GRAPH_TASKS:
        _check_roles(card, session)
    if card.has_scores and card.labels and card.task not in GRAPH_TASKS:
        last = _dims(outputs[card.outputs["scores"]].shape)[-1:]
        if last and last[0] is not None and last[0] != len(card.labels):
            raise ModelCardError(
                f"{where}: metadata key 'mist.labels' lists {len(card.labels)} labels, "
                f"but output {card.outputs['scores']!r} has {last[0]} scores"
            )
    if card.task == "text-encoder":
        rank = len(outputs[card.outputs["embedding"]].shape)
        want = 2 if card.pooling == "none" else 3
        if rank != want:
            raise ModelCardError(
                f"{where}: metadata key 'mist.pooling' is {card.pooling!r}, so output {card.outputs['embedding']!r} "
                f"must have rank {want} ({'N, D' if want == 2 else 'N, tokens, D'}); it has rank {rank}"
            )
    if card.has_embedding and card.embedding_dim:
        last = _dims(outputs[card.outputs["embedding"]].shape)[-1:]
        if last and last[0] is not None and last[0] != card.embedding_dim:
            raise ModelCardError(
                f"{where}: metadata key 'mist.embedding_dim' is {card.embedding_dim}, "
                f"but output {card.outputs['embedding']!r} has {last[0]} values"
            )
    if card.input_kind == "image" and card.task in GRAPH_TASKS:
        by_name = {i.name: i for i in inputs}
        image = card.extra["inputs"].get("image")
        if image not in by_name:
            raise ModelCardError(f"{where}: metadata key 'mist.inputs' must name the graph's \"image\" input")
        _check_image_input(card, by_name[image])
    elif card.input_kind == "image":
        if len(inputs) != 1:
            raise ModelCardError(f"{where}: an image model must have one input, the graph has {len(inputs)}")
        _check_image_input(card, inputs[0])
    elif card.input_kind == "text":
        _check_text_inputs(card, inputs)
    elif card.input_kind == "image+text":
        _check_text_graph(card, inputs)
    elif card.input_kind == "embedding":
        dims = _dims(inputs[0].shape)
        if len(inputs) != 1 or len(dims) != 2 or dims[1] not in (None, card.embedding_dim):
            raise ModelCardError(
                f"{where}: metadata key 'mist.embedding_dim' is {card.embedding_dim}, but the graph's input "
                f"{inputs[0].name!r} has shape {inputs[0].shape}"
            )


def _check_roles(card: ModelCard, session: Any) -> None:
    """Every input and output role of a multi-input graph names a real graph input or output."""
    where = str(card.path)
    graph_inputs = sorted(i.name for i in session.get_inputs())
    for role, name in card.extra["inputs"].items():
        if name not in graph_inputs:
            raise ModelCardError(
                f"{where}: metadata key 'mist.inputs' names {role} input {name!r}, but the graph's inputs are "
                f"{graph_inputs}"
            )


def require_roles(card: ModelCard, inputs: tuple[str, ...] = (), outputs: tuple[str, ...] = (),
                  task: str | None = None) -> None:
    """Refuse a model whose card lacks a role the caller feeds or reads (or has another task),
    naming the file and the key; the graph names themselves were checked at load."""
    where = str(card.path)
    if task is not None and card.task != task:
        raise ModelCardError(f"{where}: metadata key 'mist.task' is {card.task!r}; this needs a {task!r} model")
    missing_in = [r for r in inputs if r not in card.extra.get("inputs", {})]
    if missing_in:
        raise ModelCardError(f"{where}: metadata key 'mist.inputs' lacks the role(s) {missing_in}")
    missing_out = [r for r in outputs if r not in card.outputs]
    if missing_out:
        raise ModelCardError(f"{where}: metadata key 'mist.outputs' lacks the role(s) {missing_out}")


def _check_image_input(card: ModelCard, image: Any) -> None:
    where = str(card.path)
    dims = _dims(image.shape)
    if len(dims) != 4:
        raise ModelCardError(f"{where}: input {image.name!r} has rank {len(dims)}; an image model needs a 4-d input")
    channels, spatial = (dims[1], dims[2:]) if card.layout == "NCHW" else (dims[3], dims[1:3])
    if channels not in (None, 3):
        raise ModelCardError(
            f"{where}: metadata key 'mist.layout' is {card.layout}, but input {image.name!r} "
            f"has shape {image.shape} (3 colour channels expected at that position)"
        )
    for axis, (got, want) in enumerate(zip(spatial, card.input_size or (), strict=False)):
        if got is not None and got != want:
            raise ModelCardError(
                f"{where}: metadata key 'mist.input_size' is {list(card.input_size or ())}, but input "
                f"{image.name!r} has shape {image.shape} (axis {'height' if axis == 0 else 'width'})"
            )
    if "float" not in image.type:
        raise ModelCardError(f"{where}: input {image.name!r} is {image.type}; MIST feeds float32")


def image_input_name(card: ModelCard, inputs: list[Any]) -> str:
    """The graph input that takes the photo: the only one of an image model, the one that is not a
    text input for an image+text model."""
    text = set(card.extra.get("text_inputs", ())) if card.input_kind == "image+text" else set()
    names = [i.name for i in inputs if i.name not in text]
    if len(names) != 1:
        raise ModelCardError(f"{card.path}: expected one image input besides {sorted(text)}, the graph has {names}")
    return names[0]


def _check_text_inputs(card: ModelCard, inputs: list[Any]) -> None:
    """A text model's graph takes exactly the card's text inputs (no photo)."""
    names = sorted(i.name for i in inputs)
    if names != sorted(card.extra["text_inputs"]):
        raise ModelCardError(
            f"{card.path}: metadata key 'mist.text_inputs' is {card.extra['text_inputs']}, but the graph's inputs "
            f"are {names}"
        )
    _check_text_dims(card, inputs)


def _check_text_graph(card: ModelCard, inputs: list[Any]) -> None:
    """An image+text graph takes one photo input plus exactly the card's text inputs, int64 (N, L);
    a graph exported with a fixed token length must agree with 'mist.max_length'."""
    where = str(card.path)
    by_name = {i.name: i for i in inputs}
    wanted = list(card.extra["text_inputs"])
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise ModelCardError(
            f"{where}: metadata key 'mist.text_inputs' names {missing}, but the graph's inputs are {sorted(by_name)}"
        )
    _check_image_input(card, by_name[image_input_name(card, inputs)])
    _check_text_dims(card, [by_name[n] for n in wanted])


def _check_text_dims(card: ModelCard, inputs: list[Any]) -> None:
    where = str(card.path)
    by_name = {i.name: i for i in inputs}
    for name in by_name:
        dims = _dims(by_name[name].shape)
        if len(dims) != 2 or "int64" not in by_name[name].type:
            raise ModelCardError(
                f"{where}: text input {name!r} is {by_name[name].type} {by_name[name].shape}; MIST feeds int64 (N, L)"
            )
        if dims[1] is not None and dims[1] != card.extra["max_length"]:
            raise ModelCardError(
                f"{where}: metadata key 'mist.max_length' is {card.extra['max_length']}, but text input {name!r} "
                f"has a fixed length of {dims[1]} tokens"
            )


def embed_card(model: Any, card: ModelCard) -> Any:
    """Write a card into an `onnx.ModelProto`'s metadata_props (replacing older `mist.*` keys)."""
    keep = [p for p in model.metadata_props if not p.key.startswith(PREFIX)]
    del model.metadata_props[:]
    for prop in keep:
        model.metadata_props.add(key=prop.key, value=prop.value)
    for key, value in card_to_metadata(card).items():
        model.metadata_props.add(key=key, value=value)
    return model
