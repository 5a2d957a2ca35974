"""Kernel density of flood evidence: what to compute, decided without QGIS.

`plan_density` checks the request, keeps the usable points, picks the local metric CRS (the UTM
zone of their centre, so "500 m" means 500 m on the ground) and cuts the time slices. The
density itself runs QGIS's own heatmap algorithm in `mist_qgis.qgis_ops.density`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ..errors import MistError
from ..geodesy import utm_epsg
from ..posts.issues import SkipRecord
from ..posts.timeparse import parse_time
from ..store.flood_evidence import DENSITY_KINDS, EvidencePoint

SLICES = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


class DensityError(MistError, ValueError):
    """Density cannot be computed as asked; the message says why."""


@dataclass
class DensitySlice:
    path: str
    start: str | None
    end: str | None
    points: int


@dataclass
class DensityResult:
    kind: str
    algorithm: str
    crs: str
    radius_m: float
    pixel_m: float
    points: int
    slices: list[DensitySlice]
    value_range: tuple[float, float]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def stored_time(value: str | None) -> datetime | None:
    """A post's stored timestamp, or None when it has none that reads as a time."""
    try:
        return parse_time(value)
    except SkipRecord:
        return None


def slice_points(points: Sequence[EvidencePoint], slice_by: str, cumulative: bool
                 ) -> tuple[list[tuple[datetime, datetime, list[EvidencePoint]]], int]:
    """(start, end, points) per hour/day from the first to the last post; and the undated count."""
    step = SLICES[slice_by]
    dated = [(stored_time(p.timestamp), p) for p in points]
    undated = sum(1 for t, _ in dated if t is None)
    dated = [(t, p) for t, p in dated if t is not None]
    if not dated:
        return [], undated
    first = min(t for t, _ in dated)
    first = first.replace(minute=0, second=0, microsecond=0)
    if slice_by == "day":
        first = first.replace(hour=0)
    last = max(t for t, _ in dated)
    out = []
    start = first
    while start <= last:
        end = start + step
        lo = first if cumulative else start
        out.append((start, end, [p for t, p in dated if lo <= t < end]))
        start = end
    return out, undated


@dataclass
class DensityJob:
    """One raster to compute: its path, its time range (None without slices) and its points."""

    path: Path
    start: datetime | None
    end: datetime | None
    points: list[EvidencePoint]


@dataclass
class DensityPlan:
    kind: str
    epsg: int
    points: list[EvidencePoint]
    jobs: list[DensityJob]
    warnings: list[str] = field(default_factory=list)


def plan_density(
    points: Sequence[EvidencePoint], out_dir: str | Path, kind: str = "all", radius_m: float = 500.0,
    pixel_m: float = 25.0, slice_by: str | None = None, cumulative: bool = False, name: str | None = None,
) -> DensityPlan:
    """The rasters a density request asks for, or a DensityError saying why it cannot be done.

    With `slice_by` ("hour" or "day"; "none" or None for one raster) one raster per slice with a
    fixed temporal range; with `cumulative` each slice holds every post up to its end.
    """
    if kind not in DENSITY_KINDS:
        raise DensityError(f"kind must be one of {DENSITY_KINDS}")
    if not (radius_m > 0 and pixel_m > 0):
        raise DensityError("radius and pixel size must be positive (metres)")
    if slice_by == "none":
        slice_by = None
    if slice_by is not None and slice_by not in SLICES:
        raise DensityError(f"time slices are {tuple(SLICES)}, not {slice_by!r}")
    points = [p for p in points if math.isfinite(p.lon) and math.isfinite(p.lat) and -90 <= p.lat <= 90
              and -180 <= p.lon <= 180 and p.weight > 0]
    if not points:
        raise DensityError(f"no located post for a '{kind}' density (check the store's verdicts and predictions)")
    warnings: list[str] = []
    lons, lats = [p.lon for p in points], [p.lat for p in points]
    epsg = utm_epsg((min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2)
    if max(lons) - min(lons) > 12:
        warnings.append("the posts span more than two UTM zones: distances far from the centre are distorted")
    out_dir = Path(out_dir)
    base = name or f"density_{kind}"
    jobs: list[DensityJob] = []
    if slice_by is None:
        jobs.append(DensityJob(out_dir / f"{base}.tif", None, None, points))
    else:
        slices, undated = slice_points(points, slice_by, cumulative)
        if undated:
            warnings.append(f"{undated} posts have no usable timestamp and are in no time slice")
        if not slices:
            raise DensityError("no post has a timestamp: time slices are impossible")
        fmt = "%Y%m%dT%H" if slice_by == "hour" else "%Y%m%d"
        jobs += [DensityJob(out_dir / f"{base}_{s.strftime(fmt)}.tif", s, e, pts) for s, e, pts in slices]
    return DensityPlan(kind, epsg, points, jobs, warnings)
