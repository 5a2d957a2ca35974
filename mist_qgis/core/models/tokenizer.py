"""Tokenizers of image+text models, read only from the files exported beside the model.

The multimodal crisis classifier (models/export_crisis_multimodal.py) is exported with its
tokenizer copied into a folder beside the ONNX file; its card names that folder
(`mist.tokenizer`), the token limit (`mist.max_length`) and the graph's text inputs
(`mist.text_inputs`). `tokenizer.json` is read with the `tokenizers` library; only when it is
absent does transformers' AutoTokenizer read the folder, with `local_files_only`: nothing is ever
fetched from a hub. Every check happens when the tokenizer is loaded, before a run starts.

Texts are cut to `max_length` tokens (special tokens included). A batch is padded to its longest
text, not always to `max_length`: padded positions are masked, so the scores are the same, and
the text encoder does far less work on short posts. A graph exported with a fixed token length is
always padded to that length.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .card import ModelCard, ModelCardError

if TYPE_CHECKING:
    import numpy as np

    from .runtime import LoadedModel

TOKENIZER_JSON = "tokenizer.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
MAX_TEXT_CHARS = 20_000  # post text is untrusted: a megabyte "tweet" is cut before tokenizing
_UNLIMITED = 1_000_000  # transformers writes ~1e30 as model_max_length when a tokenizer has no limit
_PAD_NAMES = ("<pad>", "[PAD]", "<|pad|>")


class TokenizerError(ModelCardError):
    """An image+text model's tokenizer is missing, unreadable or does not fit the model."""


@dataclass(frozen=True)
class TokenizerInfo:
    """What was loaded, for run parameters and messages."""

    source: Path
    backend: str  # "tokenizers" or "transformers"
    max_length: int
    pad_id: int
    vocab_size: int


class ModelTokenizer:
    """Post texts -> the token ids (and masks) one image+text model reads.

    `encode` is safe to call from the decode threads (it only reads the tokenizer); `collate`
    stacks a batch into the graph's int64 inputs.
    """

    def __init__(self, encode_ids: Callable[[str], list[int]], info: TokenizerInfo, inputs: Sequence[str],
                 fixed_length: int | None = None) -> None:
        self._encode_ids = encode_ids
        self.info = info
        self.inputs = tuple(inputs)
        self.fixed_length = fixed_length

    def encode(self, text: str | None) -> list[int]:
        """Token ids of one text, special tokens included, at most `max_length` of them."""
        text = text if isinstance(text, str) else ""
        try:
            ids = list(self._encode_ids(text[:MAX_TEXT_CHARS]))
        except Exception as exc:  # the tokenizers library raises plain Exceptions
            raise TokenizerError(f"{self.info.source}: could not tokenize a text: {exc}") from None
        return ids[:self.info.max_length]

    def collate(self, encoded: Sequence[list[int]]) -> dict[str, np.ndarray]:
        """The graph's text inputs for a batch: ids padded with the pad id, mask 1 on real tokens."""
        import numpy as np

        length = self.fixed_length or max(1, max((len(e) for e in encoded), default=1))
        ids = np.full((len(encoded), length), self.info.pad_id, dtype=np.int64)
        mask = np.zeros((len(encoded), length), dtype=np.int64)
        for row, tokens in enumerate(encoded):
            ids[row, :len(tokens)] = tokens
            mask[row, :len(tokens)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return {name: feeds[name] for name in self.inputs}


def tokenizer_folder(card: ModelCard) -> Path:
    """The folder `mist.tokenizer` names, beside the model file."""
    if card.path is None:
        raise TokenizerError(f"{card.tag}: the model file is unknown, so its tokenizer cannot be found")
    return card.path.parent / str(card.extra["tokenizer"])


def load_tokenizer(model: LoadedModel) -> ModelTokenizer:
    """The tokenizer of an image+text or text model, checked against its card and graph (read once per run).

    Raises TokenizerError naming the file when the tokenizer folder or its files are missing or
    unreadable, when the tokenizer's own length limit is below `mist.max_length`, when it has no
    padding token, or when its vocabulary is larger than the model's (`mist.vocab_size`).
    """
    card = model.card
    if card.input_kind not in ("image+text", "text"):
        raise TokenizerError(f"{model.path}: {card.tag} reads no text (input kind {card.input_kind})")
    folder = tokenizer_folder(card)
    max_length = int(card.extra["max_length"])
    if not folder.is_dir():
        raise TokenizerError(
            f"{model.path}: tokenizer folder {folder} (metadata key 'mist.tokenizer') does not exist; copy the "
            "tokenizer files exported with the model beside it"
        )
    config = read_json(folder / TOKENIZER_CONFIG)
    limit = config.get("model_max_length")
    if isinstance(limit, int | float) and not isinstance(limit, bool) and 0 < limit < min(max_length, _UNLIMITED):
        raise TokenizerError(
            f"{folder / TOKENIZER_CONFIG}: model_max_length is {int(limit)} tokens, but {model.path} asks for "
            f"{max_length} (metadata key 'mist.max_length'); the tokenizer does not belong to this model"
        )
    if (folder / TOKENIZER_JSON).is_file():
        encode_ids, info = _from_tokenizer_json(folder / TOKENIZER_JSON, config, max_length)
    else:
        encode_ids, info = _from_transformers(folder, max_length)
    vocab = card.extra.get("vocab_size")
    if isinstance(vocab, int) and not isinstance(vocab, bool) and info.vocab_size > vocab:
        raise TokenizerError(
            f"{info.source}: the tokenizer has {info.vocab_size} tokens, but {model.path} embeds only {vocab} "
            "(metadata key 'mist.vocab_size'); the tokenizer does not belong to this model"
        )
    graph = {i.name: i for i in model.session.get_inputs()}
    fixed = graph["input_ids"].shape[1] if "input_ids" in graph else None
    return ModelTokenizer(encode_ids, info, card.extra["text_inputs"],
                          fixed if isinstance(fixed, int) and fixed > 0 else None)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object file of a model folder ({} when absent); TokenizerError naming it otherwise."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TokenizerError(f"{path} is not readable JSON: {exc}") from None
    if not isinstance(data, dict):
        raise TokenizerError(f"{path} must hold a JSON object")
    return data


def _token_name(value: Any) -> str | None:
    """A special token as tokenizer_config.json writes it: a string or {"content": ...}."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) and value else None


def _from_tokenizer_json(path: Path, config: dict[str, Any], max_length: int) -> tuple[Callable, TokenizerInfo]:
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as exc:  # the tokenizers library raises plain Exceptions on bad files
        raise TokenizerError(f"{path} is not a readable tokenizer.json: {exc}") from None
    pad_id = tok.padding["pad_id"] if tok.padding else None
    if pad_id is None:
        for name in (_token_name(config.get("pad_token")), *_PAD_NAMES):
            if name is not None and tok.token_to_id(name) is not None:
                pad_id = tok.token_to_id(name)
                break
    if pad_id is None:
        raise TokenizerError(f"{path}: the tokenizer has no padding token ({', '.join(_PAD_NAMES)} or "
                             f"pad_token in {TOKENIZER_CONFIG})")
    tok.no_padding()
    try:
        tok.enable_truncation(max_length=max_length)
        tok.encode("")  # a limit shorter than the special tokens fails here, not mid-run
    except Exception as exc:
        raise TokenizerError(f"{path}: cannot cut texts to {max_length} tokens (mist.max_length): {exc}") from None

    def encode_ids(text: str) -> list[int]:
        return tok.encode(text).ids

    info = TokenizerInfo(path, "tokenizers", max_length, int(pad_id), tok.get_vocab_size(with_added_tokens=True))
    return encode_ids, info


def _from_transformers(folder: Path, max_length: int) -> tuple[Callable, TokenizerInfo]:
    """Fallback for tokenizer folders without tokenizer.json (vocab.txt, sentencepiece, ...)."""
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise TokenizerError(f"{folder}: no {TOKENIZER_JSON}, and transformers is not installed to read the "
                             "folder's other tokenizer files") from None
    try:
        tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except Exception as exc:  # transformers raises many kinds (OSError, ValueError, ImportError, ...)
        raise TokenizerError(
            f"{folder}: no {TOKENIZER_JSON}, and transformers could not read the folder's tokenizer files: {exc}"
        ) from None
    if tok.pad_token_id is None:
        raise TokenizerError(f"{folder}: the tokenizer has no padding token")
    lock = threading.Lock()  # a fast tokenizer resets its truncation state on every call ("Already borrowed")

    def encode_ids(text: str) -> list[int]:
        with lock:
            return list(tok(text, truncation=True, max_length=max_length)["input_ids"])

    try:
        encode_ids("")
    except Exception as exc:
        raise TokenizerError(f"{folder}: cannot cut texts to {max_length} tokens (mist.max_length): {exc}") from None
    return encode_ids, TokenizerInfo(folder, "transformers", max_length, int(tok.pad_token_id), len(tok))
