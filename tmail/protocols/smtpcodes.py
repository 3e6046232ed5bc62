"""SMTP replies in words: the reply code (RFC 5321 4.2) and the enhanced status code (RFC 3463,
with the later registry additions of RFC 4954, 5248, 6531, 7372, 7505).

``explain(550, "5.1.1 <bob@x>: Recipient address rejected")`` tells what happened and whether
trying again later can help: the outbox retries only what :attr:`Reply.temporary` says is worth
retrying. Pure functions on strings: no sockets, no smtplib.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")

# First digit of the reply code (RFC 5321 4.2.1).
CLASS_WORDS = {
    "2": "success",
    "3": "more input needed",
    "4": "temporary failure — retry later",
    "5": "permanent failure — do not retry as is",
}

# Reply codes (RFC 5321 4.2.2/4.2.3, RFC 4954 6, RFC 3207 4).
REPLY_WORDS = {
    211: "system status",
    214: "help message",
    220: "service ready",
    221: "closing the connection",
    235: "authentication succeeded",
    250: "requested action completed",
    251: "user not local; will forward",
    252: "cannot verify the user, but will accept the message",
    334: "authentication: server waits for the next step",
    354: "start mail input; end with <CRLF>.<CRLF>",
    421: "service not available, closing the connection",
    432: "a password transition is needed",
    450: "mailbox unavailable (busy or temporarily blocked)",
    451: "local error in processing",
    452: "insufficient system storage",
    454: "temporary authentication failure",
    455: "server unable to accommodate parameters",
    500: "syntax error, command unrecognised",
    501: "syntax error in parameters or arguments",
    502: "command not implemented",
    503: "bad sequence of commands",
    504: "command parameter not implemented",
    530: "authentication required",
    534: "authentication mechanism is too weak",
    535: "authentication credentials invalid",
    538: "encryption required for the requested authentication mechanism",
    550: "mailbox unavailable (not found, no access, or rejected by policy)",
    551: "user not local",
    552: "exceeded storage allocation",
    553: "mailbox name not allowed",
    554: "transaction failed",
    555: "MAIL FROM/RCPT TO parameters not recognised or not implemented",
}

# Subjects (the middle number) and details (subject.detail) of RFC 3463 and its registry.
SUBJECT_WORDS = {
    0: "other or undefined status",
    1: "addressing",
    2: "mailbox",
    3: "mail system",
    4: "network and routing",
    5: "mail delivery protocol",
    6: "message content or media",
    7: "security or policy",
}
DETAIL_WORDS = {
    (0, 0): "other undefined status",
    (1, 0): "other address status",
    (1, 1): "mailbox does not exist",
    (1, 2): "destination system does not exist or does not accept mail",
    (1, 3): "bad destination mailbox address syntax",
    (1, 4): "destination mailbox address ambiguous",
    (1, 5): "destination address valid",
    (1, 6): "mailbox has moved, no forwarding address",
    (1, 7): "bad sender's mailbox address syntax",
    (1, 8): "bad sender's system address",
    (1, 9): "message relayed to a non-compliant mailer",
    (1, 10): "recipient's domain accepts no mail (null MX)",
    (2, 0): "other mailbox status",
    (2, 1): "mailbox disabled, not accepting messages",
    (2, 2): "mailbox full",
    (2, 3): "message longer than the mailbox's limit",
    (2, 4): "mailing list expansion problem",
    (3, 0): "other mail system status",
    (3, 1): "mail system full",
    (3, 2): "system not accepting network messages",
    (3, 3): "system not capable of the selected features",
    (3, 4): "message too big for the system",
    (3, 5): "system incorrectly configured",
    (3, 6): "requested priority was changed",
    (4, 0): "other network or routing status",
    (4, 1): "no answer from host",
    (4, 2): "bad connection",
    (4, 3): "directory server failure (e.g. DNS)",
    (4, 4): "unable to route",
    (4, 5): "mail system congestion",
    (4, 6): "routing loop detected",
    (4, 7): "delivery time expired",
    (5, 0): "other protocol status",
    (5, 1): "invalid command",
    (5, 2): "syntax error",
    (5, 3): "too many recipients",
    (5, 4): "invalid command arguments",
    (5, 5): "wrong protocol version",
    (5, 6): "authentication exchange line too long",
    (6, 0): "other media error",
    (6, 1): "media not supported",
    (6, 2): "conversion required and prohibited",
    (6, 3): "conversion required but not supported",
    (6, 4): "conversion with loss performed",
    (6, 5): "conversion failed",
    (6, 6): "message content not available",
    (6, 7): "non-ASCII addresses not permitted",
    (6, 8): "UTF-8 reply required but not permitted by the client",
    (6, 9): "UTF-8 header cannot be transferred to a recipient",
    (7, 0): "other security or policy status",
    (7, 1): "not authorised: delivery refused by policy",
    (7, 2): "mailing list expansion prohibited",
    (7, 3): "security conversion required but not possible",
    (7, 4): "security features not supported",
    (7, 5): "cryptographic failure",
    (7, 6): "cryptographic algorithm not supported",
    (7, 7): "message integrity failure",
    (7, 8): "authentication credentials invalid",
    (7, 9): "authentication mechanism too weak",
    (7, 10): "encryption needed",
    (7, 11): "encryption required for the authentication mechanism",
    (7, 12): "a password transition is needed",
    (7, 13): "user account disabled",
    (7, 14): "trust relationship required",
    (7, 15): "priority level too low",
    (7, 16): "message too big for the specified priority",
    (7, 17): "mailbox owner has changed",
    (7, 18): "domain owner has changed",
    (7, 19): "RRVS test cannot be completed",
    (7, 20): "no passing DKIM signature found",
    (7, 21): "no acceptable DKIM signature found",
    (7, 22): "no valid author-matched DKIM signature found",
    (7, 23): "SPF validation failed",
    (7, 24): "SPF validation error",
    (7, 25): "reverse DNS validation failed",
    (7, 26): "multiple authentication checks failed",
    (7, 27): "sender address has null MX",
}


@dataclass(frozen=True)
class Reply:
    """One SMTP reply, explained."""

    code: int
    text: str  # the server's words (without the enhanced code)
    enhanced: str | None  # "5.1.1" when the server gave one
    meaning: str  # the enhanced code's words, else the reply code's

    @property
    def kind(self) -> str:
        return CLASS_WORDS.get(str(self.code)[:1], "not a valid SMTP reply")

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 400

    @property
    def temporary(self) -> bool:
        """4xx: keep the message and try again later."""
        return 400 <= self.code < 500

    @property
    def permanent(self) -> bool:
        """5xx: trying the same thing again will fail the same way."""
        return 500 <= self.code < 600

    def explain(self) -> str:
        """``550 5.1.1 mailbox does not exist (permanent failure — ...): <server text>``"""
        code = f"{self.code} {self.enhanced}" if self.enhanced else str(self.code)
        words = f"{code} {self.meaning} ({self.kind})"
        return f"{words}: {self.text}" if self.text else words


def explain_enhanced(enhanced: str) -> str:
    """Words for an x.y.z code: the detail's when known, else the subject's."""
    m = _ENHANCED.match(enhanced)
    if not m:
        return "not an enhanced status code"
    subject, detail = int(m.group(2)), int(m.group(3))
    words = DETAIL_WORDS.get((subject, detail))
    if words is None:
        words = f"{SUBJECT_WORDS.get(subject, 'unknown subject')} (detail {detail})"
    return words


def explain(code: int, text: str | bytes = "") -> Reply:
    """Explain one reply: ``code`` and the text after it (several lines may be joined by LF)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    enhanced: str | None = None
    cleaned: list[str] = []
    for line in lines:
        m = _ENHANCED.match(line)
        # RFC 3463 3: the class of the enhanced code matches the reply's first digit.
        if m and str(code)[:1] == m.group(1):
            enhanced = enhanced or m.group(0)
            line = line[m.end() :].strip()
        cleaned.append(line)
    if enhanced is not None:
        meaning = explain_enhanced(enhanced)
    else:
        meaning = REPLY_WORDS.get(code, "unknown reply code")
    return Reply(
        code=code, text=" ".join(c for c in cleaned if c), enhanced=enhanced, meaning=meaning
    )
