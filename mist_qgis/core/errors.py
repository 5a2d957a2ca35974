"""The one base class for problems a user can fix: bad input, a missing file, a wrong setting.

Every stage, the CLI and Processing tell these apart from internal failures: a `MistError` is
reported as its one-line message (the CLI exits 2), anything else is a bug and keeps its
traceback in the log (the CLI exits 1).
"""

from __future__ import annotations


class MistError(Exception):
    """A problem with the user's input or setup, reported as one clear line."""


class Cancelled(Exception):
    """The user cancelled the job; nothing half-written is left behind as a result.

    The one cancellation exception of every stage (see `mist_qgis.core.stage`): not an error, so
    it is neither a `MistError` nor reported as a failure."""


class InternalError(RuntimeError):
    """A failure that is not the user's (a broken invariant, a worker that died): the CLI exits 1
    and keeps the traceback in the log."""
