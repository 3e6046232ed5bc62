"""Text that is safe to put on a terminal.

Anything that comes from a message or a server (subjects, names, file names, folder names, bodies,
error text) may carry ESC sequences, other C0/C1 control characters or bidi overrides that move the
cursor, retitle the window or reorder what the reader sees. These helpers make such characters
visible instead of letting them act.
"""

from __future__ import annotations

import re

# C0 controls except TAB and LF, DEL, and C1 controls (0x80-0x9F): ESC and CSI live here.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_LINE = re.compile("[\x00-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the marks that
# can be abused in headers (U+200E, U+200F, U+061C).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x20:
        return "^" + chr(code + 0x40)  # caret notation, as cat -v does: ESC -> ^[
    return f"<U+{code:04X}>"


def safe_text(text: str) -> str:
    """Make a multi-line text (a body) safe: keep TAB and LF, show other controls as ``^X``.

    CR is dropped rather than shown: a CRLF body must not fill the screen with ``^M``.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(_visible, text)


def safe_line(text: str) -> str:
    """Make a one-line value (subject, name, file name, error) safe.

    Line breaks and tabs become spaces, other controls become visible, bidi controls are shown
    as ``<U+202E>`` so a reversed file name cannot pass for another.
    """
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    text = _CONTROL_LINE.sub(_visible, text)
    return _BIDI.sub(_visible, text)
