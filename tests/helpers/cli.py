"""Two ways to run the CLI from a test; both return a `subprocess.CompletedProcess` (exit status,
stdout and stderr as text), so an assertion reads the same whichever one a test uses.

- `run_cli` runs the verb inside the test process through `mist_qgis.cli.main`, in the session's
  QGIS. Starting a new interpreter costs about a second of CPU (importing QGIS and Processing,
  starting a QgsApplication) before any work, so this is the default for a test about what a verb
  does, prints and exits with. It behaves as the program does for what tests check: the exit
  status (argparse's own exits too), what reaches file descriptors 1 and 2 (Python and native
  code alike) and the environment and folder given; and it fails the test if the verb leaves the
  process changed (folder, environment, signal handlers, log handlers, the application,
  Processing providers, files held open in the folders the command names), since a CLI run
  inside another Python program must leave that program as it found it.
- `run_cli_process` runs `python -m mist_qgis` as a program of its own. Use it only where the
  process boundary is what is tested: that the package runs as a program, the exit of a real
  interpreter, signals sent to the process, what a fresh interpreter imports.
"""

from __future__ import annotations

import importlib
import io
import locale
import logging
import os
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

Env = Mapping[str, str | None]
# Libraries whose first import changes the environment: cv2 adds its folder to LD_LIBRARY_PATH,
# scikit-learn sets KMP_DUPLICATE_LIB_OK and KMP_INIT_AT_FORK.
SET_ENVIRONMENT_ON_IMPORT = ("cv2", "sklearn")


def run_cli_process(*args: str, cwd: Path | None = None, env: Env | None = None,
                    timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m mist_qgis ARGS` in a new process; `env` adds to (a value of None: removes from)
    this process's environment."""
    return subprocess.run([sys.executable, "-m", "mist_qgis", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=_environment(env) if env is not None else None)


def run_cli(*args: str, cwd: Path | None = None, env: Env | None = None) -> subprocess.CompletedProcess:
    """`python -m mist_qgis ARGS` run by `mist_qgis.cli.main` in this process, in `cwd` and with
    `env` (as `run_cli_process` takes them) for the duration of the run only."""
    from mist_qgis.cli import main
    from mist_qgis.headless import init_processing, start_qgis

    argv = [str(a) for a in args]
    start_qgis(gui=True)  # the session's application (the GUI tests need one that can show widgets)
    init_processing()  # once per process, as each run of the program does
    for name in SET_ENVIRONMENT_ON_IMPORT:  # before the verb, whose first import of them is no leak of its own
        importlib.import_module(name)
    outer_cwd, outer_env = os.getcwd(), dict(os.environ)
    try:
        if cwd is not None:
            os.chdir(cwd)
        if env is not None:
            _set_environ(_environment(env))
        before, held = _process_state(), _open_files()
        with _program_streams() as streams:
            code = _exit_status(main, argv)
        after = _process_state()
    finally:
        os.chdir(outer_cwd)
        _set_environ(outer_env)
    changed = {key: (before[key], after[key]) for key in before if key != "environment" and before[key] != after[key]}
    old, new = before["environment"], after["environment"]
    changed.update({f"${name}": (old.get(name), new.get(name)) for name in old.keys() | new.keys()
                    if old.get(name) != new.get(name)})
    still_open = {f for f in _open_files() - held if _under(f, _named_folders(argv, cwd or outer_cwd))}
    if still_open:
        changed["open files"] = (set(), sorted(still_open))
    _restore_handlers(before)
    assert not changed, f"`{' '.join(argv)}` left the process changed (before, after): {changed}"
    return subprocess.CompletedProcess([sys.executable, "-m", "mist_qgis", *argv], code, *streams.text())


def _environment(env: Env) -> dict[str, str]:
    merged = dict(os.environ)
    for name, value in env.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def _set_environ(values: dict[str, str]) -> None:
    for name in set(os.environ) - set(values):
        del os.environ[name]
    os.environ.update(values)


def _exit_status(main, argv: list[str]) -> int:
    """The status `sys.exit(main())` gives the interpreter: SystemExit's code (None 0, a message
    printed and 1), an uncaught exception printed with its traceback and 1."""
    try:
        return main(argv)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except Exception:  # the interpreter's own last resort
        traceback.print_exc()
        return 1


class _Streams:
    def __init__(self) -> None:
        self.files = (tempfile.TemporaryFile(), tempfile.TemporaryFile())

    def text(self) -> tuple[str, str]:
        """What was written, decoded as `subprocess.run(text=True)` decodes a child's output."""
        out = []
        for fh in self.files:
            fh.seek(0)
            data = fh.read().decode(locale.getpreferredencoding(False))
            out.append(data.replace("\r\n", "\n").replace("\r", "\n"))
            fh.close()
        return out[0], out[1]


@contextmanager
def _program_streams() -> Iterator[_Streams]:
    """File descriptors 1 and 2 (and `sys.stdout`, `sys.stderr` over them) go to files of their own,
    as a child's do into its pipes; the log records that would reach no handler in a program of
    its own (the test run's handlers sit on the root logger) go to stderr, Python's last resort."""
    streams = _Streams()
    encoding = locale.getpreferredencoding(False)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fds = os.dup(1), os.dup(2)
    saved_streams = sys.stdout, sys.stderr
    root = logging.getLogger()
    saved_handlers = root.handlers[:]
    try:
        for fd, fh in zip((1, 2), streams.files, strict=True):
            os.dup2(fh.fileno(), fd)
        sys.stdout = io.TextIOWrapper(io.FileIO(os.dup(1), "w"), encoding=encoding, write_through=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(os.dup(2), "w"), encoding=encoding, errors="backslashreplace",
                                      write_through=True)
        root.handlers = []
        yield streams
    finally:
        root.handlers = saved_handlers
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.close()
            except OSError:
                pass
        sys.stdout, sys.stderr = saved_streams
        for fd, saved in zip((1, 2), saved_fds, strict=True):
            os.dup2(saved, fd)
            os.close(saved)


def _open_files() -> frozenset[str]:
    """Regular files this process holds open (by resolved path)."""
    held = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("/") and not target.startswith(("/dev/", "/proc/")) and os.path.isfile(target):
            held.add(target)
    return frozenset(held)


def _named_folders(argv: list[str], cwd: str | os.PathLike) -> set[Path]:
    """The folders of the files and folders a command names (stores, inputs, outputs): what the
    verb opens there it must have closed when it returns. (Libraries keep files of their own open
    for the life of the process: PROJ's database, ONNX Runtime's cache.)"""
    folders = set()
    for arg in argv:
        path = Path(cwd) / Path(arg).expanduser()
        if not arg.startswith("-") and path.exists():
            folders.add(path.resolve() if path.is_dir() else path.resolve().parent)
    return folders


def _under(file: str, folders: set[Path]) -> bool:
    return any(Path(file).is_relative_to(folder) for folder in folders)


def _process_state() -> dict[str, object]:
    from qgis.core import QgsApplication

    return {
        "cwd": os.getcwd(),
        "environment": dict(os.environ),
        "signal handlers": {sig.name: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)},
        "log handlers": {name: logging.getLogger(name).handlers[:] for name in ("", "mist")},
        "application": QgsApplication.instance(),
        "Processing providers": sorted(p.id() for p in QgsApplication.processingRegistry().providers()),
    }


def _restore_handlers(state: dict[str, object]) -> None:
    """Put back the signal and log handlers (the folder and environment are put back anyway), so
    one leak fails one test and not the ones after it."""
    for name, handler in state["signal handlers"].items():
        if signal.getsignal(signal.Signals[name]) != handler:  # (only the main thread may set one)
            signal.signal(signal.Signals[name], handler)
    for name, handlers in state["log handlers"].items():
        logging.getLogger(name).handlers = handlers
