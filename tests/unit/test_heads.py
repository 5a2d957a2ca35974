"""Few-shot heads: training with out-of-fold metrics, ONNX export run by the same runtime, labels
from verifications, screening a store with a head, and active learning."""

from __future__ import annotations

import numpy as np
import pytest

from mist_qgis.core.models import runtime
from mist_qgis.core.models.classify import classify_store
from mist_qgis.core.models.heads import (
    HeadTrainingError,
    export_head,
    head_card,
    labels_from_verifications,
    next_to_verify,
    train_head,
    train_head_from_store,
)
from mist_qgis.core.models.runtime import read_card
from mist_qgis.core.store import models_sql
from mist_qgis.core.store.models_sql import VerifiedMedia
from tests.helpers.modelkit import add_photo_posts, crops, make_colour_model, verdicts_by_blueness


def _blobs(n_per, dim, centres, seed=0):
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for label, (centre, n) in centres.items():
        c = np.zeros(dim)
        c[: len(centre)] = centre
        xs.append(rng.normal(c, 1.0, size=(n, dim)))
        ys += [label] * n
    return np.vstack(xs).astype(np.float32), ys


def test_logreg_head_metrics_threshold_and_onnx_export_agree(tmp_path):
    runtime.clear_sessions()
    x, y = _blobs(0, 16, {"flood": ((3.0,), 60), "not_flood": ((-3.0,), 140)})
    head = train_head(x, y, kind="logreg")
    m = head.metrics
    assert m.folds == 5 and m.n_examples == 200
    assert m.accuracy > 0.95 and m.per_label["flood"].f1 > 0.9 and m.per_label["flood"].support == 60
    assert m.positive_label == "flood" and 0.0 < m.threshold < 1.0 and m.at_threshold.f1 >= m.per_label["flood"].f1
    card = head_card(head, "flood-head", "1", embedding_model="colour@1")
    path = export_head(head, tmp_path / "head.onnx", card)
    loaded = runtime.load_model(path)
    assert loaded.card.thresholds == {"flood": pytest.approx(m.threshold)}
    assert loaded.card.labels == ("flood", "not_flood") and loaded.card.embedding_dim == 16
    assert loaded.card.extra["cv_metrics"]["per_label"]["flood"]["support"] == 60
    onnx_probs = loaded.run(x[:50])["scores"]
    assert np.allclose(onnx_probs, head.probabilities(x[:50]), atol=1e-5)
    assert np.allclose(onnx_probs.sum(axis=1), 1.0, atol=1e-5)


def test_mlp_head_for_three_depth_classes_exports_the_same_function(tmp_path):
    x, y = _blobs(0, 8, {"<0.3m": ((4.0, 0.0), 40), "0.3-1m": ((0.0, 4.0), 40), ">=1m": ((-4.0, -4.0), 40)})
    head = train_head(x, y, kind="mlp", hidden=16)
    assert head.metrics.threshold is None and set(head.metrics.per_label) == {"<0.3m", "0.3-1m", ">=1m"}
    assert head.metrics.macro_f1 > 0.9
    path = export_head(head, tmp_path / "depth.onnx", head_card(head, "depth", "1", embedding_model="e@1"))
    probs = runtime.load_model(path).run(x)["scores"]
    assert np.allclose(probs, head.probabilities(x), atol=1e-5)
    assert read_card(path).labels == head.labels


def test_class_balance_keeps_the_rare_class_found():
    x, y = _blobs(0, 6, {"flood": ((1.5, 1.5), 12), "not_flood": ((-0.5, -0.5), 388)}, seed=3)
    head = train_head(x, y, kind="logreg")
    assert head.metrics.per_label["flood"].recall >= 0.75  # an unweighted fit would favour "not_flood"


@pytest.mark.parametrize(
    "labels, words",
    [(["flood"] * 10, "at least two labels"), (["flood"] * 9 + ["not_flood"], "at least 2 verified")],
)
def test_too_few_examples_are_explained(labels, words):
    with pytest.raises(HeadTrainingError, match=words):
        train_head(np.ones((10, 4), np.float32), labels)


def test_nan_features_are_refused():
    x = np.ones((10, 4), np.float32)
    x[3, 1] = np.nan
    with pytest.raises(HeadTrainingError, match="NaN"):
        train_head(x, ["a", "b"] * 5)


def test_label_schemes():
    v = [
        VerifiedMedia(1, 1, "flood", 0.1, "Minor damage\nmore", "ann", "t"),
        VerifiedMedia(2, 2, "flood", 0.5, None, "ann", "t"),
        VerifiedMedia(3, 3, "flood", 2.0, "severe", "ann", "t"),
        VerifiedMedia(4, 4, "not_flood", None, "", "ann", "t"),
        VerifiedMedia(5, 5, "unsure", None, "x", "ann", "t"),
        VerifiedMedia(6, 6, "flood", None, None, "ann", "t"),
    ]
    assert labels_from_verifications(v) == {1: "flood", 2: "flood", 3: "flood", 4: "not_flood", 6: "flood"}
    assert labels_from_verifications(v, "depth") == {1: "<0.3m", 2: "0.3-1m", 3: ">=1m", 4: "no_flood"}
    assert labels_from_verifications(v, "note") == {1: "minor damage", 3: "severe", 5: "x"}


def test_store_loop_train_screen_and_suggest(store, tmp_path):
    runtime.clear_sessions()
    colour = make_colour_model(tmp_path / "colour.onnx")
    fids = add_photo_posts(store, crops(48))
    classify_store(store, colour)  # caches colour@1 embeddings on the way
    _, all_emb = models_sql.load_embeddings(store, "colour@1")
    unit = all_emb / np.linalg.norm(all_emb, axis=1, keepdims=True)
    cut = float(np.median(unit[:, 2] - unit[:, 0]))

    def rule(e):  # heads read L2-normalised embeddings, so the analyst's rule is one of direction
        u = e / np.linalg.norm(e)
        return u[2] - u[0] > cut

    verdicts_by_blueness(store, fids[:30])  # the same rule, as an analyst would give it
    with store.batch() as conn:  # a later "unsure" on a photo does not train
        conn.execute("INSERT INTO verifications (post_fid, media_fid, verdict, analyst, verified_at) "
                     "SELECT post_fid, fid, 'unsure', 'bob', '2024-01-02T00:00:00Z' FROM media WHERE fid = ?",
                     (fids[0],))
    result = train_head_from_store(store, tmp_path / "head.onnx", image_model="colour@1", version="1")
    assert result.metrics.n_examples == 29 and result.card.tag == "flood-head@1"
    assert result.metrics.accuracy >= 0.8
    assert store.runs("train_head")[-1].status == "done"
    screened = classify_store(store, result.path)
    assert screened.classified == 48 and screened.status == "done"
    labels = {r["media_fid"]: r for r in models_sql.predictions(store, "flood-head@1")}
    _, emb = models_sql.load_embeddings(store, "colour@1", fids[30:])
    truth = [rule(e) for e in emb]
    decided = [store.scalar("SELECT cls_label FROM posts p JOIN media m ON m.post_fid = p.fid WHERE m.fid = ?",
                            (f,)) == "flood" for f in fids[30:]]
    agreement = np.mean(np.array(truth) == np.array(decided))
    print("held-out agreement", agreement, "cv accuracy", result.metrics.accuracy)
    assert agreement >= 0.75 and len(labels) == 48
    suggestions = next_to_verify(store, result.path, n=8, random_share=0.25, seed=1)
    assert len(suggestions) == 8
    assert [s.reason for s in suggestions].count("random") == 2
    verified = set(fids[:30])
    assert all(s.media_fid not in verified or s.media_fid == fids[0] for s in suggestions)
    uncertain = [s.uncertainty for s in suggestions if s.reason == "uncertain"]
    assert uncertain == sorted(uncertain, reverse=True)


def test_head_computes_missing_embeddings_with_its_backbone(store, tmp_path):
    runtime.clear_sessions()
    colour = make_colour_model(tmp_path / "colour.onnx")
    x, y = _blobs(0, 3, {"flood": ((1.0,), 10), "not_flood": ((-1.0,), 10)})
    head = train_head(x, y, test_skill=False)  # what is tested here is the embeddings, not the head's skill
    path = export_head(head, tmp_path / "h.onnx", head_card(head, "h", "1", embedding_model="colour@1"))
    add_photo_posts(store, crops(5))
    from mist_qgis.core.models.card import ModelCardError

    with pytest.raises(ModelCardError, match="5 photos have no embedding from colour@1"):
        classify_store(store, path)
    result = classify_store(store, path, resolve_model=lambda tag: colour)
    assert result.classified == 5 and store.count("embeddings", "model = 'colour@1'") == 5


def test_inseparable_scores_keep_the_balanced_threshold_instead_of_flagging_everything():
    """Out-of-fold scores that rank both negatives above both positives: the best F1 is "call
    everything flood", which tuning would turn into a threshold of 0.2 (every photo flood). The
    head keeps its balanced 0.5 and reports the metrics at 0.5 as they are."""
    from mist_qgis.core.models.heads import _best_threshold

    p_pos = np.array([0.9, 0.8, 0.3, 0.2])
    is_pos = np.array([False, False, True, True])
    threshold, metrics = _best_threshold(p_pos, is_pos)
    assert threshold == 0.5
    assert (metrics.precision, metrics.recall, metrics.f1) == (0.0, 0.0, 0.0)
    # Separable scores are still tuned between the classes.
    threshold, metrics = _best_threshold(np.array([0.9, 0.7, 0.4, 0.1]), np.array([True, True, False, False]))
    assert threshold == 0.55 and metrics.f1 == 1.0


@pytest.mark.parametrize("max_iter", [30, 500])
def test_sparse_heads_fit_in_the_row_space_to_the_same_model(max_iter):
    """Fitting sparse n-grams on their row-space coordinates gives the logistic regression that
    fitting them directly gives (capped budgets included), repeated rows too."""
    import warnings

    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from mist_qgis.core.models.heads import _fit

    rng = np.random.default_rng(3)
    base = sp.random(90, 2 ** 15, density=0.003, random_state=4, format="csr", dtype=np.float32)
    x = sp.vstack([base, base[:30]]).tocsr()  # repeated posts: the rows are not independent
    y = np.concatenate([(rng.random(90) < 0.4).astype(int)] * 2)[:120]
    layers = _fit("logreg", x, y, 2, 0, 1.0, 0, max_iter)
    w, b = layers[0][0][1], layers[0][1][1]
    direct = LogisticRegression(C=1.0, class_weight="balanced", max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct.fit(x, y)
    mine, theirs = x @ w + b, direct.decision_function(x)
    assert np.abs(mine - theirs).max() < 0.02 * np.abs(theirs).max()
    assert np.abs(w - direct.coef_[0]).max() < 0.02 * np.abs(direct.coef_[0]).max()


def test_sparse_heads_cross_validate_and_test_skill_in_the_row_space_as_on_the_features():
    """The folds and the skill test of a sparse head run on rows of one set of row-space
    coordinates; their metrics are those of the same head trained on the features themselves."""
    import scipy.sparse as sp

    rng = np.random.default_rng(5)
    words = sp.random(120, 20, density=0.5, random_state=6, format="csr", dtype=np.float32)
    x = sp.hstack([words, sp.random(120, 4076, density=0.01, random_state=7, dtype=np.float32)]).tocsr()
    signal = np.asarray(words.sum(axis=1)).ravel()
    labels = ["flood" if v > np.median(signal) else "not_flood" for v in signal + rng.normal(0, 0.05, 120)]
    sparse_head = train_head(x, labels, positive="flood", c=4.0)
    dense_head = train_head(x.toarray(), labels, positive="flood", c=4.0, standardise=False)
    a, b = sparse_head.metrics, dense_head.metrics
    assert a.skill.usable and b.skill.usable
    assert abs(a.skill.auc - b.skill.auc) < 1e-3 and abs(a.skill.null_mean - b.skill.null_mean) < 1e-3
    assert abs(a.spread["auc"].mean - b.spread["auc"].mean) < 1e-3
    assert abs(a.threshold - b.threshold) < 1e-2 and abs(a.macro_f1 - b.macro_f1) < 1e-2
    probe = x[:10]
    assert np.allclose(sparse_head.probabilities(probe), dense_head.probabilities(probe.toarray()), atol=5e-3)


def test_category_heads_share_one_row_space_and_train_as_heads_trained_alone(monkeypatch):
    """The heads of several text categories train on one matrix: its row space is computed once
    for all of them, and each head is bit for bit the head `train_head` gives on its own."""
    import scipy.sparse as sp

    from mist_qgis.core.models.heads import RowSpace
    from mist_qgis.core.text.heads import OTHER, binary_labels, train_category_heads

    rng = np.random.default_rng(8)
    words = sp.random(80, 30, density=0.4, random_state=9, format="csr", dtype=np.float32)
    x = sp.hstack([words, sp.random(80, 2000, density=0.01, random_state=10, dtype=np.float32)]).tocsr()
    dense_words = words.toarray()
    blocks = {"flood": slice(0, 10), "rescue": slice(10, 20), "damage": slice(20, 30)}
    medians = {cat: np.median(dense_words[:, cols].sum(axis=1)) for cat, cols in blocks.items()}
    label_sets = [tuple(cat for cat, cols in blocks.items()
                        if dense_words[i, cols].sum() + rng.normal(0, 0.1) > medians[cat]) for i in range(80)]
    categories = ["flood", "rescue", "damage"]
    of = RowSpace.of.__func__
    calls = []
    monkeypatch.setattr(RowSpace, "of", classmethod(lambda cls, m: calls.append(m.shape) or of(cls, m)))
    shared, skipped = train_category_heads(x, label_sets, categories)
    assert not skipped and sorted(shared) == sorted(categories)
    assert calls == [x.shape]  # one eigendecomposition for the three heads
    probe = x[:25]
    for cat in categories:
        alone = train_head(x, binary_labels(label_sets, cat), positive=cat, c=10.0)
        head = shared[cat].head
        assert head.labels == alone.labels == tuple(sorted((cat, OTHER)))
        for (w, b), (w2, b2) in zip(head.layers, alone.layers, strict=True):
            assert np.array_equal(w, w2) and np.array_equal(b, b2)
        assert np.array_equal(head.probabilities(probe), alone.probabilities(probe))
        assert head.metrics.threshold == alone.metrics.threshold
        assert head.metrics.skill == alone.metrics.skill and head.metrics.skill.usable
        assert head.metrics == alone.metrics
    assert len(calls) == 1 + len(categories)  # each head alone decomposes the features again
