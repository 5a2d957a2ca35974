"""Reading an import in a second process while this one writes.

Parsing a tweet costs about as much as writing it, so a large import reads in a child Python
process that sends `ReadBatch`es over a pipe while the parent binds and commits. The child runs
the same `BatchReader` on the same files; only the transport differs. A frame is a 4-byte length
and `marshal` data holding only str, int, float, bool, None, lists, tuples and dicts, made by the
child from parsed values (never from bytes of an input). Small imports stay in one process:
starting the child costs about 0.1 s.

Run as a module (`python -m mist_qgis.core.posts.reader_process`) it is the child: it reads the
job as JSON on stdin and writes frames on stdout.
"""

from __future__ import annotations

import json
import logging
import marshal
import os
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from ..errors import InternalError
from ..interpreter import child_environment, python_executable
from .batches import BatchReader, Poll, ReadBatch
from .stream import ImportOptions

PARALLEL_MIN_BYTES = 32 << 20
PROTOCOL = 1
_LENGTH = struct.Struct("<I")
_MODULE = __name__ if __name__ != "__main__" else "mist_qgis.core.posts.reader_process"

log = logging.getLogger(__name__)


class ReaderProcessError(InternalError):
    """The reader process could not start, or stopped with this message."""


def open_reader(paths: Iterable[str | Path], options: ImportOptions) -> BatchReader | ProcessReader:
    """A reader process when `options.parallel` says so, or (when None) for inputs of at least
    PARALLEL_MIN_BYTES on a machine with two cores or more; else reading in this process. An
    automatic choice falls back to this process if the child cannot start."""
    paths = [Path(p) for p in paths]
    if _wants_process(paths, options):
        try:
            return ProcessReader(paths, options)
        except ReaderProcessError as exc:
            if options.parallel:
                raise
            log.info("reading in this process: %s", exc)
    return BatchReader(paths, options)


def _wants_process(paths: list[Path], options: ImportOptions) -> bool:
    if options.parallel is not None:
        return options.parallel
    if (os.cpu_count() or 1) < 2:
        return False
    total = 0
    for path in paths:
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total >= PARALLEL_MIN_BYTES


class ProcessReader:
    """`BatchReader`'s interface over a child process."""

    def __init__(self, paths: Iterable[str | Path], options: ImportOptions) -> None:
        python = python_executable()
        if python is None:
            raise ReaderProcessError("no Python interpreter found for the reader process")
        self.files: list[dict[str, str]] = []
        self.files_skipped: list[dict[str, str]] = []
        self.cancelled = False
        self._stderr = tempfile.TemporaryFile()
        job = {"paths": [str(p) for p in paths], "options": {**asdict(options), "parallel": False}}
        try:
            self._proc = subprocess.Popen(
                [python, "-m", _MODULE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                env=child_environment(), creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        except OSError as exc:
            self._stderr.close()
            raise ReaderProcessError(f"cannot start {python}: {exc}") from exc
        try:
            self._proc.stdin.write(json.dumps(job).encode("utf-8"))
            self._proc.stdin.close()
        except OSError:
            pass  # the child is gone already; its hello is missing below and says why
        hello = self._frame()
        expected = ["hello", [PROTOCOL, *sys.version_info[:2]]]
        if hello is None or [hello[0], list(hello[1])] != expected:
            reason = self._failure()
            self.close()
            raise ReaderProcessError(f"the reader process did not start ({python}){reason}")

    def batches(self, poll: Poll | None = None) -> Iterator[ReadBatch]:
        """The child's batches; `poll` runs after each one, and stopping ends the child."""
        while True:
            frame = self._frame()
            if frame is None:
                raise ReaderProcessError("the reader process stopped unexpectedly" + self._failure())
            kind = frame[0]
            if kind == "error":
                raise ReaderProcessError(frame[1])
            self.files, self.files_skipped = frame[-2], frame[-1]
            if kind == "end":
                return
            batch = ReadBatch.from_tuple(frame[1])
            yield batch
            if poll is not None and poll(batch.fraction):
                self.cancelled = True
                self.close()
                return

    def close(self) -> None:
        proc = self._proc
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        self._stderr.close()

    def _frame(self) -> Any:
        stdout = self._proc.stdout
        head = stdout.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            return None
        (size,) = _LENGTH.unpack(head)
        body = stdout.read(size)
        if len(body) < size:
            return None
        return marshal.loads(body)

    def _failure(self) -> str:
        """The last line the child wrote on stderr, if any (an import error, a crash)."""
        self._proc.wait()
        self._stderr.seek(0)
        lines = self._stderr.read()[-4096:].decode("utf-8", "replace").strip().splitlines()
        return f": {lines[-1]}" if lines else f" (exit status {self._proc.returncode})"


def _send(out: IO[bytes], frame: tuple) -> None:
    body = marshal.dumps(frame)
    out.write(_LENGTH.pack(len(body)))
    out.write(body)
    out.flush()


def serve(job: dict[str, Any], out: IO[bytes]) -> int:
    """The child's work: read the job's inputs and send every batch, then the file lists."""
    _send(out, ("hello", (PROTOCOL, *sys.version_info[:2])))
    reader = BatchReader(job["paths"], ImportOptions(**job["options"]))
    try:
        for batch in reader.batches():
            _send(out, ("batch", batch.as_tuple(), reader.files, reader.files_skipped))
        _send(out, ("end", reader.files, reader.files_skipped))
    except BrokenPipeError:
        return 1  # the parent stopped reading (cancelled)
    except Exception as exc:  # noqa: BLE001 (every failure goes back to the parent as a message)
        _send(out, ("error", f"{type(exc).__name__}: {exc}"))
        return 1
    return 0


def main() -> int:
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the frame stream
    try:
        return serve(json.loads(sys.stdin.buffer.read()), out)
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
