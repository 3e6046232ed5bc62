"""Signatures in message text (RFC 3676 section 4.3): ``-- `` on a line of its own, then the
signature. A reply drops the signature of the message it quotes, as mutt and Thunderbird do.
"""

from __future__ import annotations

SEPARATOR = "-- "


def block(signature: str) -> str:
    """The separator line and the signature, ending in a newline ('' for no signature)."""
    return f"{SEPARATOR}\n{signature}\n" if signature else ""


def strip_signature(text: str) -> str:
    """``text`` without its signature: everything from the last ``-- `` line on."""
    lines = text.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].rstrip("\r") == SEPARATOR:
            return "\n".join(lines[:i]).rstrip("\n") + "\n"
    return text


def add_signature(body: str, signature: str, *, top: bool) -> str:
    """``body`` with the signature: at the end, or (``top``) above a quote or a forwarded
    message, where the user writes."""
    sig = block(signature)
    if not sig:
        return body
    if top:
        rest = body.lstrip("\n")
        return "\n\n" + sig + ("\n" + rest if rest else "")
    if not body.strip():
        return "\n\n" + sig
    return body.rstrip("\n") + "\n\n" + sig


def swap_signature(body: str, old: str, new: str, *, top: bool) -> str:
    """The body with signature ``old`` replaced by ``new`` (another identity chosen in the
    form); a body whose signature the user has edited keeps it and gets nothing more."""
    old_block = block(old)
    if old_block:
        at = body.rfind(old_block)
        if at < 0:
            return body
        if new:
            return body[:at] + block(new) + body[at + len(old_block) :]
        head = body[:at]
        if head.endswith("\n\n"):
            head = head[:-1]
        return head + body[at + len(old_block) :]
    return add_signature(body, new, top=top)
