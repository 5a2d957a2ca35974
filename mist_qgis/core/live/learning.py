"""A screening head that keeps learning while a watch runs.

Every `every` new verdicts, a candidate head is trained from all verdicts so far, with the
features, kind and label scheme of the active head (the training set is read on the watch's
thread; the fit, with the same cross-validation and skill test as any head, runs on a background
thread while the watch goes on importing and screening), and written as a new version of the same model id
into a model-registry folder. A rejected version moves to its `rejected/` subfolder, out of the
registry's reach, so the registry's newest version of the id is the active one. The candidate
replaces the active head only if it passes the skill test and its cross-validated F1 (the positive
label's at its tuned threshold; macro F1 for more labels) is not worse than the active head's
recorded one; otherwise the active head stays and the reason is kept. Every version is a row of
`head_versions` (model tag, file, verdicts it learned from, F1, status, reason, photos scored);
the predictions a version made carry its tag. A restart goes on with the version left active.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..models.card import ModelCard
from ..models.heads import (
    HeadTrainingError,
    fit_and_export,
    head_feature_models,
    training_counts,
    training_set,
)
from ..models.runtime import read_card
from ..stage import run_stage
from ..store import live_sql

log = logging.getLogger("mist.live")

CHECK_S = 5.0  # how often the verdict count is looked at


@dataclass
class HeadDecision:
    """What one retraining decided, for the run log and the dock."""

    candidate: str  # model tag of the candidate (id@version)
    accepted: bool
    reason: str
    f1: float | None = None


def cv_f1(cv_metrics: dict[str, Any] | None) -> float | None:
    """The F1 a head is judged by: its positive label's at the tuned threshold, else macro F1."""
    if not cv_metrics:
        return None
    at = cv_metrics.get("at_threshold")
    value = at.get("f1") if isinstance(at, dict) else cv_metrics.get("macro_f1")
    return None if value is None else float(value)


def label_scheme(card: ModelCard) -> str:
    """The verdict scheme a head's labels come from (flood / not_flood, depth classes, notes)."""
    labels = set(card.labels)
    if labels <= {"flood", "not_flood"}:
        return "verdict"
    return "depth" if "no_flood" in labels else "note"


class HeadLearner:
    """The active version of a head line and its retraining; one per watch."""

    def __init__(self, store, head_path: Path, every: int, folder: Path, run_id: int | None = None) -> None:
        card = read_card(head_path)
        self.every = every
        self.folder = Path(folder)
        self.lineage = card.id
        self.scheme = label_scheme(card)
        self.disabled = ""
        self._pool: ThreadPoolExecutor | None = None
        self._training: tuple | None = None  # (future, training set, version, verdicts, run parameters)
        self._next_check = 0.0
        if card.input_kind != "embedding":
            self.disabled = (f"{card.tag} is a classifier, not a head on embeddings: it screens but does not "
                             "learn from verdicts")
        rows = live_sql.head_versions(store, self.lineage)
        active = [r for r in rows if r[5] == "active" and r[2] and Path(r[2]).is_file()]
        if active and not self.disabled and every > 0:  # learning goes on from the version left active
            self.path = Path(active[-1][2])
            self.card = read_card(self.path)
            self.note = f"{self.card.tag} is active: {active[-1][6]}"
        else:  # the head the user chose screens (and, learning, is where the line starts)
            self.path, self.card = Path(head_path), card
            self.note = f"{card.tag} is active: the head the watch started with"
            if not self.disabled:
                with store.batch() as conn:
                    live_sql.add_head_version(conn, card.tag, str(self.path), self.lineage, _examples(card),
                                              cv_f1(card.extra.get("cv_metrics")), _skill(card.extra.get("skill")),
                                              "active", "the head the watch started with", run_id)
        if self.disabled:
            self.note = self.disabled

    @property
    def tag(self) -> str:
        return self.card.tag

    def verdicts(self, store) -> int:
        """Verdicts recorded so far (a changed verdict counts again: it is new information)."""
        return live_sql.verdict_count(store)

    def due(self, store) -> bool:
        """Whether `every` new verdicts arrived since the version trained last."""
        return self._pending(store) is not None

    def _pending(self, store) -> tuple[list, int] | None:
        """(the line's versions, the verdict count) when a candidate is due, else None: read once
        for the decision and the training it starts."""
        if self.disabled or self.every <= 0:
            return None
        rows = live_sql.head_versions(store, self.lineage)
        trained_on = max((r[3] for r in rows), default=0)
        verdicts = self.verdicts(store)
        return (rows, verdicts) if verdicts - trained_on >= self.every else None

    def step(self, store, run_id: int | None) -> HeadDecision | None:
        """Start training a candidate when `every` new verdicts arrived since the last one, and
        decide on it once it is trained; the fit runs on a background thread, so the watch goes on
        importing and screening meanwhile. Returns the decision when one was made."""
        if self._training is not None:
            return self._decide(store, run_id) if self._training[0].done() else None
        now = time.monotonic()
        if now < self._next_check:  # the verdict count is looked at every CHECK_S, due or not
            return None
        self._next_check = now + CHECK_S
        pending = self._pending(store)
        if pending is None:
            return None
        rows, verdicts = pending
        base = rows[0][1].rsplit("@", 1)[-1] if rows else self.card.version
        version = f"{base}.{len(rows)}"
        image_tag, text_tag = head_feature_models(self.card)
        features = self.card.features or "image"
        try:
            data = training_set(store, features, image_tag, text_tag, self.scheme)
        except HeadTrainingError as exc:
            decision = HeadDecision(f"{self.lineage}@{version}", False, f"not trained: {exc}")
            self._record(store, decision.candidate, None, verdicts, None, None, decision, run_id)
            return decision
        kind = str(self.card.extra.get("head_kind") or "logreg")
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mist-learn")
        future = self._pool.submit(fit_and_export, data, self.folder / f"{self.lineage}-{version}.onnx", image_tag,
                                   text_tag, features, kind, self.lineage, version)
        self._training = (future, data, version, verdicts, {"features": features, "scheme": self.scheme,
                                                             "kind": kind, "image_model": image_tag,
                                                             "text_model": text_tag, "while_watching": True})
        return None

    def finish(self, store, run_id: int | None) -> HeadDecision | None:
        """Wait for a training in flight and decide on it (the watch is stopping)."""
        if self._training is None:
            return None
        return self._decide(store, run_id)  # blocks on the fit

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _decide(self, store, run_id: int | None) -> HeadDecision:
        future, data, version, verdicts, parameters = self._training
        self._training = None
        tag = f"{self.lineage}@{version}"
        current = cv_f1(self.card.extra.get("cv_metrics"))
        try:
            with run_stage(store, "train_head", parameters) as run:  # the training, recorded as any head's
                head, card, path = future.result()
                run.counts = training_counts(data, head)
                run.message = "" if head.metrics.usable else head.metrics.summary()
        except Exception as exc:  # the run says failed and why; the watch goes on with the active head
            log.warning("training %s failed", tag, exc_info=not isinstance(exc, HeadTrainingError))
            decision = HeadDecision(tag, False, f"not trained: {exc}")
            self._record(store, tag, None, verdicts, None, None, decision, run_id)
            return decision
        metrics = head.metrics.as_dict()
        f1 = cv_f1(metrics)
        if not head.metrics.usable:
            reason = f"rejected, {self.tag} stays: {head.metrics.skill.message()}"
        elif current is not None and (f1 is None or f1 < current):
            reason = (f"rejected, {self.tag} stays: cross-validated F1 {f1 or 0:.2f} from {verdicts} verdicts is "
                      f"worse than {self.tag}'s {current:.2f}")
        else:
            was = f" (was {current:.2f})" if current is not None else ""
            reason = f"active: cross-validated F1 {f1 or 0:.2f} from {verdicts} verdicts{was}, skill beyond chance"
        accepted = reason.startswith("active")
        decision = HeadDecision(tag, accepted, reason, f1)
        if not accepted:
            (self.folder / "rejected").mkdir(parents=True, exist_ok=True)
            path = path.replace(self.folder / "rejected" / path.name)
        self._record(store, tag, path, verdicts, f1, _skill(metrics.get("skill")), decision, run_id)
        if accepted:
            self.path, self.card = path, card
            self.note = f"{tag} {reason}"
        return decision

    def _record(self, store, tag: str, path: Path | None, verdicts: int, f1: float | None, skill: str | None,
                decision: HeadDecision, run_id: int | None) -> None:
        with store.batch() as conn:
            live_sql.add_head_version(conn, tag, str(path) if path else None, self.lineage, verdicts, f1, skill,
                                      "active" if decision.accepted else "rejected", decision.reason, run_id)
        if not decision.accepted:
            self.note = f"{self.tag} is active; {tag} {decision.reason}"


def _examples(card: ModelCard) -> int:
    """How many verdicts a head learnt from, as its card says (0 for a head from elsewhere: the
    first `every` verdicts of this store then train a candidate)."""
    metrics = card.extra.get("cv_metrics")
    return int(metrics.get("n_examples") or 0) if isinstance(metrics, dict) else 0


def _skill(skill: Any) -> str | None:
    return skill.get("message") if isinstance(skill, dict) else None
