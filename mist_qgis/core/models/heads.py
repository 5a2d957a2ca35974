"""Few-shot screening heads trained from the analysts' verified photos.

The screening paper's lesson is that a flood classifier is only as good as its training set and
that analysts' verified photos are the fix. A head is a class-balanced logistic regression (or a
small MLP) on cached embeddings, for any label set (flood / not flood, water-depth classes, a
damage scale typed in the note). Precision, recall and F1 are cross-validated over repeated
stratified splits and reported with their spread (a few dozen examples move a lot with the split),
with a threshold calibrated on out-of-fold probabilities.

Before a head is trusted to screen, a permutation test asks whether cross-validation shows any
skill beyond chance: the out-of-fold ROC AUC of the labels against the same cross-validation run
on shuffled labels (`SkillTest`). A head without skill is still written, for the record and for
"what to verify next", but marked "no skill" with no tuned threshold, and screening a store with
it is refused unless asked for explicitly. Labels without signal otherwise give a tuned threshold
near 0 that flags most photos as flood.

The head is exported as a plain ONNX graph
(Gemm [+ Relu + Gemm] + Softmax, the feature scaler folded into the first Gemm) carrying its card,
so the same runtime runs it and another team can use it.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import options
from ..errors import MistError
from ..stage import run_stage
from .card import ModelCard, embed_card

if TYPE_CHECKING:
    import numpy as np

    from ..store import Store
    from ..store.models_sql import VerifiedMedia

HEAD_KINDS = options.HEAD_KINDS.names
LABEL_SCHEMES = options.LABEL_SCHEMES.names
DEFAULT_DEPTH_BINS = (0.3, 1.0)
POSITIVE_DEFAULT = "flood"
# Repeated stratified splits per head kind (2 from 1,000 examples on, where one split already holds
# hundreds). An MLP fit costs about ten logistic ones, so it gets fewer: training stays within seconds.
CV_REPEATS = {"logreg": 5, "mlp": 3}
SKILL_PERMUTATIONS = 19  # shuffled-label cross-validations forming the chance baseline
SKILL_ALPHA = 0.01  # a head without skill passes the test at most this often
SKILL_MAX_EXAMPLES = 400  # larger sets are tested on a stratified subsample, to keep training in seconds
SKILL_MAX_ITER = 30  # optimiser budget of the test's logistic fits (shuffled labels otherwise run to 500)


class HeadTrainingError(MistError, ValueError):
    """Not enough or unusable verified examples; the message says what the analyst can do."""


class NoSkillError(HeadTrainingError, MistError):
    """Screening with a head whose training showed no skill beyond chance, without asking for it."""


@dataclass
class LabelMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Spread:
    """How a cross-validated figure moves over repeated splits."""

    mean: float
    sd: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        import numpy as np

        v = np.asarray(values, dtype=np.float64)
        return cls(float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0, float(v.min()), float(v.max()))

    def as_dict(self) -> dict[str, float]:
        return {"mean": round(self.mean, 4), "sd": round(self.sd, 4), "min": round(self.low, 4),
                "max": round(self.high, 4)}

    def text(self) -> str:
        return f"{self.mean:.2f} ± {self.sd:.2f}"


@dataclass
class SkillTest:
    """Does cross-validation show skill beyond chance? A permutation test: the out-of-fold ROC AUC
    (macro one-vs-rest for more than two labels) of a fixed logistic procedure (`_skill_test`)
    against the AUCs of the same cross-validation on shuffled labels. Skill means the AUC is above the upper (1 - alpha)
    prediction bound of that chance baseline (Student t over the shuffled runs), so a head trained on
    labels without signal passes at most `alpha` of the time, whatever the embeddings' structure."""

    auc: float
    null_mean: float
    null_sd: float
    permutations: int
    bound: float
    p_value: float
    alpha: float
    examples: int

    @property
    def usable(self) -> bool:
        return self.auc > self.bound

    def message(self) -> str:
        if self.usable:
            return (f"skill beyond chance: cross-validated AUC {self.auc:.2f} against {self.null_mean:.2f} ± "
                    f"{self.null_sd:.2f} with shuffled labels (p = {self.p_value:.2g}, {self.examples} examples)")
        # The bound is a prediction bound, not an AUC: with few, noisy shuffled runs it can pass 1.
        reach = (f"chance alone reaches {self.bound:.2f}" if self.bound < 1.0
                 else "with so few examples even a perfect AUC of 1.00 could be chance")
        return (f"no skill beyond chance: cross-validated AUC {self.auc:.2f}, while shuffled labels give "
                f"{self.null_mean:.2f} ± {self.null_sd:.2f} and {reach} "
                f"(p = {self.p_value:.2g}, {self.examples} examples); verify more photos, flood and not flood, "
                "and train again")

    def as_dict(self) -> dict[str, Any]:
        return {"usable": self.usable, "auc": round(self.auc, 4), "null_auc_mean": round(self.null_mean, 4),
                "null_auc_sd": round(self.null_sd, 4), "bound": round(self.bound, 4),
                "p_value": round(self.p_value, 4), "alpha": self.alpha, "permutations": self.permutations,
                "examples": self.examples, "message": self.message()}


@dataclass
class HeadMetrics:
    """Out-of-fold metrics: every example is scored by a head that never saw it. Figures are means
    over `repeats` stratified splits; `spread` says how much they move between splits."""

    folds: int
    n_examples: int
    accuracy: float
    macro_f1: float
    per_label: dict[str, LabelMetrics]
    positive_label: str | None = None
    threshold: float | None = None  # calibrated on out-of-fold probabilities (max F1; median over splits)
    at_threshold: LabelMetrics | None = None
    repeats: int = 1
    spread: dict[str, Spread] = field(default_factory=dict)
    skill: SkillTest | None = None

    @property
    def usable(self) -> bool:
        """False when cross-validation showed no skill beyond chance."""
        return self.skill is None or self.skill.usable

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "folds": self.folds, "repeats": self.repeats, "n_examples": self.n_examples,
            "accuracy": round(self.accuracy, 4), "macro_f1": round(self.macro_f1, 4),
            "per_label": {k: {"precision": round(v.precision, 4), "recall": round(v.recall, 4),
                              "f1": round(v.f1, 4), "support": v.support} for k, v in self.per_label.items()},
        }
        if self.positive_label is not None:
            out["positive_label"] = self.positive_label
            out["threshold"] = None if self.threshold is None else round(self.threshold, 4)
            if self.at_threshold:
                m = self.at_threshold
                out["at_threshold"] = {"precision": round(m.precision, 4), "recall": round(m.recall, 4),
                                       "f1": round(m.f1, 4), "support": m.support}
        out["spread"] = {k: v.as_dict() for k, v in self.spread.items()}
        if self.skill is not None:
            out["skill"] = self.skill.as_dict()
        return out

    def summary(self) -> str:
        """One plain line for logs and the command line: skill first, then the metrics with spread."""
        parts = [self.skill.message()] if self.skill is not None else []
        if not self.usable:
            parts.append("the head is written marked 'no skill', without a tuned threshold, and screening "
                         "refuses it unless allowed")
        sp = self.spread
        if self.positive_label is not None and {"precision", "recall", "f1", "threshold"} <= sp.keys():
            parts.append(f"{self.positive_label} at threshold {sp['threshold'].text()}: precision "
                         f"{sp['precision'].text()}, recall {sp['recall'].text()}, F1 {sp['f1'].text()} "
                         f"over {self.repeats} x {self.folds}-fold splits")
        elif "macro_f1" in sp:
            parts.append(f"macro F1 {sp['macro_f1'].text()} over {self.repeats} x {self.folds}-fold splits")
        return "; ".join(parts)


@dataclass
class TrainedHead:
    """Layers in the original feature space: [(W (out x in), b)], Relu between layers, Softmax last."""

    labels: tuple[str, ...]
    kind: str
    layers: list[tuple[np.ndarray, np.ndarray]]
    metrics: HeadMetrics
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.layers[0][0].shape[1])

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """The same arithmetic as the exported ONNX graph, in NumPy."""
        import numpy as np

        # sparse rows (hashed text n-grams) multiply as they are
        x = features if hasattr(features, "tocsr") else np.asarray(features, dtype=np.float32)
        for i, (w, b) in enumerate(self.layers):
            x = x @ w.T + b
            if i < len(self.layers) - 1:
                x = np.maximum(x, 0)
        x = x - x.max(axis=1, keepdims=True)
        e = np.exp(x)
        return e / e.sum(axis=1, keepdims=True)


# -- labels from verifications ---------------------------------------------------------------


def labels_from_verifications(
    verified: Sequence[VerifiedMedia], scheme: str = "verdict", depth_bins: Sequence[float] = DEFAULT_DEPTH_BINS,
) -> dict[int, str]:
    """media fid -> training label under a scheme.

    verdict: flood / not_flood ("unsure" is left out). depth: not_flood photos are "no_flood",
    flood photos with a water depth fall into bins such as "<0.3m", "0.3-1m", ">=1m". note: the
    first line of the analyst's note (lower-cased) is the label, for teams that type a damage
    class there.
    """
    if scheme not in LABEL_SCHEMES:
        raise ValueError(f"unknown label scheme {scheme!r} ({', '.join(LABEL_SCHEMES)})")
    bins = sorted(float(b) for b in depth_bins)
    out: dict[int, str] = {}
    for v in verified:
        label: str | None = None
        if scheme == "verdict":
            label = v.verdict if v.verdict in ("flood", "not_flood") else None
        elif scheme == "depth":
            if v.verdict == "not_flood":
                label = "no_flood"
            elif v.verdict == "flood" and v.water_depth_m is not None:
                label = depth_class(float(v.water_depth_m), bins)
        else:
            text = (v.note or "").strip().splitlines()
            label = text[0].strip().lower()[:60] if text and text[0].strip() else None
        if label:
            out[v.media_fid] = label
    return out


def depth_class(depth_m: float, bins: Sequence[float]) -> str:
    def fmt(x: float) -> str:
        return f"{x:g}m"

    if not bins or depth_m < bins[0]:
        return f"<{fmt(bins[0])}" if bins else "flood"
    for lo, hi in zip(bins, bins[1:], strict=False):
        if lo <= depth_m < hi:
            return f"{lo:g}-{fmt(hi)}"
    return f">={fmt(bins[-1])}"


# -- training ---------------------------------------------------------------------------------


@dataclass
class RowSpace:
    """Coordinates of N sparse examples in the span of their own feature vectors, for N < d.

    An L2-penalised logistic regression's weights lie in the span of the training rows (every
    gradient is a combination of them, and the optimiser starts at zero), so fitting on any
    N x r coordinates Z with Z Z^T = X X^T gives the same model as fitting on X itself, N x d:
    X = Z Q^T with orthonormal Q, and w = Q beta. L-BFGS takes the same steps in either basis (it
    is built from gradients and inner products), capped budgets included. With a few hundred
    examples of hashed n-grams (sparse, d = 2^18) every fit then works on a small dense matrix
    instead of transposing a sparse one at every step: several times faster. (Dense embeddings
    gain nothing: their fits are already fast.)

    Z = U sqrt(L) from the Gram matrix's eigendecomposition X X^T = U L U^T, which also copes
    with rows that are not independent (repeated posts)."""

    x: Any
    u: np.ndarray
    root: np.ndarray

    @property
    def coords(self) -> np.ndarray:
        """Z, N x r. The coordinates of any subset of the rows are those rows' coordinates in the
        same basis, so cross-validation folds and the skill test's subsample fit on rows of Z."""
        return self.u * self.root[None, :]

    @classmethod
    def of(cls, x) -> RowSpace:
        import numpy as np

        x = x.astype(np.float64)
        gram = x @ x.T
        gram = np.asarray(gram.todense() if hasattr(gram, "todense") else gram)
        vals, vecs = np.linalg.eigh(gram)
        keep = vals > max(float(vals[-1]), 0.0) * 1e-10  # directions the rows do not span carry no weight
        return cls(x, vecs[:, keep], np.sqrt(vals[keep]))

    def lift(self, beta: np.ndarray) -> np.ndarray:
        """Weights on the coordinates -> the same weights on the original d features (w = alpha X)."""
        import numpy as np

        alpha = (beta / self.root[None, :]) @ self.u.T
        return np.asarray((self.x.T @ alpha.T).T, dtype=np.float64)


def _row_space(x) -> RowSpace | None:
    """The row space of sparse features with fewer rows than columns, where fits are faster."""
    return RowSpace.of(x) if hasattr(x, "tocsr") and x.shape[0] < x.shape[1] else None


def _training_matrix(features):
    """Features as `train_head` fits them: float32 CSR for sparse rows, a float32 array otherwise."""
    import numpy as np

    if hasattr(features, "tocsr"):
        return features.tocsr().astype(np.float32)
    return np.asarray(features, dtype=np.float32)  # float32 halves the memory traffic of every fit


def shared_row_space(features) -> RowSpace | None:
    """The row space `train_head` would compute for these features (None where it computes none),
    for callers training several heads on one matrix (one per text category): the basis depends on
    the features alone, so one eigendecomposition serves every head."""
    return _row_space(_training_matrix(features))


def _fit(kind: str, x: np.ndarray | RowSpace, y: np.ndarray, n_classes: int, seed: int, c: float, hidden: int,
         max_iter: int = 500):
    """Fit on standardised features; returns [(W, b)] in the standardised space, 2+ outputs.
    A `RowSpace` is taken by logistic heads only (an MLP's first layer starts random, off it)."""
    import numpy as np

    if kind == "logreg":
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, class_weight="balanced", max_iter=max_iter)
        basis = x if isinstance(x, RowSpace) else _row_space(x)
        with warnings.catch_warnings():  # a capped budget is deliberate where it is lowered (the skill test)
            if max_iter < 500:
                warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(basis.coords if basis is not None else x, y)
        w, b = model.coef_.astype(np.float64), model.intercept_.astype(np.float64)
        if basis is not None:
            w = basis.lift(w)
        if n_classes == 2:  # softmax([0, z]) == sigmoid(z)
            w = np.vstack([np.zeros_like(w), w])
            b = np.array([0.0, b[0]])
        return [(w, b)]
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(seed)
    counts = np.bincount(y, minlength=n_classes)
    idx = np.concatenate([  # class balance by resampling: MLPClassifier has no class weights
        rng.choice(np.flatnonzero(y == k), size=counts.max(), replace=counts[k] < counts.max())
        for k in range(n_classes) if counts[k]
    ])
    model = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=1e-3, max_iter=300, early_stopping=False,
                          random_state=seed)
    with warnings.catch_warnings():  # a fixed training budget is the point: retraining must take seconds
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x[idx], y[idx])
    (w1, w2), (b1, b2) = model.coefs_, model.intercepts_
    w1, w2 = w1.T.astype(np.float64), w2.T.astype(np.float64)
    if n_classes == 2:
        w2 = np.vstack([np.zeros_like(w2), w2])
        b2 = np.array([0.0, b2[0]])
    return [(w1, b1.astype(np.float64)), (w2, b2)]


def _fold_scaler(layers, mean: np.ndarray, scale: np.ndarray):
    """Move standardisation (x - mean) / scale into the first layer, so the graph reads raw features."""
    import numpy as np

    w, b = layers[0]
    w2 = w / scale[None, :]
    b2 = b - w2 @ mean
    return [(w2.astype(np.float32), b2.astype(np.float32))] + [
        (np.asarray(w, np.float32), np.asarray(b, np.float32)) for w, b in layers[1:]
    ]


def _train_once(kind, x, y, n_classes, seed, c, hidden, max_iter=500, standardise=True):
    import numpy as np

    if not standardise:  # sparse, already normalised features (hashed text n-grams) stay sparse
        dim = (x.x if isinstance(x, RowSpace) else x).shape[1]
        return _fold_scaler(_fit(kind, x, y, n_classes, seed, c, hidden, max_iter), np.zeros(dim), np.ones(dim))
    mean = x.mean(axis=0, dtype=np.float64)
    scale = x.std(axis=0, dtype=np.float64)
    scale = np.where(scale < 1e-8, 1.0, scale)
    standardised = ((x - mean.astype(np.float32)) / scale.astype(np.float32)).astype(np.float32)
    return _fold_scaler(_fit(kind, standardised, y, n_classes, seed, c, hidden, max_iter), mean, scale)


def _metrics(y: np.ndarray, pred: np.ndarray, labels: Sequence[str]) -> tuple[dict[str, LabelMetrics], float, float]:
    import numpy as np

    per: dict[str, LabelMetrics] = {}
    for k, lab in enumerate(labels):
        tp = int(np.sum((pred == k) & (y == k)))
        fp = int(np.sum((pred == k) & (y != k)))
        fn = int(np.sum((pred != k) & (y == k)))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        per[lab] = LabelMetrics(p, r, 2 * p * r / (p + r) if p + r else 0.0, int(np.sum(y == k)))
    return per, float(np.mean(pred == y)), float(np.mean([m.f1 for m in per.values()]))


def _best_threshold(p_pos: np.ndarray, is_pos: np.ndarray) -> tuple[float, LabelMetrics]:
    """The probability threshold with the best out-of-fold F1 for the positive label."""
    import numpy as np

    order = np.argsort(-p_pos, kind="stable")
    sorted_p, sorted_pos = p_pos[order], is_pos[order]
    tp = np.cumsum(sorted_pos)
    fp = np.cumsum(~sorted_pos)
    total_pos = max(int(is_pos.sum()), 1)
    precision = tp / (tp + fp)
    recall = tp / total_pos
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    # only cut between distinct probabilities
    last_of_run = np.r_[sorted_p[1:] != sorted_p[:-1], True]
    f1 = np.where(last_of_run, f1, -1)
    i = int(np.argmax(f1))
    if i == len(sorted_p) - 1:
        # The best cut calls every item positive: the scores do not separate the classes (too few
        # or too mixed labels). Tuning would return ~0 and flag everything; a class-balanced head's
        # own decision rule, 0.5, is the honest threshold, with its metrics reported as they are.
        return 0.5, _at_threshold(p_pos, is_pos, 0.5)
    below = sorted_p[i + 1]
    threshold = float((sorted_p[i] + below) / 2)
    return threshold, LabelMetrics(float(precision[i]), float(recall[i]), float(f1[i]), int(is_pos.sum()))


def _at_threshold(p_pos: np.ndarray, is_pos: np.ndarray, threshold: float) -> LabelMetrics:
    """Precision, recall and F1 of the positive label when photos at or above `threshold` are called positive."""
    called = p_pos >= threshold
    tp, fp = int((called & is_pos).sum()), int((called & ~is_pos).sum())
    total = int(is_pos.sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / total if total else 0.0
    return LabelMetrics(prec, rec, 2 * prec * rec / (prec + rec) if prec + rec else 0.0, total)


def _out_of_fold(kind, x, y, n_classes, n_folds, seed, c, hidden, names, max_iter=500,
                 standardise=True) -> np.ndarray:
    """Out-of-fold probabilities of one stratified split (each example scored by a head that never saw it)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    oof = np.zeros((x.shape[0], n_classes))
    for train, test in StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        fold = _train_once(kind, x[train], y[train], n_classes, seed, c, hidden, max_iter, standardise)
        oof[test] = TrainedHead(names, kind, fold, None).probabilities(x[test])  # type: ignore[arg-type]
    return oof


def _auc(y: np.ndarray, probs: np.ndarray) -> float:
    """ROC AUC of out-of-fold probabilities: binary, or the macro mean of one-vs-rest AUCs."""
    from sklearn.metrics import roc_auc_score

    if probs.shape[1] == 2:
        return float(roc_auc_score(y == 1, probs[:, 1]))
    return float(roc_auc_score(y, probs, multi_class="ovr", average="macro", labels=list(range(probs.shape[1]))))


def _skill_test(x, y, n_folds, seed, c, names, standardise=True) -> SkillTest:
    """Permutation test of the cross-validated AUC against the same cross-validation on shuffled labels.

    The procedure is fixed and cheap whatever the head's kind: a logistic head with a capped
    optimiser budget, on a stratified subsample of at most `SKILL_MAX_EXAMPLES` examples. The
    question is whether the labels carry signal these features reveal under cross-validation, and
    twenty cross-validations must stay within seconds (an MLP's, or fits that chase shuffled labels
    to convergence on thousands of examples, take minutes). Real and shuffled labels go through
    the same procedure, which is all the test's validity needs."""
    import numpy as np
    from scipy import stats

    rng = np.random.default_rng(seed)
    if x.shape[0] > SKILL_MAX_EXAMPLES:
        from sklearn.model_selection import train_test_split

        keep, _ = train_test_split(np.arange(x.shape[0]), train_size=SKILL_MAX_EXAMPLES, stratify=y,
                                   random_state=seed)
        x, y = x[keep], y[keep]

    def cv_auc(labels: np.ndarray, split_seed: int) -> float:
        oof = _out_of_fold("logreg", x, labels, len(names), n_folds, split_seed, c, 0, names, SKILL_MAX_ITER,
                           standardise)
        return _auc(labels, oof)

    auc = cv_auc(y, seed)
    permutations = SKILL_PERMUTATIONS
    null = np.array([cv_auc(rng.permutation(y), seed + 1 + i) for i in range(permutations)])
    mean, sd = float(null.mean()), float(null.std(ddof=1))
    scale = max(sd, 1e-6) * float(np.sqrt(1 + 1 / permutations))
    bound = mean + float(stats.t.ppf(1 - SKILL_ALPHA, permutations - 1)) * scale
    p_value = float(stats.t.sf((auc - mean) / scale, permutations - 1))
    return SkillTest(auc, mean, sd, permutations, bound, p_value, SKILL_ALPHA, x.shape[0])


def train_head(
    features: np.ndarray, labels: Sequence[str], kind: str = "logreg", folds: int | None = None, seed: int = 0,
    positive: str | None = None, c: float = 1.0, hidden: int = 64, repeats: int | None = None,
    test_skill: bool = True, standardise: bool = True, row_space: RowSpace | None = None,
) -> TrainedHead:
    """Train a head on features (N x d) and one label per row, with out-of-fold metrics.

    `folds` defaults to 5, or 3 from 1,000 examples on (each fold then still holds hundreds of
    examples, and retraining on thousands of labels stays within seconds); `repeats` stratified
    splits (default from `CV_REPEATS`, 2 from 1,000 examples on) give each metric's spread. With
    `test_skill`, the permutation test of `SkillTest` decides whether the head may screen. Sparse
    features (a SciPy CSR matrix of normalised hashed n-grams) train with `standardise=False`:
    centring would make them dense and slow every fit. `row_space`: `shared_row_space(features)`,
    when several heads train on the same features.
    """
    import numpy as np

    if kind not in HEAD_KINDS:
        raise ValueError(f"unknown head kind {kind!r} ({', '.join(HEAD_KINDS)})")
    x = _training_matrix(features)
    if hasattr(x, "tocsr"):
        values = x.data
        standardise = False
    else:
        values = x
    if x.ndim != 2 or x.shape[0] != len(labels):
        raise ValueError("features must be N x d with one label per row")
    if not np.all(np.isfinite(values)):
        raise HeadTrainingError("features contain NaN or infinite values")
    names = tuple(sorted(set(labels)))
    counts = {lab: int(sum(1 for v in labels if v == lab)) for lab in names}
    if len(names) < 2:
        raise HeadTrainingError(f"need at least two labels to train a head, got {list(names)}; verify more photos")
    if min(counts.values()) < 2:
        raise HeadTrainingError(f"every label needs at least 2 verified photos; have {counts}")
    y = np.array([names.index(v) for v in labels])
    if folds is None:
        folds = 5 if x.shape[0] < 1000 else 3
    if repeats is None:
        repeats = CV_REPEATS[kind] if x.shape[0] < 1000 else 2
    n_folds = max(2, min(folds, min(counts.values())))

    # one eigendecomposition serves the head, every fold and the skill test (all logistic)
    if row_space is not None and row_space.x.shape != x.shape:
        raise ValueError("row_space was computed from other features")
    basis = (row_space if row_space is not None else _row_space(x)) if kind == "logreg" or test_skill else None
    logistic_x = basis.coords if basis is not None else x
    layers = _train_once(kind, basis if basis is not None and kind == "logreg" else x, y, len(names), seed, c,
                         hidden, standardise=standardise)
    pos = None
    if len(names) == 2:
        pos = positive if positive in names else (POSITIVE_DEFAULT if POSITIVE_DEFAULT in names else names[1])
    cv_x = logistic_x if kind == "logreg" else x
    runs = [_out_of_fold(kind, cv_x, y, len(names), n_folds, seed + r, c, hidden, names, standardise=standardise)
            for r in range(max(1, repeats))]
    scored = [_metrics(y, oof.argmax(axis=1), names) for oof in runs]
    per = {lab: LabelMetrics(*(float(np.mean([getattr(s[0][lab], f) for s in scored]))
                               for f in ("precision", "recall", "f1")), counts[lab]) for lab in names}
    accuracy = [s[1] for s in scored]
    macro = [s[2] for s in scored]
    aucs = [_auc(y, oof) for oof in runs]
    metrics = HeadMetrics(n_folds, x.shape[0], float(np.mean(accuracy)), float(np.mean(macro)), per,
                          repeats=len(runs), spread={"accuracy": Spread.of(accuracy), "macro_f1": Spread.of(macro),
                                                      "auc": Spread.of(aucs)})
    if pos is not None:
        k = names.index(pos)
        is_pos = y == k
        # each split's own max-F1 cut; the head ships their median, and is judged at that one cut
        cuts = [_best_threshold(oof[:, k], is_pos)[0] for oof in runs]
        threshold = float(np.median(cuts))
        at = [_at_threshold(oof[:, k], is_pos, threshold) for oof in runs]
        metrics.positive_label = pos
        metrics.threshold = threshold
        metrics.at_threshold = LabelMetrics(float(np.mean([m.precision for m in at])),
                                            float(np.mean([m.recall for m in at])),
                                            float(np.mean([m.f1 for m in at])), int(is_pos.sum()))
        metrics.spread.update(precision=Spread.of([m.precision for m in at]), recall=Spread.of([m.recall for m in at]),
                              f1=Spread.of([m.f1 for m in at]), threshold=Spread.of(cuts))
    if test_skill:
        metrics.skill = _skill_test(logistic_x, y, n_folds, seed + len(runs), c, names, standardise)
    return TrainedHead(names, kind, layers, metrics, counts)


# -- export -------------------------------------------------------------------------------------


def head_card(
    head: TrainedHead, model_id: str, version: str, embedding_model: str, features: str = "image",
    text_model: str | None = None, licence: str = "CC-BY-4.0", source: str = "trained in MIST from verifications",
) -> ModelCard:
    """The head's card. A head without skill gets no tuned threshold (that cut is what flags most
    photos) and carries the failed test under `skill`, which screening checks (`no_skill_reason`)."""
    thresholds = {}
    if head.metrics.positive_label and head.metrics.threshold is not None and head.metrics.usable:
        thresholds[head.metrics.positive_label] = min(1.0, max(0.0, head.metrics.threshold))
    extra: dict[str, Any] = {
        "head_kind": head.kind, "cv_metrics": head.metrics.as_dict(), "train_counts": head.counts,
        "feature_norm": "l2-per-block", "trained_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    if head.metrics.skill is not None:
        extra["skill"] = head.metrics.skill.as_dict()
    if text_model:
        extra["text_model"] = text_model
    return ModelCard(
        id=model_id, version=version, task="head", licence=licence, source=source, labels=head.labels,
        input_kind="embedding", scores="probabilities", outputs={"scores": "probabilities"},
        thresholds=thresholds, embedding_model=embedding_model, embedding_dim=head.dim, features=features,
        description=f"{head.kind} head on {features} embeddings ({embedding_model})", extra=extra,
    )


def no_skill_reason(card: ModelCard) -> str | None:
    """Why a head must not screen (its training found no skill beyond chance), or None."""
    skill = card.extra.get("skill")
    if card.task != "head" or not isinstance(skill, dict) or skill.get("usable", True) is not False:
        return None
    return f"{card.tag}: {skill.get('message') or 'no skill beyond chance when it was trained'}"


def export_head(head: TrainedHead, path: str | Path, card: ModelCard) -> Path:
    """Write the head as an ONNX model (opset 17, IR 9) with its card in metadata_props."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    current = "features"
    for i, (w, b) in enumerate(head.layers):
        inits += [numpy_helper.from_array(w, f"W{i}"), numpy_helper.from_array(b, f"B{i}")]
        nodes.append(helper.make_node("Gemm", [current, f"W{i}", f"B{i}"], [f"z{i}"], transB=1))
        current = f"z{i}"
        if i < len(head.layers) - 1:
            nodes.append(helper.make_node("Relu", [current], [f"h{i}"]))
            current = f"h{i}"
    nodes.append(helper.make_node("Softmax", [current], ["probabilities"], axis=1))
    graph = helper.make_graph(
        nodes, f"mist_head_{card.id}",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", head.dim])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", len(head.labels)])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9,
                              producer_name="mist_qgis")
    embed_card(model, card)
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".onnx.part")
    onnx.save(model, str(tmp))
    tmp.replace(path)
    return path


# -- from a store --------------------------------------------------------------------------------


@dataclass
class HeadTrainingResult:
    path: Path
    card: ModelCard
    metrics: HeadMetrics
    counts: dict[str, int]
    run_id: int
    unlabelled_without_features: int

    @property
    def usable(self) -> bool:
        """False when the head showed no skill: it is written, marked, and screening refuses it."""
        return self.metrics.usable

    def summary(self) -> str:
        return self.metrics.summary()


def head_feature_models(card: ModelCard) -> tuple[str | None, str | None]:
    """(image model tag, text model tag) a head's features come from."""
    if card.features == "text":
        return None, card.embedding_model
    text = card.extra.get("text_model") if card.features == "image+text" else None
    return card.embedding_model, text


@dataclass
class TrainingSet:
    """Verified photos with cached features, read from a store: what a head is fitted on."""

    fids: np.ndarray
    features: np.ndarray
    labels: list[str]
    missing: int  # verified photos without cached features (counted, not trained on)


def training_set(store: Store, features: str, image_model: str | None, text_model: str | None,
                 scheme: str = "verdict", depth_bins: Sequence[float] = DEFAULT_DEPTH_BINS) -> TrainingSet:
    """The store's verified photos under a label scheme, with their cached embeddings."""
    from ..store import models_sql
    from .embeddings import feature_matrix

    labelled = labels_from_verifications(models_sql.verified_media(store), scheme, depth_bins)
    fids, x = feature_matrix(store, features, image_model, text_model, list(labelled))
    if not len(fids):
        raise HeadTrainingError(
            f"no verified photo has cached {features} embeddings ({len(labelled)} verified); "
            "compute embeddings first"
        )
    return TrainingSet(fids, x, [labelled[int(f)] for f in fids], len(labelled) - len(fids))


def fit_and_export(data: TrainingSet, out_path: str | Path, image_model: str | None, text_model: str | None,
                   features: str, kind: str, model_id: str, version: str, folds: int | None = None,
                   seed: int = 0) -> tuple[TrainedHead, ModelCard, Path]:
    """Train a head on a training set and write it with its card; touches no store, so it may run
    on another thread (a live watch trains in the background)."""
    head = train_head(data.features, data.labels, kind=kind, folds=folds, seed=seed)
    embedding_model = image_model if features != "text" else text_model
    card = head_card(head, model_id, version, embedding_model or "", features,
                     text_model if features == "image+text" else None)
    path = export_head(head, out_path, card)
    return head, card.with_path(path), path


def training_counts(data: TrainingSet, head: TrainedHead) -> dict[str, int]:
    """What a training run records."""
    return {"examples": len(data.fids), "verified_without_features": data.missing, "usable": int(head.metrics.usable),
            **{f"label:{k}": v for k, v in head.counts.items()}}


def train_head_from_store(
    store: Store, out_path: str | Path, image_model: str | None, text_model: str | None = None,
    features: str = "image", scheme: str = "verdict", kind: str = "logreg",
    depth_bins: Sequence[float] = DEFAULT_DEPTH_BINS, model_id: str = "flood-head", version: str | None = None,
    folds: int | None = None, seed: int = 0,
) -> HeadTrainingResult:
    """Train a head on a store's verified photos and their cached embeddings and export it.

    Embeddings must already be cached (classify or embed with the backbone first).
    """
    parameters = {"features": features, "scheme": scheme, "kind": kind, "image_model": image_model,
                  "text_model": text_model}
    with run_stage(store, "train_head", parameters) as run:
        data = training_set(store, features, image_model, text_model, scheme, depth_bins)
        version = version or _dt.datetime.now(_dt.UTC).strftime("%Y%m%d%H%M%S")
        head, card, path = fit_and_export(data, out_path, image_model, text_model, features, kind, model_id,
                                          version, folds, seed)
        run.counts = training_counts(data, head)
        run.message = "" if head.metrics.usable else head.metrics.summary()
    return HeadTrainingResult(path, card, head.metrics, head.counts, run.run_id, data.missing)


# -- active learning -------------------------------------------------------------------------------


def threshold_uncertainty(p_pos: np.ndarray, threshold: float) -> np.ndarray:
    """1 at the calibrated threshold, 0 at a certain 0 or 1: how much a label would teach."""
    import numpy as np

    return 1.0 - np.abs(np.asarray(p_pos) - threshold) / max(threshold, 1 - threshold)


def pick_next(
    uncertainty: np.ndarray, n: int, random_share: float, seed: int | None,
) -> list[tuple[str, list[int]]]:
    """Row indices to label next: the most uncertain, mixed with a random share of the rest so
    precision estimated from labelled items stays honest."""
    import numpy as np

    n = min(n, len(uncertainty))
    n_random = min(int(round(n * random_share)), n)
    order = np.argsort(-uncertainty, kind="stable")
    chosen = [int(i) for i in order[: n - n_random]]
    rest = order[n - n_random:]
    rng = np.random.default_rng(seed)
    chosen_random = [int(i) for i in rng.choice(rest, size=min(n_random, len(rest)), replace=False)] if n_random else []
    return [("uncertain", chosen), ("random", chosen_random)]


@dataclass(frozen=True)
class VerifySuggestion:
    media_fid: int
    reason: str  # "uncertain" or "random"
    label: str
    score: float
    uncertainty: float


def next_to_verify(
    store: Store, head_path: str | Path, n: int = 20, random_share: float = 0.25, seed: int | None = None,
) -> list[VerifySuggestion]:
    """The photos an analyst should verify next: the ones the head is least sure about, mixed with
    a random sample of the rest so precision estimated from verified photos stays honest."""
    import numpy as np

    from ..store import models_sql
    from .embeddings import feature_matrix
    from .runtime import load_model
    from .scores import decide

    model = load_model(head_path)
    card = model.card
    if card.input_kind != "embedding":
        raise ValueError(f"{head_path}: {card.tag} is not a head (it does not read embeddings)")
    verified = {v.media_fid for v in models_sql.verified_media(store) if v.verdict != "unsure"}
    image_tag, text_tag = head_feature_models(card)
    fids, x = feature_matrix(store, card.features or "image", image_tag, text_tag)
    keep = np.array([int(f) not in verified for f in fids], dtype=bool)
    fids, x = fids[keep], x[keep]
    if not len(fids) or n <= 0:
        return []
    probs = model.run(x)["scores"]
    if len(card.labels) == 2 and card.thresholds:
        label, thr = next(iter(card.thresholds.items()))
        uncertainty = threshold_uncertainty(probs[:, card.labels.index(label)], thr)
    else:
        top2 = np.sort(probs, axis=1)[:, -2:]
        uncertainty = 1.0 - (top2[:, 1] - top2[:, 0])
    out = []
    for reason, picks in pick_next(uncertainty, n, random_share, seed):
        for i in picks:
            label, score = decide(probs[i], card.labels, card.thresholds)
            out.append(VerifySuggestion(int(fids[i]), reason, label, float(score), float(uncertainty[i])))
    return out
