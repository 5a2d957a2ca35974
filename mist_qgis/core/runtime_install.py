"""Install MIST's run-time Python packages into a folder the plugin owns, from inside QGIS.

The folder is `<QGIS profile>/mist/runtime/<MIST version>/site`, appended to `sys.path` when the
plugin loads (after QGIS's own paths: the numpy, GDAL and PyQt that QGIS was built with always
win). The plan therefore resolves against what QGIS's Python already has: every distribution it
has is pinned to the version it has and not installed again, so numpy's ABI stays QGIS's.

Steps, each with a message a GIS user can act on (`InstallError` names the package, the reason
and what to do):
1. plan: `pip install --dry-run --report` with the run-time pins, from the package index or an
   offline wheelhouse (a folder or a zip of wheels), checked first for corrupt wheels and wheels
   built for another Python;
2. install: `pip install --target <staging> --no-deps` of exactly the planned wheels, with
   progress and cancel;
3. verify: import the whole set in a separate process (QGIS's interpreter, QGIS's paths, staging
   appended);
4. commit: only a verified staging folder is renamed into place, so nothing half-installed is
   ever on `sys.path`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .dependencies import OPTIONAL_PACKAGES, RUNTIME_MODULES
from .errors import Cancelled, MistError
from .gpu import GpuProbe
from .interpreter import python_executable

INDEX = "index"  # Source.kind for the package index pip is configured with
ONNXRUNTIME_CPU = "onnxruntime"
ONNXRUNTIME_GPU = "onnxruntime-gpu"
GPU_EXTRAS = "cuda,cudnn"  # onnxruntime-gpu's own CUDA and cuDNN wheels: only the driver is needed
MARKER = "install.json"  # written last into a verified folder; the plugin trusts no folder without it
# QGIS's own bindings: never planned, never installed, whatever the pins say.
NEVER_INSTALL = frozenset({"numpy", "gdal", "pyqt5", "pyqt5-sip", "pyqt6", "pyqt6-sip", "qgis"})


class InstallError(MistError):
    """An installation step failed; `package`, `reason` and `action` are what the dialog shows."""

    def __init__(self, reason: str, action: str, package: str | None = None) -> None:
        self.package = package
        self.reason = reason
        self.action = action
        head = f"{package}: {reason}" if package else reason
        super().__init__(f"{head} {action}")


# -- where ------------------------------------------------------------------------------------------


def runtime_root(profile_dir: str | Path) -> Path:
    """`<QGIS profile>/mist/runtime`: one subfolder per MIST version."""
    return Path(profile_dir) / "mist" / "runtime"


def runtime_dir(profile_dir: str | Path, version: str) -> Path:
    return runtime_root(profile_dir) / version


def site_dir(profile_dir: str | Path, version: str) -> Path:
    """The folder that goes on `sys.path`."""
    return runtime_dir(profile_dir, version) / "site"


def installed_record(profile_dir: str | Path, version: str) -> dict | None:
    """What a verified installation recorded (variant, reason, packages), or None."""
    try:
        return json.loads((runtime_dir(profile_dir, version) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def activate(profile_dir: str | Path, version: str, path: list[str] | None = None) -> Path | None:
    """Append this MIST version's verified package folder to `sys.path` (after QGIS's own paths).

    A folder without its marker (an interrupted install, a copied profile) is ignored."""
    path = sys.path if path is None else path
    if installed_record(profile_dir, version) is None:
        return None
    folder = site_dir(profile_dir, version)
    if str(folder) not in path:
        path.append(str(folder))
    return folder


def requirements_dir() -> Path:
    """requirements/ inside the installed plugin (`make package` copies it) or at the repo root."""
    from ..paths import PACKAGE_DIR, REPO_DIR

    for candidate in (PACKAGE_DIR / "requirements", REPO_DIR / "requirements"):
        if (candidate / "runtime.txt").is_file():
            return candidate
    raise InstallError("the plugin's list of packages (requirements/runtime.txt) is missing.",
                       "Reinstall MIST from the plugin manager or its zip.")


# -- which onnxruntime ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnnxChoice:
    distribution: str  # onnxruntime or onnxruntime-gpu
    extras: str  # "" or the CUDA extras
    reason: str

    @property
    def gpu(self) -> bool:
        return self.distribution == ONNXRUNTIME_GPU


def choose_onnxruntime(probe: GpuProbe, force_cpu: bool = False) -> OnnxChoice:
    """The GPU build only when the driver works: without one the GPU wheel and its CUDA libraries
    are 2.6 GB that serve nothing."""
    if force_cpu:
        return OnnxChoice(ONNXRUNTIME_CPU, "", "the CPU build was asked for")
    if probe.usable:
        return OnnxChoice(ONNXRUNTIME_GPU, GPU_EXTRAS, f"{probe.reason}: models run on the GPU (CUDA)")
    return OnnxChoice(ONNXRUNTIME_CPU, "", f"{probe.reason}: models run on the CPU")


# -- pins -------------------------------------------------------------------------------------------


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


def read_pins(path: Path) -> dict[str, tuple[str, str]]:
    """`name==version` lines of a requirements file: canonical name -> (name, version)."""
    pins: dict[str, tuple[str, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            pins[canonical(match.group(1))] = (match.group(1), match.group(2))
    return pins


def present_distributions(paths: Iterable[str]) -> dict[str, str]:
    """Distributions the Python of QGIS already has on these paths: canonical name -> version."""
    from importlib import metadata

    found: dict[str, str] = {}
    for dist in metadata.distributions(path=[p for p in paths if p and os.path.isdir(p)]):
        name = dist.metadata["Name"] if dist.metadata else None
        if name and canonical(name) not in found:
            found[canonical(name)] = dist.version
    return found


def present_in(interpreter: str) -> dict[str, str]:
    """`present_distributions` of another Python (a wheelhouse made for that QGIS)."""
    code = ("import json, sys; from importlib import metadata; print(json.dumps({d.metadata['Name']: d.version "
            "for d in metadata.distributions() if d.metadata and d.metadata['Name']}))")
    out = subprocess.run([interpreter, "-c", code], capture_output=True, text=True, check=True, env=clean_env())
    return {canonical(name): version for name, version in json.loads(out.stdout).items()}


def base_paths(profile_dir: str | Path) -> list[str]:
    """QGIS's own `sys.path`, without any MIST runtime folder (an older or the current one)."""
    root = str(runtime_root(profile_dir).resolve())
    return [p for p in sys.path if p and not os.path.abspath(p).startswith(root)]


def runtime_requirements(choice: OnnxChoice, pins: dict[str, tuple[str, str]],
                         present: dict[str, str]) -> tuple[list[str], list[str]]:
    """(requirements, constraints) for pip: the run-time pins with the chosen onnxruntime, and
    every distribution QGIS already has held at the version it has.

    With nothing present (a fresh Python) the pins are exact: the tested set. Otherwise each pin
    is a ceiling: the tested version when it fits QGIS's own packages, else the newest older one
    that does (Debian 12's QGIS has numpy 1.24 and Pillow 9.4; shapely 2.2 needs numpy 1.26)."""
    op = "<=" if present else "=="
    requirements = []
    for key, (name, version) in pins.items():
        if key in (ONNXRUNTIME_CPU, ONNXRUNTIME_GPU):
            extras = f"[{choice.extras}]" if choice.extras else ""
            requirements.append(f"{choice.distribution}{extras}=={version}")
        elif key in present:
            requirements.append(name)  # whatever QGIS has, held there by the constraints
        else:
            requirements.append(f"{name}{op}{version}")
    constraints = [f"{name}=={version}" for name, version in sorted(present.items())]
    return requirements, constraints


# -- sources ----------------------------------------------------------------------------------------


@dataclass
class Source:
    """Where the wheels come from: the package index, or a wheelhouse folder or zip."""

    kind: str  # INDEX or a path
    label: str = ""

    @staticmethod
    def index() -> Source:
        return Source(INDEX, "the Python package index")

    @staticmethod
    def wheelhouse(path: str | Path) -> Source:
        return Source(str(path), f"the wheelhouse {path}")

    @property
    def offline(self) -> bool:
        return self.kind != INDEX


_WHEEL = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$")


def open_wheelhouse(path: Path, scratch: Path) -> Path:
    """The wheelhouse folder: the folder itself, or a zip's wheels extracted into `scratch` (by
    base name only, so a hostile zip cannot write elsewhere)."""
    if path.is_dir():
        return path
    if not path.is_file():
        raise InstallError(f"the wheelhouse {path} does not exist.", "Choose the folder or zip of wheels.")
    try:
        with zipfile.ZipFile(path) as zf:
            scratch.mkdir(parents=True, exist_ok=True)
            for info in zf.infolist():
                base = os.path.basename(info.filename)
                if base.endswith(".whl") and not info.is_dir():
                    with zf.open(info) as src, open(scratch / base, "wb") as dst:
                        shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile:
        raise InstallError(f"{path} is not a readable zip file.",
                           "Copy the wheelhouse zip again, or unpack it and choose the folder.") from None
    return scratch


def _compatible_tags() -> set[tuple[str, str, str]]:
    try:
        from packaging.tags import sys_tags
    except ImportError:  # pip carries its own copy
        from pip._vendor.packaging.tags import sys_tags
    return {(t.interpreter, t.abi, t.platform) for t in sys_tags()}


def check_wheelhouse(folder: Path, wanted: Iterable[str]) -> None:
    """Refuse a wheelhouse whose wheels for `wanted` projects are corrupt or all built for another
    Python, naming the package, before pip gives a less readable answer."""
    tags = _compatible_tags()
    wanted = {canonical(n) for n in wanted}
    by_project: dict[str, list[tuple[Path, bool]]] = {}
    for wheel in sorted(folder.glob("*.whl")):
        match = _WHEEL.match(wheel.name)
        if not match:
            continue
        project = canonical(match["name"])
        if project not in wanted:
            continue
        fits = any((py, abi, plat) in tags for py in match["py"].split(".")
                   for abi in match["abi"].split(".") for plat in match["plat"].split("."))
        by_project.setdefault(project, []).append((wheel, fits))
        try:
            with zipfile.ZipFile(wheel) as zf:
                bad = zf.testzip()
        except (zipfile.BadZipFile, OSError, EOFError):
            bad = wheel.name
        if bad is not None:
            raise InstallError(f"the wheel {wheel.name} in the wheelhouse is damaged (cannot be unpacked).",
                               "Download that wheel again into the wheelhouse, then install again.",
                               package=match["name"])
    py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    for project, wheels in by_project.items():
        if not any(fits for _, fits in wheels):
            names = ", ".join(w.name for w, _ in wheels)
            raise InstallError(
                f"the wheelhouse has it only for another Python or system ({names}); this QGIS runs "
                f"Python {sys.version_info[0]}.{sys.version_info[1]} ({py}) on {sys.platform}.",
                "Make the wheelhouse with the same Python version and system as QGIS "
                "(pip download --python-version and --platform), then install again.",
                package=project)


# -- pip --------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What will be installed, from where, and why this onnxruntime."""

    interpreter: str
    choice: OnnxChoice
    source: Source
    wheelhouse: str | None  # the folder pip reads (a zip's extraction)
    requirements: list[str]
    constraints: list[str]
    present: dict[str, str]
    install: list[tuple[str, str]] = field(default_factory=list)  # (name, version), pip's order
    download_bytes: int = 0


def pip_command(interpreter: str, wheelhouse: str | None) -> list[str]:
    """`python -m pip`, or pip run from its own wheel in the wheelhouse when QGIS's Python has
    none (Debian without python3-pip)."""
    probe = subprocess.run([interpreter, "-m", "pip", "--version"], capture_output=True, text=True,
                           env=clean_env(), timeout=60)
    if probe.returncode == 0:
        return [interpreter, "-m", "pip"]
    if wheelhouse:
        wheels = sorted(Path(wheelhouse).glob("pip-*.whl"))
        if wheels:
            return [interpreter, str(wheels[-1] / "pip")]
    raise InstallError(f"QGIS's Python ({interpreter}) has no pip.",
                       "Install pip for it (on Debian/Ubuntu: apt install python3-pip), or use a wheelhouse "
                       "that contains a pip wheel.", package="pip")


def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("PYTHONPATH", "PYTHONHOME", "PIP_TARGET", "PIP_PREFIX", "PIP_USER", "PIP_REQUIRE_VIRTUALENV"):
        env.pop(key, None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _source_args(plan_source: Source, wheelhouse: str | None) -> list[str]:
    return ["--no-index", "--find-links", wheelhouse] if plan_source.offline and wheelhouse else []


_NO_MATCH = re.compile(r"(?:No matching distribution found for|satisfies the requirement) ([A-Za-z0-9._-]+)")
_CONFLICT = re.compile(r"The conflict is caused by:\s*(.+?)(?:\n\n|\Z)", re.S)
_BAD_WHEEL = re.compile(
    r"(?:Wheel|wheel) '?([A-Za-z0-9._-]+)'? .*?(?:invalid|is not a valid)|BadZipFile.*?([A-Za-z0-9_.-]+\.whl)")


def explain_pip_failure(output: str, source: Source) -> InstallError:
    """Turn pip's last words into which package, why, what to do."""
    match = _NO_MATCH.search(output)
    if match:
        package = match.group(1)
        if source.offline:
            return InstallError(f"the wheelhouse has no wheel of it that fits (Python {sys.version_info[0]}."
                                f"{sys.version_info[1]}, {sys.platform}).",
                                "Add that wheel to the wheelhouse (pip download it with the same Python as "
                                "QGIS), then install again.", package=package)
        return InstallError("the package index has no version of it that fits this Python and system, or "
                            "the index cannot be reached.",
                            "Check the network connection or proxy (pip's own settings), or install from a "
                            "wheelhouse.", package=package)
    match = _CONFLICT.search(output)
    if match:
        detail = " ".join(match.group(1).split())
        return InstallError(f"the packages QGIS's Python already has do not fit MIST's ({detail}).",
                            "Update QGIS, or report this to MIST with the message.")
    match = _BAD_WHEEL.search(output)
    if match:
        return InstallError("a wheel is damaged or not a wheel.", "Download it again, then install again.",
                            package=match.group(1) or match.group(2))
    last = [line for line in output.strip().splitlines() if line.strip()][-3:]
    return InstallError(f"pip failed: {' / '.join(last) or 'no message'}.",
                        "Check the network or the wheelhouse, then install again.")


def make_plan(profile_dir: str | Path, source: Source, scratch: Path, choice: OnnxChoice,
              interpreter: str | None = None, pins_dir: Path | None = None) -> Plan:
    """Resolve what to install (pip's own resolver, dry run) against what QGIS already has."""
    interpreter = interpreter or python_executable()
    if not interpreter:
        raise InstallError("the Python interpreter of QGIS cannot be found.", "Report this to MIST.")
    pins_dir = pins_dir or requirements_dir()
    pins = read_pins(pins_dir / "runtime.txt")
    present = present_distributions(base_paths(profile_dir))
    requirements, constraints = runtime_requirements(choice, pins, present)
    wheelhouse = None
    if source.offline:
        wheelhouse = str(open_wheelhouse(Path(source.kind), scratch / "wheelhouse"))
        universe = set(read_pins(pins_dir / "constraints.txt")) | {ONNXRUNTIME_CPU, ONNXRUNTIME_GPU}
        check_wheelhouse(Path(wheelhouse), universe - set(present))
    install = resolve(interpreter, requirements, constraints, source, wheelhouse, scratch, _pip_env(profile_dir))
    # Never over QGIS's own bindings: pip would only plan them if another package needed a newer
    # one than QGIS has; verification then says which package cannot load.
    install = [(n, v) for n, v in install if not (canonical(n) in NEVER_INSTALL and canonical(n) in present)]
    return Plan(interpreter, choice, source, wheelhouse, requirements, constraints, present, install)


def resolve(interpreter: str, requirements: list[str], constraints: list[str], source: Source,
            wheelhouse: str | None, scratch: Path, env: dict[str, str]) -> list[tuple[str, str]]:
    """pip's resolver, dry run, against the packages `interpreter` already has: the (name,
    version) pairs to install, in pip's order."""
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
    (scratch / "constraints.txt").write_text("\n".join(constraints) + "\n", encoding="utf-8")
    report = scratch / "report.json"
    cmd = pip_command(interpreter, wheelhouse) + [
        "install", "--dry-run", "--quiet", "--report", str(report), "--only-binary", ":all:",
        "-r", str(scratch / "requirements.txt"), "-c", str(scratch / "constraints.txt"),
        *_source_args(source, wheelhouse)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if result.returncode != 0:
        raise explain_pip_failure(result.stderr + result.stdout, source)
    items = json.loads(report.read_text(encoding="utf-8")).get("install", [])
    return [(item["metadata"]["name"], item["metadata"]["version"]) for item in items]


def _pip_env(profile_dir: str | Path) -> dict[str, str]:
    """pip sees QGIS's own packages (to resolve against them) and no MIST runtime folder."""
    env = clean_env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in base_paths(profile_dir) if os.path.isdir(p))
    return env


ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]


def _run_pip(cmd: list[str], env: dict[str, str], total: int, progress: ProgressFn, cancelled: CancelFn,
             log: list[str]) -> int:
    """Run pip, reporting per-package progress from its output; kill it on cancel."""
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, text=True)
        seen = 0
        read_at = 0
        while proc.poll() is None:
            if cancelled():
                proc.kill()
                proc.wait()
                raise Cancelled("installation cancelled; nothing was changed")
            time.sleep(0.2)
            out.seek(read_at)
            chunk = out.read()
            read_at = out.tell()
            for line in chunk.splitlines():
                log.append(line)
                if line.startswith(("Processing ", "Collecting ", "Downloading ")) and total:
                    seen += line.startswith(("Processing ", "Collecting "))
                    progress(min(seen / total, 1.0) * 0.8, line.strip())
                elif line.startswith("Installing collected packages"):
                    progress(0.8, "unpacking…")
        out.seek(read_at)
        log.extend(out.read().splitlines())
        return proc.returncode


def install_into(plan: Plan, staging: Path, progress: ProgressFn, cancelled: CancelFn, profile_dir: str | Path) -> None:
    """pip install exactly the planned wheels, without dependencies, into `staging`."""
    staging.mkdir(parents=True, exist_ok=True)
    if not plan.install:
        return
    specs = [f"{name}=={version}" for name, version in plan.install]
    cmd = pip_command(plan.interpreter, plan.wheelhouse) + [
        "install", "--no-deps", "--only-binary", ":all:", "--no-compile", "--progress-bar", "off",
        "--target", str(staging), *specs, *_source_args(plan.source, plan.wheelhouse)]
    log: list[str] = []
    code = _run_pip(cmd, _pip_env(profile_dir), len(specs), progress, cancelled, log)
    if code != 0:
        raise explain_pip_failure("\n".join(log), plan.source)


_VERIFY = r"""
import importlib, json, sys
sys.path.append(sys.argv[1])
failed = {}
for module in json.loads(sys.argv[2]):
    try:
        importlib.import_module(module)
    except BaseException as exc:
        failed[module] = f"{type(exc).__name__}: {exc}".strip()[:400]
info = {}
try:
    import numpy, onnxruntime
    info = {"numpy": numpy.__version__, "numpy_path": numpy.__file__,
            "providers": onnxruntime.get_available_providers()}
except BaseException:
    pass
print(json.dumps({"failed": failed, "info": info}))
"""


def verify(plan: Plan, staging: Path, profile_dir: str | Path, modules: Iterable[str] = RUNTIME_MODULES) -> dict:
    """Import the whole run-time set in a separate process, as the plugin will see it."""
    env = _pip_env(profile_dir)
    result = subprocess.run([plan.interpreter, "-c", _VERIFY, str(staging), json.dumps(list(modules))],
                            capture_output=True, text=True, env=env, timeout=600)
    try:
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise InstallError(f"the check of the installed packages crashed: {result.stderr.strip()[-300:]}",
                           "Report this to MIST with the message.") from None
    failed = outcome["failed"]
    if failed:
        module, why = next(iter(failed.items()))
        dist = OPTIONAL_PACKAGES.get(module, (module, ""))[0]
        others = f" ({len(failed) - 1} more failed the same check)" if len(failed) > 1 else ""
        raise InstallError(f"installed but cannot be loaded: {why}{others}.",
                           "Nothing was changed. Try again from the package index, or report this to MIST "
                           "with the message.", package=dist)
    return outcome["info"]


def commit(staging_root: Path, final: Path, record: dict) -> None:
    """Put a verified installation in place; the marker goes in last."""
    (staging_root / MARKER).write_text(json.dumps(record, indent=1), encoding="utf-8")
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging_root.rename(final)
    shutil.rmtree(old, ignore_errors=True)


@dataclass
class InstallResult:
    folder: Path
    choice: OnnxChoice
    installed: list[tuple[str, str]]
    reused: dict[str, str]
    providers: list[str]
    seconds: float

    def to_dict(self) -> dict:
        out = asdict(self)
        out["folder"] = str(self.folder)
        return out


def install_runtime(profile_dir: str | Path, version: str, source: Source, choice: OnnxChoice,
                    progress: ProgressFn = lambda f, m: None, cancelled: CancelFn = lambda: False,
                    interpreter: str | None = None, pins_dir: Path | None = None,
                    modules: Iterable[str] = RUNTIME_MODULES) -> InstallResult:
    """Plan, install into staging, verify, then put in place. Raises InstallError or
    Cancelled; either way the profile's current installation is untouched."""
    start = time.monotonic()
    root = runtime_root(profile_dir)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{version}.staging-", dir=root))
    try:
        progress(0.02, "resolving the packages…")
        plan = make_plan(profile_dir, source, work / "plan", choice, interpreter, pins_dir)
        if cancelled():
            raise Cancelled("installation cancelled; nothing was changed")
        staging_root = work / "runtime"
        staging = staging_root / "site"
        progress(0.05, f"installing {len(plan.install)} packages…")
        install_into(plan, staging, progress, cancelled, profile_dir)
        progress(0.85, "checking that everything loads…")
        info = verify(plan, staging, profile_dir, modules)
        if cancelled():
            raise Cancelled("installation cancelled; nothing was changed")
        pins_dir = pins_dir or requirements_dir()
        known = set(read_pins(pins_dir / "constraints.txt")) | set(read_pins(pins_dir / "runtime.txt"))
        reused = {name: v for name, v in plan.present.items() if name in known}  # MIST's, not all of QGIS's
        record = {"version": version, "onnxruntime": choice.distribution, "reason": choice.reason,
                  "source": source.label, "installed": plan.install, "reused": reused,
                  "providers": info.get("providers", []), "numpy": info.get("numpy")}
        final = runtime_dir(profile_dir, version)
        commit(staging_root, final, record)
        progress(1.0, "done")
        return InstallResult(final, choice, plan.install, reused, info.get("providers", []),
                             time.monotonic() - start)
    finally:
        shutil.rmtree(work, ignore_errors=True)
