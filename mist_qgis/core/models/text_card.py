"""Card a sentence-transformers-style ONNX export as a MIST text encoder.

A team that has a multilingual sentence encoder (paraphrase-multilingual-MiniLM-L12-v2, an
XLM-R model, ...) exported to ONNX, for instance by `optimum-cli export onnx` or
sentence-transformers' own ONNX backend, has a folder with the graph (`model.onnx`, or
`onnx/model.onnx`), `tokenizer.json` and the sentence-transformers configuration
(`sentence_bert_config.json` for the token limit, `1_Pooling/config.json` for the pooling,
and unit-length vectors). `card_text_encoder` reads those, writes
`<id>.onnx` with a `mist.task` "text-encoder" card and copies the tokenizer into
`<id>-tokenizer/` beside it: drop the two into a model folder and the encoder appears in the
model choice of the text feature sets. Nothing is downloaded; the card is checked against the
graph before the files are written.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from .card import TEXT_INPUTS, ModelCard, ModelCardError, embed_card
from .tokenizer import read_json

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                   "sentencepiece.bpe.model", "spiece.model")
TOKEN_OUTPUTS = ("last_hidden_state", "token_embeddings")
POOLED_OUTPUTS = ("sentence_embedding", "pooler_output_normalized")
DEFAULT_MAX_LENGTH = 128


@dataclass(frozen=True)
class EncoderExport:
    """What a sentence-transformers folder says about its ONNX export."""

    onnx: Path
    output: str
    pooling: str  # mean, cls or none (the graph pools)
    normalize: bool
    max_length: int
    dim: int
    text_inputs: tuple[str, ...]


def read_export(folder: str | Path, onnx_file: str | Path | None = None) -> EncoderExport:
    """Read the graph's inputs and outputs and the sentence-transformers configuration of a folder."""
    from .runtime import open_metadata_session

    folder = Path(folder)
    candidates = [Path(onnx_file)] if onnx_file else [folder / "model.onnx", folder / "onnx" / "model.onnx",
                                                      *sorted(folder.glob("*.onnx"))]
    onnx = next((c for c in candidates if c.is_file()), None)
    if onnx is None:
        raise ModelCardError(f"{folder}: no ONNX graph (model.onnx or onnx/model.onnx)")
    session = open_metadata_session(onnx)
    inputs = tuple(i.name for i in session.get_inputs())
    if "input_ids" not in inputs or not set(inputs) <= set(TEXT_INPUTS):
        raise ModelCardError(f"{onnx}: a text encoder takes {', '.join(TEXT_INPUTS)}; the graph takes {list(inputs)}")
    outputs = {o.name: o.shape for o in session.get_outputs()}
    pooling_config = read_json(folder / "1_Pooling" / "config.json")
    pooled = [n for n in POOLED_OUTPUTS if n in outputs]
    tokens = [n for n in TOKEN_OUTPUTS if n in outputs]
    if pooled:
        output, pooling = pooled[0], "none"
    elif tokens:
        output = tokens[0]
        pooling = "cls" if pooling_config.get("pooling_mode_cls_token") else "mean"
        if pooling_config and not (pooling_config.get("pooling_mode_cls_token")
                                   or pooling_config.get("pooling_mode_mean_tokens", True)):
            raise ModelCardError(f"{folder / '1_Pooling' / 'config.json'}: only mean or cls pooling is supported")
    else:
        raise ModelCardError(f"{onnx}: no output named {', '.join(TOKEN_OUTPUTS + POOLED_OUTPUTS)}; "
                             f"the graph's outputs are {sorted(outputs)}")
    dim = outputs[output][-1]
    if not isinstance(dim, int):
        dim = pooling_config.get("word_embedding_dimension")
    if not isinstance(dim, int) or dim <= 0:
        raise ModelCardError(f"{onnx}: the width of output {output!r} is unknown (and no 1_Pooling/config.json)")
    max_length = read_json(folder / "sentence_bert_config.json").get("max_seq_length")
    max_length = max_length if isinstance(max_length, int) and not isinstance(max_length, bool) else DEFAULT_MAX_LENGTH
    # Unit length always: heads and cosine comparisons then see every encoder's vectors on one scale
    # (a no-op for models whose modules.json already ends in Normalize).
    return EncoderExport(onnx, output, pooling, True, max_length, dim, inputs)


def card_text_encoder(
    folder: str | Path, out_dir: str | Path, model_id: str, languages: list[str], version: str = "1",
    licence: str = "unknown", source: str = "", onnx_file: str | Path | None = None,
    tokenizer_dir: str | Path | None = None,
) -> Path:
    """Write `<out_dir>/<model_id>.onnx` (the export with its card) and `<model_id>-tokenizer/`.

    The weights' sha256 on the card is the source graph's. Returns the new model's path; the
    written model passes MIST's card check (the same check every model folder runs)."""
    import onnx as onnx_lib

    from .registry import sha256_file
    from .runtime import read_card

    folder = Path(folder)
    export = read_export(folder, onnx_file)
    tokenizer_src = Path(tokenizer_dir) if tokenizer_dir else folder
    if not (tokenizer_src / "tokenizer.json").is_file() and not (tokenizer_src / "vocab.txt").is_file():
        raise ModelCardError(f"{tokenizer_src}: no tokenizer.json (or vocab.txt) to copy beside the encoder")
    if not model_id or any(ch in model_id for ch in "/\\@") or model_id in (".", ".."):
        raise ModelCardError(f"model id {model_id!r} must be a plain name (no '/', '\\\\' or '@')")
    tokenizer_name = f"{model_id}-tokenizer"
    card = ModelCard(
        id=model_id, version=version, task="text-encoder", licence=licence,
        source=source or f"sentence-transformers ONNX export {export.onnx.name}, carded by MIST",
        input_kind="text", outputs={"embedding": export.output}, embedding_dim=export.dim,
        weights_sha256=sha256_file(export.onnx),
        description=f"sentence embeddings ({export.dim}-d, {export.pooling} pooling), "
                    f"languages: {', '.join(languages)}",
        extra={"tokenizer": tokenizer_name, "max_length": export.max_length, "text_inputs": list(export.text_inputs),
               "pooling": export.pooling, "normalize": export.normalize, "languages": list(languages)},
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{model_id}.onnx"
    model = onnx_lib.load(str(export.onnx))
    staging = target.with_suffix(".onnx.part")
    onnx_lib.save(embed_card(model, card), str(staging))
    tokenizer = out_dir / tokenizer_name
    tokenizer.mkdir(exist_ok=True)
    for name in TOKENIZER_FILES:
        if (tokenizer_src / name).is_file():
            shutil.copyfile(tokenizer_src / name, tokenizer / name)
    try:
        read_card(staging)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    staging.replace(target)
    return target
