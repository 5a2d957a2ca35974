"""Where models come from: the repository's `models/build` folder, the QGIS profile's model folder
and folders the user adds; and model packs (a folder or a zip with a sha256 manifest) that an
offline team imports.

Packs are untrusted: every file is checked against the sha256 in the pack's `mist-pack.json`,
names that would land outside the target folder (absolute paths, `..`, links) reject the whole
pack, and nothing is unpacked in place: files go to a temporary folder first and are moved in
only when every check passed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import Cancelled, MistError
from ..stage import IsCancelled, Progress
from .card import ModelCard, ModelCardError
from .runtime import read_card

PACK_MANIFEST = "mist-pack.json"
MAX_PACK_BYTES = 8 * 1024**3
_CHUNK = 1 << 20


class ModelPackError(MistError, ValueError):
    """A model pack was refused; the message says which file and why."""


class _Meter:
    """Bytes copied out of all the bytes a pack import copies; polls for cancel on the way."""

    def __init__(self, progress: Progress | None, is_cancelled: IsCancelled | None) -> None:
        self.progress = progress
        self.is_cancelled = is_cancelled
        self.total = 0
        self.done = 0

    def tick(self, n: int) -> None:
        if self.is_cancelled is not None and self.is_cancelled():
            raise Cancelled("model pack import cancelled")
        self.done += n
        if self.progress is not None and self.total:
            self.progress(min(100.0, 100.0 * self.done / self.total))


class ModelNotFoundError(MistError, LookupError):
    """No registered model matches an id, id@version or path."""


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: its card, file, size and which folder it came from."""

    card: ModelCard
    path: Path
    origin: str  # "user", "profile" or "build"
    size_bytes: int


@dataclass(frozen=True)
class RegistryProblem:
    """A file in a model folder that is not a usable MIST model, and why."""

    path: Path
    reason: str


def build_folder() -> Path:
    """The repository's `models/build` folder (what `make models` writes)."""
    from ...paths import REPO_DIR

    return REPO_DIR / "models" / "build"


def profile_folder(profile_dir: str | Path) -> Path:
    """The model folder inside a QGIS profile (QgsApplication.qgisSettingsDirPath())."""
    return Path(profile_dir) / "mist" / "models"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _version_key(version: str) -> tuple:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-_]", version))


class ModelRegistry:
    """Models found in an ordered list of folders; earlier folders win when tags collide."""

    def __init__(self, folders: list[tuple[str, Path]]) -> None:
        self.folders = [(origin, Path(folder)) for origin, folder in folders]
        self._entries: list[ModelEntry] | None = None
        self.problems: list[RegistryProblem] = []

    @classmethod
    def default(cls, profile_dir: str | Path | None = None, user_folders: list[str | Path] = ()) -> ModelRegistry:
        folders: list[tuple[str, Path]] = [("user", Path(f)) for f in user_folders]
        if profile_dir:
            folders.append(("profile", profile_folder(profile_dir)))
        folders.append(("build", build_folder()))
        return cls(folders)

    def refresh(self) -> list[ModelEntry]:
        entries: list[ModelEntry] = []
        problems: list[RegistryProblem] = []
        seen: set[str] = set()
        for origin, folder in self.folders:
            if not folder.is_dir():
                continue
            for path in sorted({*folder.glob("*.onnx"), *folder.glob("*/*.onnx")}):
                try:
                    card = read_card(path)
                except (ModelCardError, ValueError, OSError) as exc:
                    problems.append(RegistryProblem(path, str(exc)))
                    continue
                if card.tag in seen:
                    continue
                seen.add(card.tag)
                entries.append(ModelEntry(card, path.resolve(), origin, path.stat().st_size))
        self._entries, self.problems = entries, problems
        return entries

    def entries(self) -> list[ModelEntry]:
        return self._entries if self._entries is not None else self.refresh()

    def resolve(self, ref: str | Path) -> ModelEntry:
        """An entry from an ONNX path, an id@version tag, or an id (its highest version)."""
        candidate = Path(ref).expanduser()
        if str(ref).endswith(".onnx") or candidate.is_file():
            if not candidate.is_file():
                raise ModelNotFoundError(f"model file {candidate} does not exist")
            card = read_card(candidate)
            return ModelEntry(card, candidate.resolve(), "path", candidate.stat().st_size)
        ref = str(ref)
        entries = self.entries()
        exact = [e for e in entries if e.card.tag == ref]
        if exact:
            return exact[0]
        same_id = [e for e in entries if e.card.id == ref]
        if same_id:
            return max(same_id, key=lambda e: _version_key(e.card.version))
        known = ", ".join(sorted(e.card.tag for e in entries)) or "none"
        raise ModelNotFoundError(
            f"no model {ref!r} in the registry (known: {known}); add its folder or import a model pack in "
            "MIST › Models…, or run `make models` (it installs into the QGIS profile)")


# -- model packs ----------------------------------------------------------------------------


def _safe_relative(name: str) -> PurePosixPath:
    """A pack member name as a relative path that cannot leave the target folder."""
    if not name or "\\" in name or "\x00" in name:
        raise ModelPackError(f"unsafe file name in pack: {name!r}")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or any(p in ("", ".") for p in path.parts) or \
            re.match(r"^[A-Za-z]:", name):
        raise ModelPackError(f"unsafe file name in pack (would leave the target folder): {name!r}")
    return path


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    return slug[:80] or "pack"


def _read_manifest(text: str, where: str) -> tuple[str, dict[PurePosixPath, str]]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ModelPackError(f"{where}: {PACK_MANIFEST} is not valid JSON: {exc}") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or not files:
        raise ModelPackError(f"{where}: {PACK_MANIFEST} must list 'files' with 'path' and 'sha256'")
    out: dict[PurePosixPath, str] = {}
    for entry in files:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or \
                not re.fullmatch(r"[0-9a-f]{64}", str(entry.get("sha256", ""))):
            raise ModelPackError(f"{where}: bad file entry in {PACK_MANIFEST}: {entry!r}")
        out[_safe_relative(entry["path"])] = entry["sha256"]
    if not any(p.suffix == ".onnx" for p in out):
        raise ModelPackError(f"{where}: the pack lists no .onnx model")
    return str(data.get("name") or ""), out


def _copy_hashing(src, dst: Path, limit: int, meter: _Meter) -> str:
    digest = hashlib.sha256()
    written = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(dst, "wb") as out:
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            written += len(chunk)
            if written > limit:
                raise ModelPackError(f"{dst.name}: larger than the pack size limit")
            digest.update(chunk)
            out.write(chunk)
            meter.tick(len(chunk))
    return digest.hexdigest()


def import_pack(
    source: str | Path, target_root: str | Path, overwrite: bool = False,
    progress: Progress | None = None, is_cancelled: IsCancelled | None = None,
) -> list[ModelEntry]:
    """Import a model pack (folder or .zip) into `target_root/<pack name>/`.

    Only the files the manifest lists are copied, each checked against its sha256; every model
    must then pass its card check. On any failure, or a cancel (`is_cancelled`, polled per MiB:
    Cancelled), nothing is left in `target_root`. `progress` gets the percent copied.
    """
    meter = _Meter(progress, is_cancelled)
    source = Path(source)
    target_root = Path(target_root)
    target_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=target_root))
    try:
        if source.is_dir():
            name, files = _stage_folder(source, staging, meter)
        elif zipfile.is_zipfile(source):
            name, files = _stage_zip(source, staging, meter)
        else:
            raise ModelPackError(f"{source}: not a folder or a zip file")
        entries = []
        for rel in files:
            if rel.suffix == ".onnx":
                path = staging / rel
                try:
                    card = read_card(path)
                except (ModelCardError, ValueError) as exc:
                    raise ModelPackError(f"{source}: {rel}: {exc}") from None
                entries.append((rel, card))
        target = target_root / _slug(name or source.stem.removesuffix(".zip"))
        if target.exists():
            if not overwrite:
                raise ModelPackError(f"{target} already exists; remove it or import with overwrite")
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [
        ModelEntry(card.with_path(target / rel), target / rel, "profile", (target / rel).stat().st_size)
        for rel, card in entries
    ]


def _stage_folder(source: Path, staging: Path, meter: _Meter) -> tuple[str, list[PurePosixPath]]:
    manifest = source / PACK_MANIFEST
    if not manifest.is_file():
        raise ModelPackError(f"{source}: no {PACK_MANIFEST} in the folder")
    name, files = _read_manifest(manifest.read_text(encoding="utf-8"), str(source))
    root = source.resolve()
    meter.total = sum((source / rel).stat().st_size for rel in files if (source / rel).is_file())
    for rel, expected in files.items():
        path = source / rel
        if path.is_symlink() or root not in path.resolve().parents:
            raise ModelPackError(f"{source}: {rel} is a link or leaves the pack folder")
        if not path.is_file():
            raise ModelPackError(f"{source}: {rel} is listed in {PACK_MANIFEST} but missing")
        with open(path, "rb") as fh:
            got = _copy_hashing(fh, staging / rel, MAX_PACK_BYTES, meter)
        if got != expected:
            raise ModelPackError(f"{source}: {rel}: sha256 {got} does not match the manifest ({expected})")
    return name, list(files)


def _stage_zip(source: Path, staging: Path, meter: _Meter) -> tuple[str, list[PurePosixPath]]:
    with zipfile.ZipFile(source) as archive:
        members = {}
        for info in archive.infolist():
            rel = _safe_relative(info.filename.rstrip("/")) if info.filename.rstrip("/") else None
            if rel is None:
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ModelPackError(f"{source}: {info.filename} is a symbolic link")
            members[rel] = info
        # A pack may wrap everything in one top folder: find the manifest at the top or one down.
        manifests = [r for r in members if r.name == PACK_MANIFEST and len(r.parts) <= 2]
        if len(manifests) != 1:
            raise ModelPackError(f"{source}: expected one {PACK_MANIFEST} at the top of the zip")
        prefix = manifests[0].parent
        total = sum(members[r].file_size for r in members)
        if total > MAX_PACK_BYTES:
            raise ModelPackError(f"{source}: unpacks to {total} bytes, over the {MAX_PACK_BYTES} limit")
        name, files = _read_manifest(archive.read(members[manifests[0]]).decode("utf-8"), str(source))
        meter.total = sum(members[prefix / rel].file_size for rel in files if prefix / rel in members)
        for rel, expected in files.items():
            info = members.get(prefix / rel)
            if info is None or info.is_dir():
                raise ModelPackError(f"{source}: {rel} is listed in {PACK_MANIFEST} but missing")
            with archive.open(info) as fh:
                got = _copy_hashing(fh, staging / rel, info.file_size, meter)
            if got != expected:
                raise ModelPackError(f"{source}: {rel}: sha256 {got} does not match the manifest ({expected})")
    return name, list(files)


def make_pack(files: list[Path], out: str | Path, name: str, base: Path | None = None) -> Path:
    """Write a model pack (a .zip, or a folder when `out` has no .zip suffix) with its manifest.

    `base` is the folder paths are stored relative to (default: each file's own folder).
    """
    out = Path(out)
    rels = [(f, PurePosixPath(f.relative_to(base).as_posix() if base else f.name)) for f in files]
    manifest = json.dumps(
        {"name": name, "files": [{"path": str(rel), "sha256": sha256_file(f)} for f, rel in rels]}, indent=2
    )
    if out.suffix == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(PACK_MANIFEST, manifest)
            for f, rel in rels:
                archive.write(f, str(rel))
    else:
        out.mkdir(parents=True, exist_ok=True)
        (out / PACK_MANIFEST).write_text(manifest, encoding="utf-8")
        for f, rel in rels:
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, out / rel)
    return out
