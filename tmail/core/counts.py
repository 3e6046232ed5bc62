"""Counts in words: ``1 error``, ``2 errors``, ``0 messages`` (never "1 errors" or "message(s)")."""

from __future__ import annotations


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``n`` and the noun, singular for exactly one: ``plural(1, "error")`` is ``1 error``;
    ``nouns`` is the plural when it is not ``noun + "s"`` (``plural(2, "entry", "entries")``)."""
    return f"{n} {noun if n == 1 else (nouns or noun + 's')}"


__all__ = ["plural"]
