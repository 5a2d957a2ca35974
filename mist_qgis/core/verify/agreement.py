"""How far two analysts agree: Cohen's kappa on the photos both judged, and the conflicts.

Each analyst's latest verdict per photo counts (an analyst who changed their mind is judged on the
final answer). Kappa corrects the raw agreement for the agreement expected by chance from each
analyst's own verdict frequencies; it is undefined when chance agreement is already total (both
analysts gave one and the same verdict to everything), reported as None with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..store import Store, verify_sql
from .records import VERDICTS


@dataclass(frozen=True)
class Conflict:
    """A photo (or post) two analysts judged differently."""

    post_fid: int
    media_fid: int | None
    verdict_a: str
    verdict_b: str
    depth_a: float | None
    depth_b: float | None


@dataclass
class Agreement:
    analyst_a: str
    analyst_b: str
    n_items: int                  # judged by both
    observed: float | None        # share of those with the same verdict
    kappa: float | None
    reason: str = ""              # why kappa is None
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)  # (verdict_a, verdict_b) -> n
    conflicts: list[Conflict] = field(default_factory=list)


def cohen_kappa(
    pairs: list[tuple[str, str]], categories: tuple[str, ...] = VERDICTS,
) -> tuple[float | None, float | None, str]:
    """(kappa, observed agreement, reason if undefined) for paired labels."""
    n = len(pairs)
    if n == 0:
        return None, None, "no item was judged by both analysts"
    observed = sum(a == b for a, b in pairs) / n
    expected = sum(
        (sum(a == c for a, _ in pairs) / n) * (sum(b == c for _, b in pairs) / n) for c in categories
    )
    if expected >= 1.0:
        return None, observed, "both analysts gave every item the same single verdict"
    return (observed - expected) / (1.0 - expected), observed, ""


def agreement(store: Store, analyst_a: str, analyst_b: str) -> Agreement:
    """Kappa, confusion and conflicts of two analysts over the items both judged."""
    if analyst_a == analyst_b:
        raise ValueError("choose two different analysts")
    latest: dict[str, dict[tuple[int, int | None], tuple[str, float | None]]] = {analyst_a: {}, analyst_b: {}}
    for row in verify_sql.latest_by_analyst(store, [analyst_a, analyst_b]):
        latest[row["analyst"]][(row["post_fid"], row["media_fid"])] = (row["verdict"], row["water_depth_m"])
    both = sorted(set(latest[analyst_a]) & set(latest[analyst_b]), key=lambda k: (k[0], k[1] or 0))
    pairs = [(latest[analyst_a][k][0], latest[analyst_b][k][0]) for k in both]
    kappa, observed, reason = cohen_kappa(pairs)
    confusion: dict[tuple[str, str], int] = {}
    for pair in pairs:
        confusion[pair] = confusion.get(pair, 0) + 1
    conflicts = [
        Conflict(post, media, latest[analyst_a][(post, media)][0], latest[analyst_b][(post, media)][0],
                 latest[analyst_a][(post, media)][1], latest[analyst_b][(post, media)][1])
        for post, media in both
        if latest[analyst_a][(post, media)][0] != latest[analyst_b][(post, media)][0]
    ]
    return Agreement(analyst_a, analyst_b, len(both), observed, kappa, reason, confusion, conflicts)


def analysts(store: Store) -> list[tuple[str, int]]:
    """Analysts who judged photos in this store, with their number of verdicts."""
    return verify_sql.analysts(store)
