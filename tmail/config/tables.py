"""Reading one TOML table of the config file with checked types: every wrong value is one
:class:`ConfigError` naming the file, the key and what is expected (the loader's getters)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from tmail.core.durations import parse_duration
from tmail.core.errors import ConfigError

T = TypeVar("T")

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmg]?)i?b?", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(value: object) -> int:
    """Bytes in ``value``: a bare number, or ``"500k"``, ``"25M"``, ``"1G"`` (powers of 1024)."""
    if isinstance(value, bool):
        raise ValueError("expected a size like 500k, 25M, 1G")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    if isinstance(value, str):
        m = _SIZE.fullmatch(value.strip())
        if m:
            return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])
    raise ValueError(f"{value!r} is not a size; write it like 500k, 25M, 1G")


class TableReader:
    """The typed getters over the tables of one config file (``where`` is the key's path)."""

    def __init__(self, file: Path) -> None:
        self.file = file

    # ------------------------------------------------------------- error helpers
    def error(self, where: str, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{self.file}: {where}: {message}", hint=hint)

    def _check_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in allowed:
                raise self.error(
                    f"{where}{key}",
                    "unknown key",
                    hint="allowed here: " + ", ".join(allowed),
                )

    def _get(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        kind: type[T] | tuple[type, ...],
        what: str,
        convert: Callable[[Any], T] | None = None,
    ) -> T | None:
        if key not in table:
            return None
        value = table[key]
        ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
        if not ok:
            raise self.error(f"{where}{key}", f"expected {what}, got {describe_value(value)}")
        if convert is not None:
            try:
                return convert(value)
            except ValueError as exc:
                raise self.error(f"{where}{key}", str(exc)) from None
        return value  # type: ignore[no-any-return]

    def _str(self, table: Mapping[str, Any], key: str, where: str) -> str | None:
        return self._get(table, key, where, str, "a string")

    def _bool(self, table: Mapping[str, Any], key: str, where: str) -> bool | None:
        return self._get(table, key, where, bool, "true or false")

    def _duration(self, table: Mapping[str, Any], key: str, where: str) -> float | None:
        return self._get(
            table,
            key,
            where,
            (int, float, str),
            'a duration like "30s", "5m", "1h"',
            parse_duration,
        )

    def _size(self, table: Mapping[str, Any], key: str, where: str) -> int | None:
        return self._get(table, key, where, (int, str), 'a size like "25M"', parse_size)

    def _one_or_more(self, table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        """A string or a list of strings (``authserv_id = "mx.example.org"`` or a list)."""
        if isinstance(table.get(key), str):
            value = table[key].strip()
            return (value,) if value else ()
        return tuple(v.strip() for v in self._strings(table, key, where) if v.strip())

    def _strings(self, table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = self._get(table, key, where, list, "a list of strings")
        if value is None:
            return ()
        if not all(isinstance(v, str) for v in value):
            raise self.error(f"{where}{key}", "expected a list of strings")
        return tuple(value)

    def _choice(
        self, table: Mapping[str, Any], key: str, where: str, allowed: tuple[str, ...]
    ) -> str | None:
        value = self._str(table, key, where)
        if value is not None and value not in allowed:
            raise self.error(
                f"{where}{key}", f"{value!r} is not allowed", hint="allowed: " + ", ".join(allowed)
            )
        return value


def describe_value(value: object) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"{value!r} (a string)"
    return f"{value!r} ({type(value).__name__})"
