"""Durations as people write them in the config file: ``"30s"``, ``"5m"``, ``"1h"``, ``"7d"``."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(text: str | int | float) -> float:
    """Seconds in ``text``; a bare number means seconds. Raises ValueError with the allowed form."""
    if isinstance(text, bool):
        raise ValueError("expected a duration like 30s, 5m, 1h, 7d")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return float(text)
    s = text.strip().lower().replace(" ", "")
    if not s:
        raise ValueError("expected a duration like 30s, 5m, 1h, 7d")
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    pos = 0
    total = 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s):
        raise ValueError(f"{text!r} is not a duration; write it like 30s, 5m, 1h30m, 7d")
    return total


def format_duration(seconds: float) -> str:
    """The shortest readable form: 90 -> ``1m30s``."""
    seconds = round(seconds)
    if seconds == 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out)
