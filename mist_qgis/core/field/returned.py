"""Field observations back into the store: a returned field package (folder or zip) or a plain
folder of phone photos.

Each observation becomes a post with platform "field" (its id: the observation's uuid from the
form, else the photo's sha256), its photo cached like a fetched one, and, when the form says what
the team saw, a verdict with the team's own analyst name and water depth. A photo whose EXIF
gives a GPS position, a capture time that agrees with the GPS clock and a possible heading also
joins the reference imagery as a dated reference with that heading. Anything doubtful is
imported, flagged in the issues table and kept out of the references.

Nothing arrives twice: an observation whose uuid is known, or whose photo's sha256 is already
in the store, is a counted duplicate. A package whose paths leave it (absolute paths, `..`,
symlinks pointing out) is refused before anything is written, with the file named.
"""

from __future__ import annotations

import math
import sqlite3
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ..geoloc.records import DEFAULT_ACCURACY_M, ReferenceRecord
from ..models.registry import sha256_file
from ..posts.photos import PHOTO_SUFFIXES
from ..posts.record import MediaRef, PostRecord
from ..stage import run_stage
from ..store import Store, gpkg
from ..store import field_sql as sql
from ..verify.records import VERDICTS, Verdict, VerdictError, check_depth, depth_for_class
from . import layout
from .package import FieldPackageError

STAGE = "import_field"
# A phone's GPS fix older than this at the moment of the photo is someone else's street.
MAX_GPS_CLOCK_SKEW_S = 600.0
MAX_ZIP_BYTES = 2 * 1024 ** 3
MAX_ZIP_MEMBERS = 100_000


@dataclass
class Observation:
    """One observation as read from the form and/or the photo, before it is checked."""

    source: str                      # the file named in reports
    uuid: str | None = None
    lon: float | None = None
    lat: float | None = None
    observed_at: str | None = None
    verdict: str | None = None
    depth_class: str | None = None
    water_depth_m: float | None = None
    note: str | None = None
    photo: Path | None = None
    photo_rel: str | None = None
    heading: float | None = None
    gps_accuracy_m: float | None = None
    analyst: str | None = None


@dataclass
class FieldImportSummary:
    run_id: int
    observations: int = 0
    imported: int = 0
    duplicates: int = 0
    verdicts: int = 0
    references: int = 0
    flagged: int = 0
    skipped: int = 0
    unlocated: int = 0
    issues: list[tuple[str | None, int | None, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("observations", "imported", "duplicates", "verdicts", "references",
                                              "flagged", "skipped", "unlocated")}


# -- paths that must stay inside the package -----------------------------------------------------


def _inside(root: Path, given: str, what: str) -> Path:
    """`given` resolved inside `root`, or FieldPackageError naming the path."""
    text = (given or "").replace("\\", "/")
    if not text or "\x00" in text:
        raise FieldPackageError(f"{what}: empty path")
    pure = PurePosixPath(text)
    if pure.is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise FieldPackageError(f"{what}: absolute path {given!r} points outside the package")
    if ".." in pure.parts:
        raise FieldPackageError(f"{what}: path {given!r} climbs out of the package ('..')")
    candidate = root / pure
    resolved = candidate.resolve()
    if resolved != root and root not in resolved.parents:
        raise FieldPackageError(f"{what}: {given!r} is a link that points outside the package")
    return resolved


def _extract_zip(path: Path, target: Path) -> Path:
    """Unpack a returned zip after checking every member name (no absolute paths, no '..', no
    links); returns the folder that holds the package."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise FieldPackageError(f"{path.name} is not a zip file: {exc}") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise FieldPackageError(f"{path.name} unpacks to more than {MAX_ZIP_BYTES >> 30} GB or too many files")
        for m in members:
            _inside(target, m.filename, f"{path.name}: member {m.filename}")
            if (m.external_attr >> 16) & 0o170000 == 0o120000:
                raise FieldPackageError(f"{path.name}: member {m.filename} is a symbolic link")
        zf.extractall(target)
    found = sorted(target.rglob(layout.GPKG))
    return found[0].parent if found else target


def check_project_paths(folder: Path) -> None:
    """Refuse a project whose layer sources point outside the package (edited by hand)."""
    for project in sorted(folder.glob("*.qgz")) + sorted(folder.glob("*.qgs")):
        _inside(folder, project.name, project.name)
        if project.suffix == ".qgz":
            try:
                with zipfile.ZipFile(project) as zf:
                    name = next((n for n in zf.namelist() if n.endswith(".qgs")), None)
                    xml = zf.read(name) if name else b""
            except zipfile.BadZipFile as exc:
                raise FieldPackageError(f"{project.name} is not a QGIS project: {exc}") from None
        else:
            xml = project.read_bytes()
        if not xml:
            continue
        try:
            tree = ET.fromstring(xml)
        except ET.ParseError as exc:
            raise FieldPackageError(f"{project.name} is not a QGIS project: {exc}") from None
        for node in tree.iter("datasource"):
            source = (node.text or "").split("|")[0].strip()
            if source and "://" not in source and not source.startswith(("dbname=", "service=")):
                _inside(folder, source, f"{project.name}: layer source")


# -- reading -------------------------------------------------------------------------------------


def _float(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def read_package(folder: Path) -> list[Observation]:
    """The field layer's features (every photo path checked to stay inside the package)."""
    gpkg_path = _inside(folder, layout.GPKG, layout.GPKG)
    if not gpkg_path.is_file():
        raise FieldPackageError(f"{folder} holds no {layout.GPKG}")
    check_project_paths(folder)
    uri = gpkg_path.as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        conn.row_factory = sqlite3.Row
        rows = conn.execute(f'SELECT * FROM "{layout.FIELD_LAYER}" ORDER BY fid').fetchall()
    except sqlite3.DatabaseError as exc:
        raise FieldPackageError(f"{layout.GPKG} has no readable {layout.FIELD_LAYER} layer: {exc}") from None
    finally:
        conn.close()
    out: list[Observation] = []
    for row in rows:
        keys = row.keys()
        obs = Observation(source=f"{layout.GPKG}:{layout.FIELD_LAYER}:{row['fid']}")
        geom = row["geom"] if "geom" in keys else None
        if geom and not gpkg.is_empty(geom):
            obs.lon, obs.lat = gpkg.point_xy(geom)
        obs.uuid = (str(row["uuid"]).strip("{} ") or None) if row["uuid"] else None
        obs.observed_at = row["observed_at"]
        obs.verdict = (row["verdict"] or "").strip() or None
        obs.depth_class = (row["depth_class"] or "").strip() or None
        obs.water_depth_m = _float(row["water_depth_m"])
        obs.note = row["note"]
        obs.heading = _float(row["heading"])
        obs.gps_accuracy_m = _float(row["gps_accuracy_m"])
        obs.analyst = (row["analyst"] or "").strip() or None
        if row["photo"]:
            obs.photo_rel = str(row["photo"])
            obs.photo = _inside(folder, obs.photo_rel, f"{obs.source}: photo")
        out.append(obs)
    return out


def read_photo_folder(folder: Path) -> list[Observation]:
    """Every photo under a folder as an observation without a form (links leaving it refused)."""
    out = []
    for path in sorted(folder.rglob("*")):
        if path.name.startswith(".") or path.suffix.lower() not in PHOTO_SUFFIXES:
            continue
        rel = path.relative_to(folder).as_posix()
        resolved = _inside(folder, rel, rel)
        if resolved.is_file():
            out.append(Observation(source=rel, photo=resolved, photo_rel=rel))
    return out


# -- checks --------------------------------------------------------------------------------------


def _iso(value: Any) -> datetime | None:
    from .package import _parse

    return _parse(value)


def _raw_direction(path: Path) -> float | None:
    """GPSImgDirection as written, even when out of range (the safe opener drops such values;
    here they must be seen to be flagged)."""
    from ..images.safe_decode import DecodeError, read_header

    try:
        value = read_header(path).exif.get_ifd(0x8825).get(17)
        return float(value) if value is not None else None
    except (DecodeError, OSError, TypeError, ValueError, ZeroDivisionError):
        return None


def clock_skew_s(taken_at: str, gps_time_utc: str) -> float | None:
    """Seconds between the camera's capture time and the GPS clock. A capture time without a
    UTC offset is local time in an unknown zone: only the part beyond a whole quarter hour
    (every time zone is one) can be told apart from the zone."""
    taken, gps_time = _iso(taken_at), _iso(gps_time_utc)
    if taken is None or gps_time is None:
        return None
    delta = (taken - gps_time).total_seconds()
    if _has_offset(taken_at):
        return abs(delta)
    if abs(delta) > 14.5 * 3600:
        return abs(delta)
    quarter = 900.0
    return abs(delta - round(delta / quarter) * quarter)


def _has_offset(text: str) -> bool:
    tail = text[19:]
    return bool(tail) and (tail.startswith(("+", "-")) or tail.upper().startswith("Z"))


@dataclass
class _Checked:
    lon: float | None
    lat: float | None
    when: datetime | None
    heading: float | None
    geo_source: str
    trusted_reference: bool
    flags: list[str]


def check_observation(obs: Observation, exif: Any, raw_direction: float | None = None) -> _Checked:
    """Position, time and heading from the form and the EXIF, and what is wrong with them.

    A photo is trusted as a reference only with its own GPS position, a GPS clock that agrees
    with the capture time (when both are there) and a possible heading."""
    flags: list[str] = []
    has_gps = exif is not None and exif.has_position
    lon, lat = (obs.lon, obs.lat) if obs.lon is not None else ((exif.lon, exif.lat) if has_gps else (None, None))
    geo_source = "gps" if obs.lon is not None else ("exif" if lon is not None else "none")  # device, photo
    if obs.photo is not None and not has_gps:
        flags.append("photo without GPS position in EXIF: not used as a reference")
    if lon is None:
        flags.append("no position (neither the form nor the photo has one): imported unlocated")
    clock_ok = True
    if exif is not None and exif.taken_at and exif.gps_time_utc:
        skew = clock_skew_s(exif.taken_at, exif.gps_time_utc)
        if skew is not None and skew > MAX_GPS_CLOCK_SKEW_S:
            clock_ok = False
            flags.append(f"GPS time is {skew / 60:.0f} min away from the capture time: a stale fix, "
                         "not used as a reference")
    when = None
    if exif is not None:
        when = _iso(exif.taken_at) if exif.taken_at else None
        if exif.taken_at and not _has_offset(exif.taken_at) and exif.gps_time_utc and clock_ok:
            when = _iso(exif.gps_time_utc)  # local time in an unknown zone: the GPS clock says when in UTC
        when = when or (_iso(exif.gps_time_utc) if exif.gps_time_utc else None)
    when = when or _iso(obs.observed_at)
    candidates = [exif.direction if exif is not None else None, raw_direction, obs.heading]
    raw_heading = next((v for v in candidates if v is not None), None)
    heading = None
    if raw_heading is not None:
        if math.isfinite(raw_heading) and 0 <= raw_heading <= 360:
            heading = raw_heading % 360.0
        else:
            flags.append(f"impossible heading {raw_heading!r}: dropped, not used as a reference")
    if has_gps and raw_heading is None:
        flags.append("photo without a heading: not used as a reference")
    trusted = has_gps and clock_ok and heading is not None
    return _Checked(lon, lat, when, heading, geo_source, trusted, flags)


# -- import --------------------------------------------------------------------------------------


def _utc_text(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def _verdict_of(obs: Observation) -> tuple[str, float | None] | None:
    if obs.verdict is None:
        return None
    if obs.verdict not in VERDICTS:
        raise VerdictError(f"verdict {obs.verdict!r} is not one of {', '.join(VERDICTS)}")
    depth = check_depth(obs.water_depth_m) if obs.water_depth_m is not None else None
    if depth is None and obs.depth_class:
        depth = depth_for_class(obs.depth_class)
    return obs.verdict, depth if obs.verdict == "flood" else None


def import_field(store: Store, source: str | Path, analyst: str | None = None) -> FieldImportSummary:
    """Import a returned package (folder or zip) or a folder of phone photos; see the module doc."""
    source = Path(source).expanduser()
    if not source.exists():
        raise FieldPackageError(f"{source} does not exist")
    with tempfile.TemporaryDirectory(prefix=".mist-field-in-") as tmp:
        if source.is_file() and source.suffix.lower() == ".zip":
            folder = _extract_zip(source, Path(tmp).resolve())
        elif source.is_dir():
            folder = source.resolve()
        else:
            raise FieldPackageError(f"{source.name} is neither a field package (folder or .zip) nor a photo folder")
        is_package = (folder / layout.GPKG).exists()
        observations = read_package(folder) if is_package else read_photo_folder(folder)
        with run_stage(store, STAGE, {"source": str(source), "package": is_package, "analyst": analyst}) as run:
            summary = _import(store, run.run_id, observations, analyst or layout.DEFAULT_ANALYST, source.name)
            run.counts = summary.counts()
    return summary


def _import(store: Store, run_id: int, observations: list[Observation], analyst: str, origin: str
            ) -> FieldImportSummary:
    from ..images.cache import MediaCache
    from ..images.safe_decode import DecodeError, decode_file
    from ..store import geoloc_sql
    from ..verify.verdicts import write_verdicts

    summary = FieldImportSummary(run_id, observations=len(observations))
    cache = MediaCache(store.media_dir)
    issues = summary.issues
    digests = {}
    for obs in observations:
        if obs.photo is not None and obs.photo.is_file():
            digests[obs.source] = sha256_file(obs.photo)
    known = sql.known_sha256(store, digests.values())
    seen_ids: set[str] = set()
    for obs in observations:
        sha = digests.get(obs.source)
        post_id = obs.uuid or sha
        if post_id is None:
            issues.append((obs.source, None, "an observation with neither an id nor a photo: skipped"))
            summary.skipped += 1
            continue
        notes: list[str] = []  # what is wrong with this observation, one issue row each
        if obs.photo is not None and sha is None:
            notes.append(f"photo {obs.photo_rel} is missing from the package: imported without it")
        if sql.has_post(store, layout.PLATFORM, post_id) or post_id in seen_ids or (sha is not None and sha in known):
            summary.duplicates += 1
            continue
        seen_ids.add(post_id)
        exif = decoded_info = None
        if sha is not None:
            try:
                with decode_file(obs.photo) as decoded:
                    data = decoded.cache_bytes(obs.photo.read_bytes())
                    cached = cache.put(data, decoded.extension)
                    cache.ensure_thumbnail(cached.sha256, decoded.image)
                    exif = decoded.exif
                    decoded_info = (cached, decoded.width, decoded.height, decoded.content_type)
            except (DecodeError, OSError) as exc:
                issues.append((obs.source, None, f"photo {obs.photo_rel} is not a readable image ({exc}): skipped"))
                summary.skipped += 1
                continue
        raw_direction = _raw_direction(obs.photo) if exif is not None and exif.direction is None else None
        checked = check_observation(obs, exif, raw_direction)
        notes += checked.flags
        try:
            verdict = _verdict_of(obs)
        except VerdictError as exc:
            notes.append(f"{exc}: imported without a verdict")
            verdict = None
        record = PostRecord(
            post_id=post_id, platform=layout.PLATFORM, lon=checked.lon, lat=checked.lat, text=obs.note or "",
            timestamp=checked.when, geo_source=checked.geo_source, geo_accuracy_m=obs.gps_accuracy_m,
            media=[MediaRef(path=obs.photo_rel)] if decoded_info else [], direction=checked.heading,
            source_file=f"{origin}/{obs.source}", attributes={"observation": obs.uuid} if obs.uuid else {},
        )
        with store.batch() as conn:
            inserted, _ = store.add_posts(conn, [record], run_id)
            fid = sql.post_fid(conn, layout.PLATFORM, post_id)
            media_fid = None
            if decoded_info:
                cached, width, height, ctype = decoded_info
                media_fid = sql.mark_media_cached(
                    conn, fid, cached.cache_path, cached.sha256, width, height, cached.bytes, ctype,
                    exif.to_json() if exif is not None else None)
                known.add(sha)
            if checked.trusted_reference and decoded_info:
                ref = ReferenceRecord(
                    ref_id=obs.uuid or sha, lon=exif.lon, lat=exif.lat, image_path=str(decoded_info[0].path),
                    collection=layout.PLATFORM, heading=checked.heading,
                    accuracy_m=obs.gps_accuracy_m if obs.gps_accuracy_m and obs.gps_accuracy_m > 0
                    else DEFAULT_ACCURACY_M,
                    captured_at=_utc_text(checked.when),
                    source_format=layout.PLATFORM, source_file=f"{origin}/{obs.photo_rel}")
                summary.references += geoloc_sql.insert_references(conn, [ref], run_id)[0]
        summary.imported += inserted
        if checked.lon is None:
            summary.unlocated += 1
        if verdict is not None and fid is not None:
            name = obs.analyst or analyst
            try:
                write_verdicts(store, [Verdict(fid, verdict[0], name, media_fid, verdict[1], obs.note)])
                summary.verdicts += 1
            except VerdictError as exc:  # a hand-typed observer name or note the store cannot take
                notes.append(f"{exc}: imported without a verdict")
        issues.extend((obs.source, None, note) for note in notes)
        summary.flagged += bool(notes)
    if issues:
        with store.batch() as conn:
            store.record_issues(conn, run_id, STAGE, issues)
    return summary
