"""A screening head that keeps learning while a watch runs.

Every `every` new verdicts, a candidate head is trained from all verdicts so far, with the
features, kind and label scheme of the active head (`heads.train_head_from_store`, so the same
cross-validation and skill test as any head), and written as a new version of the same model id
into a model-registry folder. A rejected version moves to its `rejected/` subfolder, out of the
registry's reach, so the registry's newest version of the id is the active one. The candidate
replaces the active head only if it passes the skill test and its cross-validated F1 (the positive
label's at its tuned threshold; macro F1 for more labels) is not worse than the active head's
recorded one; otherwise the active head stays and the reason is kept. Every version is a row of
`head_versions` (model tag, file, verdicts it learned from, F1, status, reason, photos scored);
the predictions a version made carry its tag. A restart goes on with the version left active.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..models.card import ModelCard
from ..models.heads import HeadTrainingError, head_feature_models, train_head_from_store
from ..models.runtime import read_card
from ..store import live_sql


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
        if card.input_kind != "embedding":
            self.disabled = (f"{card.tag} is a classifier, not a head on embeddings: it screens but does not "
                             "learn from verdicts")
        rows = live_sql.head_versions(store, self.lineage)
        active = [r for r in rows if r[5] == "active" and r[2] and Path(r[2]).is_file()]
        if active and not self.disabled:
            self.path = Path(active[-1][2])
            self.card = read_card(self.path)
            self.note = f"{self.card.tag} is active: {active[-1][6]}"
        else:
            self.path, self.card = Path(head_path), card
            self.note = f"{card.tag} is active: the head the watch started with"
            if not self.disabled:
                with store.batch() as conn:
                    live_sql.add_head_version(conn, card.tag, str(self.path), self.lineage, self.verdicts(store),
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
        if self.disabled or self.every <= 0:
            return False
        rows = live_sql.head_versions(store, self.lineage)
        trained_on = max((r[3] for r in rows), default=0)
        return self.verdicts(store) - trained_on >= self.every

    def step(self, store, run_id: int | None) -> HeadDecision | None:
        """Train a candidate if `every` new verdicts arrived since the last one; keep the better."""
        if not self.due(store):
            return None
        rows = live_sql.head_versions(store, self.lineage)
        base = rows[0][1].rsplit("@", 1)[-1] if rows else self.card.version
        version = f"{base}.{len(rows)}"
        tag = f"{self.lineage}@{version}"
        image_tag, text_tag = head_feature_models(self.card)
        verdicts = self.verdicts(store)
        current = cv_f1(self.card.extra.get("cv_metrics"))
        try:
            result = train_head_from_store(
                store, self.folder / f"{self.lineage}-{version}.onnx", image_tag, text_tag,
                self.card.features or "image", self.scheme, str(self.card.extra.get("head_kind") or "logreg"),
                model_id=self.lineage, version=version)
        except HeadTrainingError as exc:
            decision = HeadDecision(tag, False, f"not trained: {exc}")
            self._record(store, tag, None, verdicts, None, None, decision, run_id)
            return decision
        metrics = result.metrics.as_dict()
        f1 = cv_f1(metrics)
        if not result.usable:
            reason = f"rejected, {self.tag} stays: {result.metrics.skill.message()}"
        elif current is not None and (f1 is None or f1 < current):
            reason = (f"rejected, {self.tag} stays: cross-validated F1 {f1 or 0:.2f} from {verdicts} verdicts is "
                      f"worse than {self.tag}'s {current:.2f}")
        else:
            was = f" (was {current:.2f})" if current is not None else ""
            reason = f"active: cross-validated F1 {f1 or 0:.2f} from {verdicts} verdicts{was}, skill beyond chance"
        accepted = reason.startswith("active")
        decision = HeadDecision(tag, accepted, reason, f1)
        path = result.path
        if not accepted:
            (self.folder / "rejected").mkdir(parents=True, exist_ok=True)
            path = path.replace(self.folder / "rejected" / path.name)
        self._record(store, tag, path, verdicts, f1, _skill(metrics.get("skill")), decision, run_id)
        if accepted:
            self.path, self.card = result.path, read_card(result.path)
            self.note = f"{tag} {reason}"
        return decision

    def _record(self, store, tag: str, path: Path | None, verdicts: int, f1: float | None, skill: str | None,
                decision: HeadDecision, run_id: int | None) -> None:
        with store.batch() as conn:
            live_sql.add_head_version(conn, tag, str(path) if path else None, self.lineage, verdicts, f1, skill,
                                      "active" if decision.accepted else "rejected", decision.reason, run_id)
        if not decision.accepted:
            self.note = f"{self.tag} is active; {tag} {decision.reason}"


def _skill(skill: Any) -> str | None:
    return skill.get("message") if isinstance(skill, dict) else None
