"""The one message on the status line ("moved to Trash", "not sent: ..."), and when it goes.

One message at a time: a new one replaces the last. A plain notice goes at the next key or after
:data:`NOTICE_SHOWN_FOR` seconds, whichever comes first (mutt clears its message line at the next
key). An error stays :data:`ERROR_SHOWN_FOR` seconds to be read (aerc's rule), then goes at the
next key; it goes at once when a key opens another view, so it does not hang over screens it
has nothing to do with (``E`` lists every error). Pure rules over a clock; the app does the
drawing and the alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

NOTICE_SHOWN_FOR = 8.0  # seconds a notice stays when no key is pressed
ERROR_SHOWN_FOR = 10.0  # seconds an error stays before a key clears it


@dataclass
class Notice:
    text: str = ""
    error: bool = False
    at: float = 0.0  # time.monotonic() when shown

    def gone_at_key(self, now: float) -> bool:
        """A key was pressed (the view it opened is judged by :meth:`gone_with_view`)."""
        return bool(self.text) and (not self.error or now - self.at >= ERROR_SHOWN_FOR)

    def gone_with_view(self, shown_before: float) -> bool:
        """A key changed the view: the message goes unless that key itself said it."""
        return bool(self.text) and self.at == shown_before

    def gone_by_time(self, now: float) -> bool:
        return bool(self.text) and not self.error and now - self.at >= NOTICE_SHOWN_FOR


def status_right(sync_state: str, notice: Notice) -> list[str | tuple[str, str]]:
    """The right of the status line: the message after the sync's state, with a bar between (not
    run together); "synced 14:05" gives way to a message, a running or failed sync does not."""
    if not notice.text:
        return [sync_state] if sync_state else []
    out: list[str | tuple[str, str]] = []
    if sync_state and not sync_state.startswith("synced"):
        out.append(sync_state + " │")
    out.append(("status_error", " " + notice.text + " ") if notice.error else " " + notice.text)
    return out
