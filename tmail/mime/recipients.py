"""The addresses a message was delivered to, as its headers tell: To, Cc, then Delivered-To and
X-Original-To (added by the receiving server; they name the alias or catch-all address that
took the message when To and Cc do not, e.g. for a Bcc or a mailing list)."""

from __future__ import annotations

import email.parser
import email.policy
from email.utils import getaddresses

_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")


def delivered_to(raw: bytes, *, with_from: bool = False) -> list[str]:
    """The addresses of To, Cc, Delivered-To and X-Original-To, in that order, each once (then
    From's, ``with_from``)."""
    head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    out: list[str] = []
    for name in (*_HEADERS, "From") if with_from else _HEADERS:
        values = [str(v) for v in head.get_all(name, [])]
        for _, addr in getaddresses(values):
            if "@" in addr and addr.lower() not in (a.lower() for a in out):
                out.append(addr)
    return out
