"""Type names for urwid's widget protocol (sizes), shared by the UI modules."""

from __future__ import annotations

from typing import Any, TypeAlias

import urwid

Size: TypeAlias = tuple[()] | tuple[int] | tuple[int, int]
Markup: TypeAlias = Any  # urwid text markup: str, (attr, str) or a list of them
Widgets: TypeAlias = list[Any]  # a list of widgets for a walker (urwid's own hints are narrow)
Wrap: TypeAlias = urwid.WidgetWrap[Any]
