"""Image+text screening: the crisis classifier's export, run on real photos paired with their
posts' texts, writes exactly what the PyTorch model computes; the text matters; a missing or
wrong tokenizer and a bad card fail before any run."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest

from mist_qgis.core.models import runtime
from mist_qgis.core.models.card import ModelCardError
from mist_qgis.core.models.classify import classify_store, predict_images
from mist_qgis.core.models.preprocess import load_for_model, normalise
from mist_qgis.core.models.runtime import read_card
from mist_qgis.core.models.tokenizer import TokenizerError
from mist_qgis.core.store import models_sql
from tests.helpers.modelkit import PHOTO_NAMES, add_photo_posts, make_colour_model, photo, save_photo
from tests.helpers.multimodal_kit import MAX_LENGTH, make_crisis_model, make_tokenizer, torch_scores

TEXTS = [
    "Flood water in the street after heavy rain",
    "",  # a photo posted without text
    "my coffee this morning was great",
    "rescue boats in the flooded village " * 10,  # longer than max_length tokens: cut
    "Überschwemmung am Bahnhof 🚣 words the tokenizer never saw",
    "power cut and the road is blocked by debris",
    "sunny day at the beach, nothing to report",  # same photo as the first post, other text
]


@pytest.fixture(scope="module")
def crisis(tmp_path_factory):
    root = tmp_path_factory.mktemp("crisis")
    tok = make_tokenizer(root / "tok-src")
    path, model, cfg = make_crisis_model(root / "models" / "crisis.onnx", tok)
    return path, model, cfg


@pytest.fixture(autouse=True)
def _fresh_sessions():
    runtime.clear_sessions()


def _reference(store, media_fid, card, model, text):
    from tokenizers import Tokenizer

    rel = store.scalar("SELECT cache_path FROM media WHERE fid = ?", (media_fid,))
    pixels = normalise(load_for_model(store.media_file(rel), card)[None], card)
    tok = Tokenizer.from_file(str(card.path.with_suffix(".tokenizer") / "tokenizer.json"))
    tok.enable_truncation(max_length=MAX_LENGTH)
    return torch_scores(model, pixels, tok.encode(text).ids)


def _stored(store, media_fid, labels):
    scores = {r["label"]: r["score"] for r in models_sql.predictions(store, "crisis@1") if r["media_fid"] == media_fid}
    return np.array([scores[label] for label in labels])


def test_store_screening_matches_pytorch_for_each_photo_and_text(store, crisis):
    path, model, cfg = crisis
    photos = [(n, photo(n)) for n in PHOTO_NAMES] + [("astronaut", photo("astronaut"))]
    fids = add_photo_posts(store, photos + [("junk", b"<html>not a photo</html>")], texts=TEXTS + ["junk"])
    with store.batch() as conn:  # a post without any text at all
        conn.execute("UPDATE posts SET text = NULL WHERE fid = (SELECT post_fid FROM media WHERE fid = ?)", (fids[1],))
    result = classify_store(store, path, batch_size=3, k=3)
    assert (result.status, result.model, result.classified, result.skipped) == ("done", "crisis@1", 7, 1)
    card = read_card(path)
    stored = {}
    for fid, text in zip(fids[:7], TEXTS, strict=True):
        stored[fid] = _stored(store, fid, card.labels)
        expected = _reference(store, fid, card, model, text)
        assert np.abs(stored[fid] - expected).max() < 1e-4, (text, stored[fid], expected)
    # the same photo with another text gets other scores: the text really reaches the model
    assert np.abs(stored[fids[0]] - stored[fids[6]]).max() > 1e-2
    rows = models_sql.predictions(store, "crisis@1")
    assert len(rows) == 21 and {r["run_fid"] for r in rows} == {result.run_id}
    assert store.count("posts", "cls_model = 'crisis@1'") == 7
    run = store.runs("classify")[-1]
    assert run.status == "done" and run.counts == {"classified": 7, "skipped": 1, "embeddings": 0}
    assert "not an image" in store.issues_for_run(result.run_id)[0]["reason"]
    assert classify_store(store, path).classified == 0  # resumable: nothing left


def test_cancel_then_resume_pairs_every_photo_with_its_own_text(store, crisis):
    path, model, _ = crisis
    fids = add_photo_posts(store, [(n, photo(n)) for n in PHOTO_NAMES], texts=TEXTS[:6])
    calls = {"n": 0}

    def cancel_after_first_batch():
        calls["n"] += 1
        return calls["n"] > 1

    first = classify_store(store, path, batch_size=2, is_cancelled=cancel_after_first_batch)
    assert (first.status, first.classified) == ("cancelled", 2)
    second = classify_store(store, path, batch_size=4, k=3)
    assert (second.status, second.classified) == ("done", 4)
    card = read_card(path)
    for fid, text in zip(fids, TEXTS[:6], strict=True):
        got = _stored(store, fid, card.labels)
        assert np.abs(got - _reference(store, fid, card, model, text)).max() < 1e-4


def test_predict_pairs_one_text_with_every_image(tmp_path, crisis):
    path, model, _ = crisis
    card = read_card(path)
    images = [save_photo(photo("rocket"), tmp_path / "r.jpg"), save_photo(photo("coffee"), tmp_path / "c.jpg")]
    flood = predict_images(path, images + [tmp_path / "absent.jpg"], k=2, text="flood water in the street")
    calm = predict_images(path, images, k=3, text="sunny day at the beach")
    none = predict_images(path, images, k=3)
    assert len(flood[0]["top"]) == 2 and "missing" in flood[2]["error"]
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path.with_suffix(".tokenizer") / "tokenizer.json"))
    for result, image in zip(calm, images, strict=True):
        pixels = normalise(load_for_model(image, card)[None], card)
        expected = torch_scores(model, pixels, tok.encode("sunny day at the beach").ids)
        got = np.array([dict((t["label"], t["score"]) for t in result["top"])[lab] for lab in card.labels])
        assert np.abs(got - expected).max() < 1e-4
    def vector(result):
        return np.array([dict((t["label"], t["score"]) for t in result["top"])[lab] for lab in card.labels])

    assert np.abs(vector(predict_images(path, images[:1], k=3, text="flood water in the street")[0])
                  - vector(calm[0])).max() > 1e-2
    empty = torch_scores(model, normalise(load_for_model(images[0], card)[None], card), tok.encode("").ids)
    assert np.abs(vector(none[0]) - empty).max() < 1e-4  # no text is the empty text, not the last one used


def test_image_model_refuses_a_text(tmp_path):
    colour = make_colour_model(tmp_path / "colour.onnx")
    image = save_photo(photo("rocket"), tmp_path / "r.jpg")
    with pytest.raises(ModelCardError, match="reads no text"):
        predict_images(colour, [image], text="flood")


def test_missing_tokenizer_fails_before_a_run(store, tmp_path, crisis):
    add_photo_posts(store, [("coffee", photo("coffee"))])
    bare, _, _ = make_crisis_model(tmp_path / "bare.onnx", None)  # exported without its tokenizer
    with pytest.raises(TokenizerError, match=r"bare\.tokenizer.*does not exist"):
        classify_store(store, bare)
    (tmp_path / "bare.tokenizer").mkdir()
    (tmp_path / "bare.tokenizer" / "special_tokens_map.json").write_text("{}")
    with pytest.raises(TokenizerError, match=r"bare\.tokenizer: no tokenizer\.json"):
        classify_store(store, bare)
    (tmp_path / "bare.tokenizer" / "tokenizer.json").write_text("{not json")
    with pytest.raises(TokenizerError, match=r"tokenizer\.json is not a readable tokenizer\.json"):
        predict_images(bare, [tmp_path / "x.jpg"], text="flood")
    assert store.runs("classify") == [] and store.count("predictions") == 0


def _copy_model(crisis, tmp_path, name="m"):
    """The shared model and its tokenizer folder copied into `tmp_path/name/` (the card names the
    folder "crisis.tokenizer"); returns the ONNX path, whose tokenizer folder a test may spoil."""
    path = crisis[0]
    (tmp_path / name).mkdir()
    shutil.copy(path, tmp_path / name / path.name)
    shutil.copytree(path.with_suffix(".tokenizer"), tmp_path / name / "crisis.tokenizer")
    return tmp_path / name / path.name


def test_tokenizer_that_does_not_fit_the_model_is_refused(store, tmp_path, crisis):
    add_photo_posts(store, [("coffee", photo("coffee"))])
    short = _copy_model(crisis, tmp_path, "short")
    make_tokenizer(short.with_suffix(".tokenizer"), model_max_length=8)  # the card says MAX_LENGTH tokens
    with pytest.raises(TokenizerError, match=r"short/crisis\.tokenizer/tokenizer_config\.json: model_max_length is 8"):
        classify_store(store, short)
    big = _copy_model(crisis, tmp_path, "big")
    make_tokenizer(big.with_suffix(".tokenizer"), [" ".join(f"w{i}" for i in range(100))])
    with pytest.raises(TokenizerError, match=r"big/crisis\.tokenizer/tokenizer\.json: the tokenizer has 104 tokens.*"
                                             r"mist\.vocab_size"):
        classify_store(store, big)
    nopad = _copy_model(crisis, tmp_path, "nopad")
    from tokenizers import Tokenizer, models

    Tokenizer(models.WordLevel({"a": 0, "<unk>": 1}, unk_token="<unk>")).save(
        str(nopad.with_suffix(".tokenizer") / "tokenizer.json"))
    (nopad.with_suffix(".tokenizer") / "tokenizer_config.json").unlink()
    with pytest.raises(TokenizerError, match="no padding token"):
        classify_store(store, nopad)
    assert store.runs("classify") == []


def _with_metadata(src, dst, **changes):
    model = onnx.load(str(src))
    for prop in model.metadata_props:
        if prop.key[len("mist."):] in changes:
            prop.value = json.dumps(changes[prop.key[len("mist."):]])
    onnx.save(model, str(dst))
    return dst


@pytest.mark.parametrize("key, value, message", [
    ("tokenizer", "../elsewhere", "'mist.tokenizer' must name the tokenizer folder"),
    ("max_length", 0, "'mist.max_length' must be an integer"),
    ("max_length", "12", "'mist.max_length' must be an integer"),
    ("text_inputs", ["attention_mask"], "'mist.text_inputs' must list input_ids"),
    ("text_inputs", ["input_ids", "token_type_ids"], "'mist.text_inputs' names \\['token_type_ids'\\]"),
])
def test_bad_card_is_a_clear_error(tmp_path, crisis, key, value, message):
    bad = _with_metadata(crisis[0], tmp_path / "bad.onnx", **{key: value})
    with pytest.raises(ModelCardError, match=f"bad.onnx: metadata key {message}"):
        read_card(bad)
    with pytest.raises(ModelCardError, match=message):
        predict_images(bad, [tmp_path / "x.jpg"], text="flood")


def test_fixed_token_length_must_match_the_card(tmp_path, crisis):
    model = onnx.load(str(crisis[0]))
    for graph_input in model.graph.input:
        if graph_input.name in ("input_ids", "attention_mask"):
            graph_input.type.tensor_type.shape.dim[1].dim_value = MAX_LENGTH + 4
    onnx.save(model, str(tmp_path / "fixed.onnx"))
    with pytest.raises(ModelCardError, match=f"'mist.max_length' is {MAX_LENGTH}, but text input 'input_ids' "
                                             f"has a fixed length of {MAX_LENGTH + 4}"):
        read_card(tmp_path / "fixed.onnx")


def test_export_refuses_a_token_limit_beyond_the_position_table(tmp_path):
    with pytest.raises(ValueError, match="max_length 64 must be 2..38"):
        make_crisis_model(tmp_path / "x.onnx", None, max_length=64)


def test_folder_without_tokenizer_json_is_read_by_transformers(tmp_path, crisis):
    """A WordPiece vocab.txt folder (no tokenizer.json) goes through AutoTokenizer, offline."""
    path = _copy_model(crisis, tmp_path, "wp")
    folder = path.with_suffix(".tokenizer")
    for f in folder.iterdir():
        f.unlink()
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "flood", "water", "street", "the", "in", "sunny"]
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer"}))
    image = save_photo(photo("chelsea"), tmp_path / "c.jpg")
    card = read_card(path)
    got = predict_images(path, [image], k=3, text="the flood water in the street")[0]
    pixels = normalise(load_for_model(image, card)[None], card)
    expected = torch_scores(crisis[1], pixels, [2, 8, 5, 6, 9, 8, 7, 3])  # [CLS] the flood water in the street [SEP]
    scores = np.array([dict((t["label"], t["score"]) for t in got["top"])[lab] for lab in card.labels])
    assert np.abs(scores - expected).max() < 1e-4
