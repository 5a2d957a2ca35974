"""Results in words for the Processing log: a summary dict becomes one line per fact, with the
units people use (MB, metres, m², percent) instead of raw JSON. The JSON stays in the outputs
for scripts and the command line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SUFFIX_UNITS = (("_bytes", "MB"), ("_m2", "m²"), ("_km", "km"), ("_m", "m"), ("_s", "s"), ("_seconds", "s"))
_SHARES = ("share", "ratio", "rate", "fraction", "precision", "recall", "accuracy")


def _label(key: str) -> str:
    words = key.replace("_", " ").strip()
    for suffix, _ in _SUFFIX_UNITS:
        tail = suffix.replace("_", " ")
        if words.endswith(tail):
            words = words[: -len(tail)].strip()
            break
    return words[:1].upper() + words[1:]


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "–"}[value]
    if isinstance(value, int | float):
        for suffix, unit in _SUFFIX_UNITS:
            if key.endswith(suffix):
                if unit == "MB":
                    return f"{value / 1e6:,.1f} MB"
                return f"{value:,.0f} {unit}" if abs(value) >= 100 else f"{value:,.2f} {unit}"
        if isinstance(value, float):
            if any(word in key for word in _SHARES) and 0.0 <= value <= 1.0:
                return f"{100 * value:.0f} %"
            return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(_value(key, v) for v in value[:10]) + (" …" if len(value) > 10 else "")
    return str(value)


def lines(data: Mapping[str, Any], indent: str = "") -> list[str]:
    """One line per fact ("Flooded area: 12,345 m²"), nested summaries indented below their name."""
    out: list[str] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            if value:
                out.append(f"{indent}{_label(key)}:")
                out.extend(lines(value, indent + "  "))
        else:
            out.append(f"{indent}{_label(key)}: {_value(key, value)}")
    return out


def push_lines(feedback, data: Mapping[str, Any]) -> None:
    for line in lines(data):
        feedback.pushInfo(line)
