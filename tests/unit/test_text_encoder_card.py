"""Text encoders by model card: the real MiniLM export carded as a text encoder, and a tiny
sentence-transformers-style multilingual export (built here: no multilingual weights are
available offline) carded by MIST, found in a model folder and used to screen English and
Chinese posts."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from mist_qgis.core.models import runtime
from mist_qgis.core.models.card import ModelCardError
from mist_qgis.core.models.registry import ModelRegistry
from mist_qgis.core.models.text import TEXT_MODEL_TAG, embed_texts, resolve_text_encoder, text_encoders
from mist_qgis.core.models.text_card import card_text_encoder
from mist_qgis.core.posts.record import PostRecord
from mist_qgis.core.store import text_sql as sql
from mist_qgis.core.text.features import TextFeatureError, dense, encoder_path, is_multilingual
from mist_qgis.core.text.screen import screen_texts
from tests.helpers import built_models
from tests.helpers.text_encoder import DIM, WORDS, tiny_export

REPO = Path(__file__).resolve().parents[2]
def _export_script():
    spec = importlib.util.spec_from_file_location("export_minilm", REPO / "models" / "export_minilm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _store_posts(store, texts):
    with store.batch() as conn:
        store.add_posts(conn, [PostRecord(f"t{i}", "weibo", 114.3, 30.6, text=t) for i, t in enumerate(texts)])
    return {r[1]: r[0] for r in store.query("SELECT fid, post_id FROM posts")}


def test_the_minilm_export_writes_a_text_encoder_card_the_registry_offers(tmp_path):
    """The real all-MiniLM-L6-v2 export, carded by export_minilm.py: task text-encoder, languages,
    pooling, token limit, tokenizer and the weights' sha256; same vectors as before."""
    build = built_models.ensure("all-MiniLM-L6-v2.onnx")
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy2(build / "all-MiniLM-L6-v2.onnx", folder)
    shutil.copytree(build / "all-MiniLM-L6-v2-tokenizer", folder / "all-MiniLM-L6-v2-tokenizer")
    script = _export_script()
    runtime.clear_sessions()
    script.write_card(folder / "all-MiniLM-L6-v2.onnx", "ab" * 32)
    registry = ModelRegistry([("user", folder)])
    [entry] = text_encoders(registry)
    card = entry.card
    assert (card.tag, card.task, card.input_kind) == (TEXT_MODEL_TAG, "text-encoder", "text")
    assert card.languages == ("en",) and card.pooling == "none" and card.extra["max_length"] == 256
    assert card.extra["tokenizer"] == "all-MiniLM-L6-v2-tokenizer" and card.weights_sha256 == "ab" * 32
    assert not is_multilingual(card)
    texts = ["Water is up to the doors on Main Street", "Great coffee downtown", ""]
    got = embed_texts(texts, resolve_text_encoder(folder).path)
    assert np.abs(got - embed_texts(texts)).max() < 1e-5  # the built one (older card) gives the same vectors
    # English only: the multilingual features do not silently fall back on it
    with pytest.raises(TextFeatureError, match="multilingual sentence encoder"):
        encoder_path("multilingual", None, registry)


def test_a_user_exported_multilingual_encoder_plugs_in_by_card(store, tmp_path):
    source, table = tiny_export(tmp_path / "export")
    out = tmp_path / "models"
    path = card_text_encoder(source, out, "tiny-multilingual", ["en", "zh"], licence="MIT")
    assert path == out / "tiny-multilingual.onnx" and (out / "tiny-multilingual-tokenizer" / "tokenizer.json").is_file()
    registry = ModelRegistry([("user", out)])
    [entry] = text_encoders(registry)
    card = entry.card
    assert card.task == "text-encoder" and card.pooling == "mean" and card.languages == ("en", "zh")
    assert card.embedding_dim == DIM and card.extra["max_length"] == 32 and len(card.weights_sha256) == 64
    assert encoder_path("multilingual", None, registry) == entry.path  # picked by its card, not named

    # mean pooling under the mask: padding of a short text in a batch does not change its vector
    one = embed_texts(["flood"], entry.path)
    both = embed_texts(["flood", "the street water flooded"], entry.path)
    assert np.abs(one[0] - both[0]).max() < 1e-6
    want = table[[list(WORDS).index(w) for w in ("the", "street", "water", "flooded")]].mean(axis=0)
    assert np.abs(both[1] - want / np.linalg.norm(want)).max() < 1e-5

    ids = _store_posts(store, ["Street flooded, water everywhere", "街道被洪水淹了", "help! rescue us",
                               "救命 救命", "coffee with the cat", "🌊🌊 https://t.co/x"])
    result = screen_texts(store, "multilingual", encoder=out)
    assert result.feature_model == "tiny-multilingual@1"
    assert result.counts["screened"] == 5 and result.counts["no_text"] == 1
    fids, matrix = sql.load_features(store, "tiny-multilingual@1")
    vectors = dict(zip((int(f) for f in fids), dense(matrix), strict=True))
    assert ids["t5"] not in vectors  # "no text": never embedded
    cos = lambda a, b: float(vectors[ids[a]] @ vectors[ids[b]])  # noqa: E731
    assert cos("t0", "t1") > 0.6 and cos("t2", "t3") > 0.6  # English and Chinese of one meaning agree
    assert cos("t0", "t4") < cos("t0", "t1") - 0.2 and cos("t1", "t3") < cos("t1", "t0")


def test_cls_pooling_and_bad_encoder_cards_are_refused_clearly(tmp_path):
    source, table = tiny_export(tmp_path / "cls", pooling="cls")
    path = card_text_encoder(source, tmp_path / "out", "tiny-cls", ["mul"])
    card = resolve_text_encoder(path).card
    assert card.pooling == "cls" and is_multilingual(card)
    got = embed_texts(["flood coffee"], path)[0]
    assert np.abs(got - table[list(WORDS).index("flood")] / np.linalg.norm(table[list(WORDS).index("flood")])
                  ).max() < 1e-5

    import onnx

    from mist_qgis.core.models.card import PREFIX, embed_card

    def recard(name: str, **extra) -> Path:
        model = onnx.load(str(path))
        base = resolve_text_encoder(path).card
        changed = type(base)(**{**base.__dict__, "extra": {**base.extra, **extra}, "path": None})
        target = tmp_path / "out" / f"{name}.onnx"
        onnx.save(embed_card(model, changed), str(target))
        return target

    for extra, key in (({"pooling": "max"}, "mist.pooling"), ({"languages": []}, "mist.languages"),
                       ({"pooling": "none"}, "mist.pooling")):
        with pytest.raises(ModelCardError, match=key):
            runtime.read_card(recard("bad", **extra))
    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key != PREFIX + "weights_sha256"]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    onnx.save(model, str(tmp_path / "nosha.onnx"))
    with pytest.raises(ModelCardError, match="weights_sha256"):
        runtime.read_card(tmp_path / "nosha.onnx")
    with pytest.raises(ModelCardError, match="not a text encoder"):
        from tests.helpers.modelkit import make_colour_model

        resolve_text_encoder(make_colour_model(tmp_path / "colour.onnx"))
    with pytest.raises(ModelCardError, match="no ONNX graph"):
        card_text_encoder(tmp_path / "empty", tmp_path / "x", "x", ["en"])
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "model.onnx").write_text("an HTML error page saved as a model")
    with pytest.raises(ModelCardError, match="model.onnx is not a readable ONNX model"):
        card_text_encoder(tmp_path / "text", tmp_path / "y", "y", ["en"])
