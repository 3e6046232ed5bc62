"""Sizes for people: one format everywhere (the index, ``tmail list``, attachment lists, sync
progress, size-limit errors), as Thunderbird writes them: ``512 B``, ``9.5 KB``, ``12 KB``,
``1.4 MB``. Units are powers of 1024 (a "KB" of 1,024 bytes, as mutt and Thunderbird count);
one decimal below 10, none above; at most six characters, so a column of sizes lines up.
"""

from __future__ import annotations

_UNITS = ("KB", "MB", "GB", "TB")


def human_size(n: float) -> str:
    """``n`` bytes as ``512 B``, ``9.5 KB``, ``12 KB``, ``1.4 MB``, ``2.0 GB``."""
    if n < 1000:
        return f"{max(0, int(n))} B"
    value = float(n)
    for unit in _UNITS:
        value /= 1024
        if round(value, 1) < 10:
            return f"{value:.1f} {unit}"
        if round(value) < 1000 or unit == _UNITS[-1]:
            return f"{round(value)} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["human_size"]
