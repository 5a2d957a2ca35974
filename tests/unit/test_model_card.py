"""Model cards read through onnxruntime: valid cards load, bad ones fail naming file and key."""

from __future__ import annotations

import json
from dataclasses import replace

import onnx
import pytest

from mist_qgis.core.models.card import ModelCardError, card_from_metadata, card_to_metadata
from mist_qgis.core.models.runtime import read_card
from tests.helpers.modelkit import colour_card, make_colour_model


def test_card_round_trips_through_the_onnx_file(tmp_path):
    card = colour_card(thresholds={"blue": 0.7}, resize="center_crop", color_order="BGR")
    path = make_colour_model(tmp_path / "m.onnx", card)
    got = read_card(path)
    assert got.tag == "colour@1"
    assert got.labels == ("red", "green", "blue")
    assert got.input_size == (32, 32) and got.layout == "NCHW" and got.color_order == "BGR"
    assert got.mean == (0.5, 0.5, 0.5) and got.std == (0.25, 0.25, 0.25)
    assert got.thresholds == {"blue": 0.7} and got.resize == "center_crop"
    assert got.outputs == {"scores": "logits", "embedding": "embedding"}
    assert got.path == path


def _rewrite(path, drop=(), set_=None):
    model = onnx.load(str(path))
    props = {p.key: p.value for p in model.metadata_props if p.key not in drop}
    props.update(set_ or {})
    del model.metadata_props[:]
    for k, v in props.items():
        model.metadata_props.add(key=k, value=v)
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("key", ["mist.task", "mist.version", "mist.licence", "mist.input_size", "mist.mean",
                                 "mist.labels", "mist.outputs"])
def test_missing_key_names_file_and_key(tmp_path, key):
    path = _rewrite(make_colour_model(tmp_path / "m.onnx"), drop=(key,))
    with pytest.raises(ModelCardError) as err:
        read_card(path)
    assert str(path) in str(err.value) and f"'{key}'" in str(err.value)


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("mist.layout", '"CHW"', "must be one of"),
        ("mist.mean", "[0.5, 0.5]", "list of 3 numbers"),
        ("mist.std", "[0.5, 0, 0.5]", "positive"),
        ("mist.input_size", "[224]", "[height, width]"),
        ("mist.labels", '["a", "a", "b"]', "duplicate"),
        ("mist.thresholds", '{"purple": 0.5}', "labels of the model"),
        ("mist.task", "not json", "not valid JSON"),
    ],
)
def test_invalid_values_are_refused_clearly(tmp_path, key, value, words):
    path = _rewrite(make_colour_model(tmp_path / "m.onnx"), set_={key: value})
    with pytest.raises(ModelCardError, match=words) as err:
        read_card(path)
    assert str(path) in str(err.value) and key in str(err.value)


def test_model_without_any_mist_metadata_says_so(tmp_path):
    path = make_colour_model(tmp_path / "m.onnx")
    model = onnx.load(str(path))
    del model.metadata_props[:]
    onnx.save(model, str(path))
    with pytest.raises(ModelCardError, match="no MIST metadata"):
        read_card(path)


def test_labels_that_do_not_match_the_graph_are_refused(tmp_path):
    path = make_colour_model(tmp_path / "m.onnx")
    _rewrite(path, set_={"mist.labels": json.dumps(["a", "b", "c", "d"])})
    with pytest.raises(ModelCardError, match="4 labels, but output 'logits' has 3 scores"):
        read_card(path)


def test_input_size_that_does_not_match_a_fixed_graph_input_is_refused(tmp_path):
    card = colour_card()
    path = make_colour_model(tmp_path / "m.onnx", card, input_shape=[1, 3, 64, 64])
    with pytest.raises(ModelCardError, match="'mist.input_size' is \\[32, 32\\]"):
        read_card(path)


def test_layout_that_does_not_match_the_graph_is_refused(tmp_path):
    path = make_colour_model(tmp_path / "m.onnx", colour_card(), input_shape=[1, 32, 32, 3])
    with pytest.raises(ModelCardError, match="'mist.layout' is NCHW"):
        read_card(path)


def test_output_names_must_exist(tmp_path):
    path = _rewrite(make_colour_model(tmp_path / "m.onnx"), set_={"mist.outputs": '{"scores": "probs"}'})
    with pytest.raises(ModelCardError, match="names scores output 'probs'"):
        read_card(path)


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "fake.onnx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n not a model")
    with pytest.raises(ValueError, match="not a readable ONNX model"):
        read_card(path)


def test_head_cards_need_embedding_dim_and_model():
    card = replace(colour_card(), task="head", input_kind="embedding", embedding_dim=3, embedding_model="x@1",
                   outputs={"scores": "p"}, scores="probabilities")
    meta = card_to_metadata(card)
    assert card_from_metadata(meta, "h.onnx").embedding_model == "x@1"
    del meta["mist.embedding_dim"]
    with pytest.raises(ModelCardError, match="'mist.embedding_dim'"):
        card_from_metadata(meta, "h.onnx")
