"""The real QGIS desktop under Xvfb, running one of our scripts inside it (`--code`): shared by
`screenshots.py` and `tutorial_desktop.py`.

Outside QGIS, a launcher makes a throwaway profile with the plugin installed and enabled
(`fresh_profile`) and starts QGIS on it (`run_qgis`). QGIS then runs the same script file with
`exec()`, without `__file__`: `run_qgis` tells it its own path (`script_path`) and puts this folder
on QGIS's Python path, so the script imports this module there too and can tell which side it is
on (`in_qgis`). Inside QGIS, `grab` saves a widget as PNG and `later` runs a step after a delay,
leaving QGIS (never hanging on its error dialog) if the step raises.

Set MIST_XVFB_DISPLAY (a number) to use that display instead of `xvfb-run -a`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

SCRIPT_ENV = "MIST_QGIS_SCRIPT"  # set for QGIS by run_qgis: the script it runs
HERE = Path(__file__).resolve().parent


def script_path(namespace: dict) -> Path:
    """The running script's file: its `__file__`, or inside QGIS the path `run_qgis` passed."""
    file = namespace.get("__file__")
    return Path(file).resolve() if file else Path(os.environ[SCRIPT_ENV])


def in_qgis() -> bool:
    """True inside the QGIS that `run_qgis` started (the script runs there by `--code`)."""
    return bool(os.environ.get(SCRIPT_ENV))


def site_packages() -> list[str]:
    """The venv's packages (onnxruntime and friends) for QGIS's Python; not the repo's mist_qgis."""
    return [p for p in sys.path if p.endswith("site-packages")]


def fresh_profile(root: Path, plugin: Path) -> Path:
    """A QGIS profile `root/profiles/default` (QGIS's layout under `--profiles-path root`) with
    the plugin installed, from its folder or its zip, and enabled, as `make deploy` installs it."""
    from enable_plugin import enable

    profile = root / "profiles" / "default"
    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True)
    if plugin.is_dir():
        shutil.copytree(plugin, plugins / plugin.name)
        name = plugin.name
    else:
        with zipfile.ZipFile(plugin) as zf:
            zf.extractall(plugins)
            name = zf.namelist()[0].split("/")[0]
    enable(name, profile / "QGIS" / "QGIS3.ini")
    return profile


def run_qgis(profiles: Path, script: Path, env: dict[str, str], screen: tuple[int, int], timeout_s: int) -> int | None:
    """QGIS with `--profiles-path profiles --code script`; its exit status, None on timeout
    (then xvfb-run, its Xvfb and QGIS, the process group started here, are stopped)."""
    env = dict(env)
    env.pop("QT_QPA_PLATFORM", None)
    # the QGIS under test first (scripts/qgis_env.sh puts its bindings there), then the venv's packages
    env["PYTHONPATH"] = os.pathsep.join([*filter(None, env.get("PYTHONPATH", "").split(os.pathsep)),
                                         *site_packages(), str(HERE)])
    env[SCRIPT_ENV] = str(script)
    display = os.environ.get("MIST_XVFB_DISPLAY")
    server = ["-n", display] if display else ["-a"]
    cmd = ["xvfb-run", *server, "-s", f"-screen 0 {screen[0]}x{screen[1]}x24", "qgis", "--profiles-path",
           str(profiles), "--nologo", "--noversioncheck", "--code", str(script)]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        return None


# -- inside QGIS ------------------------------------------------------------------------------


def grab(widget, path: Path) -> None:
    """Save what the widget shows (after pending events) as a PNG."""
    from qgis.PyQt.QtWidgets import QApplication

    QApplication.processEvents()
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")


def later(delay_ms: int, step: Callable[[], None], on_error: Callable[[str], None] | None = None) -> None:
    """Run `step` after `delay_ms`; if it raises, print the traceback, hand it to `on_error` and
    leave QGIS with status 1."""
    from qgis.PyQt.QtCore import QTimer

    def run() -> None:
        try:
            step()
        except Exception:
            import traceback

            text = traceback.format_exc()
            print(text, file=sys.stderr)
            if on_error is not None:
                on_error(text)
            os._exit(1)

    QTimer.singleShot(delay_ms, run)
