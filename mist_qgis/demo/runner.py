"""Running named stages, timing them and printing one table of what each did.

A stage is a function returning a `StageOutcome` (a one-line summary, the models and execution
providers it used, its counts). A stage that raises is recorded as failed with the reason, and
the stages after it are not run: each one needs the previous one's output.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class StageFailed(RuntimeError):
    """A stage did not do its job; the message says why in user terms."""


@dataclass
class StageOutcome:
    summary: str
    models: str = ""
    counts: dict[str, Any] = field(default_factory=dict)
    value: Any = None


@dataclass
class StageReport:
    name: str
    algorithm: str
    status: str  # ok, failed, not run
    seconds: float = 0.0
    summary: str = ""
    models: str = ""
    counts: dict[str, Any] = field(default_factory=dict)


class StageRunner:
    """Runs stages in order and keeps their reports; `ok` is False once one has failed."""

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self.reports: list[StageReport] = []
        self.echo = echo or (lambda line: None)

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.reports)

    def run(self, name: str, algorithm: str, fn: Callable[[], StageOutcome]) -> Any:
        """Run one stage unless an earlier one failed; returns the stage's value (None if not run)."""
        if not self.ok:
            self.reports.append(StageReport(name, algorithm, "not run", summary="an earlier stage failed"))
            return None
        self.echo(f"-- {name} ...")
        started = time.perf_counter()
        try:
            outcome = fn()
        except Exception as exc:  # any failure ends the demo with a reason, not a traceback
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            self.reports.append(StageReport(name, algorithm, "failed", time.perf_counter() - started,
                                            f"FAILED: {reason}"))
            self.echo(f"   failed: {reason}")
            return None
        report = StageReport(name, algorithm, "ok", time.perf_counter() - started, outcome.summary, outcome.models,
                             outcome.counts)
        self.reports.append(report)
        self.echo(f"   {report.seconds:.1f} s: {outcome.summary}")
        return outcome.value

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.reports)

    def table(self, width: int = 118) -> str:
        return format_table(self.reports, width)

    def as_json(self) -> str:
        return json.dumps([r.__dict__ for r in self.reports], indent=2, default=str, ensure_ascii=False)


def format_table(reports: list[StageReport], width: int = 118) -> str:
    """Fixed-width table: stage, algorithm, seconds, what it did, models and providers."""
    w_stage = max(len("stage"), *(len(r.name) for r in reports)) if reports else 5
    w_alg = max(len("algorithm"), *(len(r.algorithm) for r in reports)) if reports else 9
    w_sec = 7
    w_text = max(30, width - w_stage - w_alg - w_sec - 6)
    head = f"{'stage':<{w_stage}}  {'algorithm':<{w_alg}}  {'seconds':>{w_sec}}  what it did / models and providers"
    lines = [head, "-" * min(width, len(head) + w_text - 34)]
    for r in reports:
        text = r.summary + (f"  [{r.models}]" if r.models else "")
        wrapped = textwrap.wrap(text, w_text, break_on_hyphens=False) or [""]
        seconds = f"{r.seconds:.1f}" if r.status != "not run" else "-"
        lines.append(f"{r.name:<{w_stage}}  {r.algorithm:<{w_alg}}  {seconds:>{w_sec}}  {wrapped[0]}")
        lines += [f"{'':<{w_stage}}  {'':<{w_alg}}  {'':>{w_sec}}  {more}" for more in wrapped[1:]]
    total = sum(r.seconds for r in reports)
    status = "all stages ok" if all(r.status == "ok" for r in reports) else "FAILED"
    lines.append("-" * len(lines[1]))
    lines.append(f"{'total':<{w_stage}}  {'':<{w_alg}}  {total:>{w_sec}.1f}  {status}")
    return "\n".join(lines)


def run_algorithm(algorithm: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """`headless.run_algorithm` with failures as StageFailed and the warnings under "_warnings"."""
    from ..headless import AlgorithmError, AlgorithmFailed
    from ..headless import run_algorithm as run

    try:
        results, warnings = run(algorithm, parameters)
    except (AlgorithmError, AlgorithmFailed) as exc:
        raise StageFailed(f"{algorithm}: {exc}") from exc
    return {"_warnings": warnings, **results}
