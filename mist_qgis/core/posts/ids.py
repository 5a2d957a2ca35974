"""The one rule for post ids: what counts as a number, and when two spellings are one post.

A spreadsheet turns the id 5 into `5.0`, a text export pads it to `05`; all three are post 5.
Only ASCII digits are digits: `str.isdigit()` also accepts `²` and Arabic-Indic digits, which no
platform uses in an id and which `int()` would silently read as another number.
"""

from __future__ import annotations

import math
import re
from typing import Any

_NUMERIC = re.compile(r"([0-9]+)(?:\.0*)?")


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty string of 0-9 only."""
    return text.isascii() and text.isdigit()


def canonical_id(value: Any) -> str:
    """An id as the store keys it: integral numbers (5, 5.0, "5.0", "05") as their plain decimal
    digits, any other text stripped of surrounding white space; "" for a missing id."""
    if value is None:
        return ""
    if type(value) is str and value.isascii() and value.isdigit():  # most ids: the regex's answer, 20x sooner
        return value.lstrip("0") or "0"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if math.isfinite(value) and value.is_integer() else repr(value)
    text = str(value).strip()
    m = _NUMERIC.fullmatch(text)
    if m:
        return m.group(1).lstrip("0") or "0"
    return text
