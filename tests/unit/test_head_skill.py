"""A head trained on labels without signal is never silently usable; one with signal trains, and
its cross-validated metrics carry their spread over repeated splits."""

from __future__ import annotations

import numpy as np
import pytest

from mist_qgis.core.models import runtime
from mist_qgis.core.models.classify import classify_store
from mist_qgis.core.models.heads import NoSkillError, export_head, head_card, train_head
from mist_qgis.core.store import models_sql as sql
from tests.helpers.modelkit import PHOTO_NAMES, add_photo_posts, make_colour_model, photo


def _embeddings(rng: np.random.Generator, n: int = 80, dim: int = 256) -> np.ndarray:
    """Unit vectors in a few clusters, non-negative like pooled CNN features: the structure that lets
    random labels line up with clusters by chance, which a naive test mistakes for skill."""
    centres = rng.normal(size=(8, dim))
    x = np.maximum(centres[rng.integers(0, 8, n)] + 0.7 * rng.normal(size=(n, dim)), 0.0)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("trial", range(12))
def test_random_labels_never_give_a_silently_usable_head(tmp_path, trial):
    rng = np.random.default_rng(1000 + trial)
    x = _embeddings(rng)
    labels = np.array(["not_flood"] * 80, dtype=object)
    labels[rng.choice(80, int(rng.integers(20, 61)), replace=False)] = "flood"
    head = train_head(x, list(labels))
    card = head_card(head, "random-head", "1", embedding_model="e@1")
    # the head is written marked "no skill" without the tuned cut that would flag most photos
    assert card.thresholds == {}
    assert card.extra["skill"]["usable"] is False and "no skill beyond chance" in card.extra["skill"]["message"]
    assert head.metrics.summary().startswith("no skill beyond chance: cross-validated AUC")


def test_labels_with_signal_train_a_usable_head_with_the_spread_of_its_metrics():
    rng = np.random.default_rng(7)
    x = _embeddings(rng)
    direction = rng.normal(size=x.shape[1])
    score = x @ direction
    labels = ["flood" if s > np.median(score) else "not_flood" for s in score]
    head = train_head(x, labels)
    m = head.metrics
    assert m.usable and m.skill.auc > m.skill.bound and m.skill.p_value < 0.01
    assert m.repeats == 5 and m.folds == 5
    for key in ("precision", "recall", "f1", "threshold", "accuracy", "macro_f1", "auc"):
        spread = m.spread[key]
        assert spread.low <= spread.mean <= spread.high and spread.sd >= 0.0
    assert m.spread["f1"].sd > 0.0  # repeated splits really differ
    assert m.at_threshold.f1 == pytest.approx(m.spread["f1"].mean)
    card = head_card(head, "signal-head", "1", embedding_model="e@1")
    assert card.thresholds == {"flood": pytest.approx(m.threshold)}
    cv = card.extra["cv_metrics"]
    assert set(cv["spread"]["precision"]) == {"mean", "sd", "min", "max"} and cv["skill"]["usable"] is True
    assert "±" in m.summary() and "over 5 x 5-fold splits" in m.summary()


def test_screening_refuses_a_head_without_skill_unless_allowed(store, tmp_path):
    runtime.clear_sessions()
    colour = make_colour_model(tmp_path / "colour.onnx")
    photos = [(f"p{i}", np.ascontiguousarray(photo(PHOTO_NAMES[i % len(PHOTO_NAMES)])[i:i + 90, i:i + 90]))
              for i in range(12)]
    add_photo_posts(store, photos)
    classify_store(store, colour)  # caches colour@1 embeddings
    _, emb = sql.load_embeddings(store, "colour@1")
    rng = np.random.default_rng(3)
    head = train_head(rng.normal(size=(40, emb.shape[1])).astype(np.float32),
                      list(rng.permutation(["flood"] * 20 + ["not_flood"] * 20)))
    assert not head.metrics.usable
    path = export_head(head, tmp_path / "h.onnx", head_card(head, "h", "1", embedding_model="colour@1"))
    with pytest.raises(NoSkillError, match=r"h@1: no skill beyond chance: .* verify more photos.* explicitly"):
        classify_store(store, path)
    assert store.count("predictions", "model = 'h@1'") == 0
    result = classify_store(store, path, allow_no_skill=True)
    assert result.classified == 12 and len(result.warnings) == 1 and "without skill" in result.warnings[0]
    assert "without skill" in store.runs("classify")[-1].message
