"""Agreement between analysts and the screening model's quality, checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, cohen_kappa_score, precision_recall_curve

from mist_qgis.core.verify.agreement import agreement, analysts, cohen_kappa
from mist_qgis.core.verify.quality import confusion, counts_over_time, evaluate, pr_curve
from mist_qgis.core.verify.records import VERDICTS, Verdict
from mist_qgis.core.verify.verdicts import write_verdict, write_verdicts
from tests.helpers.verify_store import MODEL, build_store


def test_kappa_matches_scikit_learn():
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.choice(VERDICTS, size=30, p=[0.5, 0.3, 0.2])
        b = np.where(rng.random(30) < 0.7, a, rng.choice(VERDICTS, size=30))
        kappa, observed, reason = cohen_kappa(list(zip(a, b, strict=True)))
        assert kappa == pytest.approx(cohen_kappa_score(a, b, labels=list(VERDICTS)))
        assert observed == pytest.approx(np.mean(a == b)) and reason == ""
    assert cohen_kappa([]) == (None, None, "no item was judged by both analysts")
    kappa, observed, reason = cohen_kappa([("flood", "flood")] * 3)
    assert kappa is None and observed == 1.0 and "same single verdict" in reason


def test_agreement_uses_each_analysts_final_verdict(store):
    data = build_store(store, n=6)
    p, m = data.post_fids, data.media_fids
    ana = ["flood", "flood", "not_flood", "unsure", "flood"]
    ben = ["flood", "not_flood", "not_flood", "unsure", "not_flood"]
    write_verdicts(store, [Verdict(p[i], v, "ana", m[i]) for i, v in enumerate(ana)])
    write_verdicts(store, [Verdict(p[i], v, "ben", m[i]) for i, v in enumerate(ben)])
    write_verdict(store, Verdict(p[4], "not_flood", "ana", m[4]))  # ana changes her mind: no conflict left
    write_verdict(store, Verdict(p[5], "flood", "ana", m[5]))      # only ana judged this one
    result = agreement(store, "ana", "ben")
    final_ana = ana[:4] + ["not_flood"]
    assert result.n_items == 5
    assert result.kappa == pytest.approx(cohen_kappa_score(final_ana, ben, labels=list(VERDICTS)))
    assert [(c.media_fid, c.verdict_a, c.verdict_b) for c in result.conflicts] == [(m[1], "flood", "not_flood")]
    assert result.confusion[("not_flood", "not_flood")] == 2
    assert analysts(store) == [("ana", 7), ("ben", 5)]
    with pytest.raises(ValueError):
        agreement(store, "ana", "ana")


def test_pr_curve_matches_scikit_learn():
    rng = np.random.default_rng(5)
    truth = rng.random(200) < 0.3
    scores = np.round(np.clip(truth * 0.3 + rng.random(200) * 0.7, 0, 1), 2)  # with ties
    curve = pr_curve(scores, truth)
    precision, recall, thresholds = precision_recall_curve(truth, scores)
    assert np.allclose(curve.thresholds, thresholds)
    assert np.allclose(curve.precision, precision[:-1]) and np.allclose(curve.recall, recall[:-1])
    assert curve.average_precision == pytest.approx(average_precision_score(truth, scores))
    assert pr_curve(scores, np.zeros(200, dtype=bool)) is None
    c = confusion(scores, truth, 0.5)
    assert (c.tp, c.fp, c.fn, c.tn) == (
        int(np.sum((scores >= 0.5) & truth)), int(np.sum((scores >= 0.5) & ~truth)),
        int(np.sum((scores < 0.5) & truth)), int(np.sum((scores < 0.5) & ~truth)))
    assert c.precision == pytest.approx(c.tp / (c.tp + c.fp)) and c.accuracy == pytest.approx((c.tp + c.tn) / 200)


def test_evaluation_against_verified_photos(store):
    data = build_store(store, n=8, scores=[0.9, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1, None])
    p, m = data.post_fids, data.media_fids
    verdicts = ["flood", "not_flood", "flood", "flood", "unsure", "not_flood", "not_flood", "flood"]
    write_verdicts(store, [Verdict(p[i], v, "ana", m[i]) for i, v in enumerate(verdicts)],
                   verified_at="2021-07-20T09:15:00.000Z")
    write_verdict(store, Verdict(p[0], "flood", "ben", m[0], 0.5), verified_at="2021-07-21T10:00:00.000Z")
    ev = evaluate(store, MODEL)
    # unsure (index 4) and the unscored photo (index 7) are left out
    assert sorted(ev.scores.tolist()) == [0.1, 0.2, 0.4, 0.6, 0.8, 0.9]
    c = ev.confusion(0.5)
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 1, 2)
    assert ev.pr_curve().average_precision == pytest.approx(
        average_precision_score(ev.truth, ev.scores))
    assert counts_over_time(store) == {
        "2021-07-20": {"flood": 4, "not_flood": 3, "unsure": 1}, "2021-07-21": {"flood": 1}}
    assert list(counts_over_time(store, "hour")) == ["2021-07-20T09", "2021-07-21T10"]
    with pytest.raises(ValueError):
        counts_over_time(store, "week")
