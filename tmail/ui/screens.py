"""A screen on the view stack: what it is (index, pager, compose, review, help, errors,
attachments, outbox), its widget, and what it knows (the message shown, the message being
written).

The stack itself and the moves on it (push, pop, replace) are the app's (:mod:`tmail.ui.app`);
this record is here so that the modules opening screens need not import the app.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import urwid

from tmail.ui.compose import ComposeState


@dataclass
class Screen:
    kind: str  # index, pager, compose, review, help, errors, attachments, outbox
    widget: urwid.Widget
    state: ComposeState | None = None
    extra: dict[str, object] = field(default_factory=dict)
