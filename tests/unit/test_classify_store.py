"""Batch screening of a store's real photos: results per batch, skips with reasons, resume, cancel."""

from __future__ import annotations

import numpy as np
import pytest

from mist_qgis.core.models import runtime
from mist_qgis.core.models.card import ModelCardError
from mist_qgis.core.models.classify import classify_store, predict_images
from mist_qgis.core.models.embeddings import embed_photos
from mist_qgis.core.models.preprocess import load_for_model
from mist_qgis.core.store import models_sql
from tests.helpers.modelkit import PHOTO_NAMES, add_photo_posts, colour_card, make_colour_model, photo


@pytest.fixture
def model(tmp_path):
    runtime.clear_sessions()
    return make_colour_model(tmp_path / "colour.onnx")


def _expected_label(store, media_fid):
    """Closed form of the colour model: the dominant normalised channel of the resized photo."""
    rel = store.scalar("SELECT cache_path FROM media WHERE fid = ?", (media_fid,))
    pixels = load_for_model(store.media_file(rel), colour_card()).astype(np.float64) / 255.0
    return ("red", "green", "blue")[int(np.argmax(pixels.reshape(-1, 3).mean(axis=0)))]


def test_classifies_every_ok_photo_and_records_bad_ones(store, model):
    photos = [(n, photo(n)) for n in PHOTO_NAMES]
    bad = [("text", b"just some text, not a photo\n" * 20), ("missing", None), ("empty", b"")]
    fids = add_photo_posts(store, photos + bad)
    with store.batch() as conn:  # a pending photo is not screened
        conn.execute("UPDATE media SET status = 'pending' WHERE fid = ?", (fids[-1],))
    result = classify_store(store, model, batch_size=4, k=2)
    assert result.status == "done" and result.model == "colour@1"
    assert (result.classified, result.skipped, result.embeddings) == (6, 2, 6)
    rows = models_sql.predictions(store, "colour@1")
    assert len(rows) == 12 and {r["run_fid"] for r in rows} == {result.run_id}
    for fid in fids[:6]:
        best = max((r for r in rows if r["media_fid"] == fid), key=lambda r: r["score"])
        assert best["label"] == _expected_label(store, fid)
    posts = {r["cls_label"] for r in store.query("SELECT cls_label FROM posts WHERE cls_model = 'colour@1'")}
    assert posts <= {"red", "green", "blue"}
    assert store.count("posts", "cls_model = 'colour@1'") == 6
    reasons = [r["reason"] for r in store.issues_for_run(result.run_id)]
    assert len(reasons) == 2 and any("not an image" in r for r in reasons) and any("missing" in r for r in reasons)
    run = store.runs("classify")[-1]
    assert run.status == "done" and run.counts == {"classified": 6, "skipped": 2, "embeddings": 6}
    fids_emb, matrix = models_sql.load_embeddings(store, "colour@1")
    assert list(fids_emb) == fids[:6] and matrix.shape == (6, 3)


def test_cancel_then_resume_classifies_each_photo_once(store, model):
    add_photo_posts(store, [(n, photo(n)) for n in PHOTO_NAMES])
    calls = {"n": 0}

    def cancel_after_first_batch():
        calls["n"] += 1
        return calls["n"] > 1

    first = classify_store(store, model, batch_size=2, is_cancelled=cancel_after_first_batch)
    assert first.status == "cancelled" and first.classified == 2
    assert store.runs("classify")[-1].status == "cancelled"
    progress = []
    second = classify_store(store, model, batch_size=2, progress=progress.append)
    assert second.status == "done" and second.classified == 4
    assert progress[0] == 0.0 and progress[-1] == 100.0 and progress == sorted(progress)
    counts = store.query("SELECT media_fid, count(DISTINCT run_fid) AS runs FROM predictions GROUP BY media_fid")
    assert len(counts) == 6 and all(r["runs"] == 1 for r in counts)
    assert classify_store(store, model).classified == 0  # nothing left


def test_a_hostile_cache_path_is_skipped(store, model):
    fids = add_photo_posts(store, [("coffee", photo("coffee"))])
    with store.batch() as conn:
        conn.execute("UPDATE media SET cache_path = '../../etc/passwd' WHERE fid = ?", (fids[0],))
    result = classify_store(store, model)
    assert result.skipped == 1 and "escapes the media folder" in store.issues_for_run(result.run_id)[0]["reason"]


def test_mismatched_model_fails_before_a_run_starts(store, tmp_path):
    add_photo_posts(store, [("coffee", photo("coffee"))])
    bad = make_colour_model(tmp_path / "bad.onnx", colour_card(), input_shape=[1, 3, 64, 64])
    with pytest.raises(ModelCardError, match="input_size"):
        classify_store(store, bad)
    assert store.runs("classify") == [] and store.count("predictions") == 0


def test_thresholds_decide_the_post_label(store, tmp_path):
    add_photo_posts(store, [("coffee", photo("coffee"))])
    strict = make_colour_model(tmp_path / "strict.onnx", colour_card(id="strict", thresholds={"red": 0.999}))
    classify_store(store, strict)
    label = store.scalar("SELECT cls_label FROM posts WHERE cls_model = 'strict@1'")
    assert label in ("green", "blue")  # red is the top score but below its calibrated threshold


def test_embed_photos_is_resumable_and_skips_bad_files(store, model):
    add_photo_posts(store, [("coffee", photo("coffee")), ("bad", b"\xff\xd8\xff\xe0 broken jpeg")])
    first = embed_photos(store, model)
    assert (first.embedded, first.skipped, first.status) == (1, 1, "done")
    assert embed_photos(store, model).embedded == 0


def test_predict_images_top_k(tmp_path, model):
    from tests.helpers.modelkit import save_photo

    good = save_photo(photo("rocket"), tmp_path / "r.jpg")
    out = predict_images(model, [good, tmp_path / "nope.jpg"], k=2)
    assert out[0]["label"] in ("red", "green", "blue") and len(out[0]["top"]) == 2
    assert out[0]["top"][0]["score"] >= out[0]["top"][1]["score"]
    assert "missing" in out[1]["error"]
