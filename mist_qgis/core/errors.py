"""The one base class for problems a user can fix: bad input, a missing file, a wrong setting.

Every stage, the CLI and Processing tell these apart from internal failures: a `MistError` is
reported as its one-line message (the CLI exits 2), anything else is a bug and keeps its
traceback in the log (the CLI exits 1).
"""

from __future__ import annotations


class MistError(Exception):
    """A problem with the user's input or setup, reported as one clear line."""
