"""A tiny sentence-transformers-style text encoder export, built by the tests (no multilingual
weights are available offline): English and Chinese words that mean the same point the same way."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DIM = 8
# word -> the axis it points along: flood words of both languages share axis 0, help axis 1, padding
# axis 2 (so a vector that counted padding would show it),
# everyday words axes 4-7. Anything else is [UNK] (axis 3).
WORDS = {
    "[PAD]": 2, "[UNK]": 3, "flood": 0, "water": 0, "flooded": 0, "水": 0, "淹": 0, "洪": 0,
    "help": 1, "rescue": 1, "救": 1, "命": 1, "coffee": 4, "咖": 4, "啡": 4, "cat": 5, "猫": 5,
    "street": 6, "街": 6, "the": 7, "我": 7,
}


def tiny_export(folder: Path, pooling: str = "mean", max_length: int = 32) -> tuple[Path, np.ndarray]:
    """A sentence-transformers-style folder: an ONNX graph (token embedding table -> token vectors
    N x L x 8), a WordLevel tokenizer.json that splits Chinese into characters, and the
    sentence-transformers configuration files."""
    import onnx
    from onnx import TensorProto, helper
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {w: i for i, w in enumerate(WORDS)}
    table = np.zeros((len(vocab), DIM), np.float32)
    rng = np.random.default_rng(0)
    for word, axis in WORDS.items():
        if axis is not None:
            table[vocab[word], axis] = 1.0
            table[vocab[word]] += rng.normal(0, 0.05, DIM).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"], axis=0)],
        "tiny-encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", DIM])],
        [helper.make_tensor("table", TensorProto.FLOAT, table.shape, table.ravel().tolist())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    (folder / "onnx").mkdir(exist_ok=True)
    onnx.save(model, str(folder / "onnx" / "model.onnx"))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(handle_chinese_chars=True, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"pad_token": "[PAD]", "model_max_length": 512}))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": max_length}))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": DIM, "pooling_mode_mean_tokens": pooling == "mean",
        "pooling_mode_cls_token": pooling == "cls"}))
    return folder, table
