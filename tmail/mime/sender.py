"""Who really sent a message: the receiving server's verdicts and a From that pretends.

``Authentication-Results`` (RFC 8601) records what the receiving server found when it checked
DKIM, SPF, DMARC and ARC. Anyone can write that header into a message, so a verdict is believed
only from the account's own server, named by its authserv-id (the account's ``authserv_id``
setting): of the fields carrying that id, only the topmost counts, the one the last hop added
(RFC 8601 section 5 asks that server to remove forged copies of its own id; one below the real
one could still be a forgery when it does not). Fields from any other id are ignored, never
shown as a verdict. Without a configured id nothing is believed.

The header is parsed by the ``authres`` library. A From whose display name holds an address other
than the real one (``"boss@bank.test" <x@evil.test>``) is flagged whatever the verdicts say.
Every string in a :class:`SenderCheck` is terminal-safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tmail.core.models import Address
from tmail.core.safe import safe_line

# The methods shown, in this order (others in the field are left out of the short line).
METHODS = ("dkim", "spf", "dmarc", "arc")
_ADDRESS_IN_NAME = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_MAX_FIELD = 8192  # a longer Authentication-Results value is nobody's honest verdict


@dataclass(frozen=True)
class Verdict:
    """One method's result, as the trusted server wrote it: ``dkim pass example.com``."""

    method: str
    result: str
    domain: str = ""  # header.d (DKIM), smtp.mailfrom's domain (SPF), header.from (DMARC)

    def text(self) -> str:
        words = [self.method.upper(), self.result]
        if self.domain:
            words.append(self.domain)
        return " ".join(words)


@dataclass(frozen=True)
class SenderCheck:
    """What the message says about its sender, as far as it can be believed."""

    authserv_id: str | None  # the trusted server whose verdicts these are; None: none found
    verdicts: tuple[Verdict, ...] = ()
    spoofed_name: str | None = None  # the address in the From's display name, when not its own

    def auth_line(self) -> str | None:
        """``DKIM pass example.com, SPF pass, DMARC pass (mx.example.test)``; None without one."""
        if self.authserv_id is None:
            return None
        shown = ", ".join(v.text() for v in self.verdicts) or "no checks recorded"
        return f"{shown} (checked by {self.authserv_id})"

    def warning_line(self, from_: Sequence[Address]) -> str | None:
        if self.spoofed_name is None:
            return None
        real = from_[0].addr if from_ else "?"
        return f"the sender's name shows {self.spoofed_name} but the mail is from {real}"

    def as_json(self, from_: Sequence[Address]) -> dict[str, object]:
        return {
            "authserv_id": self.authserv_id,
            "verdicts": [
                {"method": v.method, "result": v.result, "domain": v.domain or None}
                for v in self.verdicts
            ],
            "summary": self.auth_line(),
            "spoofed_name": self.spoofed_name,
            "warning": self.warning_line(from_),
        }


def check_sender(
    headers: Iterable[tuple[str, str]], from_: Sequence[Address], trusted: Iterable[str]
) -> SenderCheck:
    """The verdicts of the topmost ``Authentication-Results`` field from a ``trusted``
    authserv-id, and the display-name check of ``from_``. Never raises."""
    ids = {t.strip().lower() for t in trusted if t.strip()}
    found: tuple[str, tuple[Verdict, ...]] | None = None
    if ids:
        for name, value in headers:
            if name.lower() != "authentication-results" or len(value) > _MAX_FIELD:
                continue
            parsed = _parse(value)
            if parsed is not None and parsed[0].lower() in ids:
                found = parsed
                break
    spoofed = _spoofed_name(from_)
    if found is None:
        return SenderCheck(None, (), spoofed)
    return SenderCheck(found[0], found[1], spoofed)


def _parse(value: str) -> tuple[str, tuple[Verdict, ...]] | None:
    """``(authserv-id, verdicts)`` of one field value; None when it cannot be read."""
    import authres

    try:
        header = authres.all_features().parse_value(" ".join(value.split()))
    except (authres.AuthResError, ValueError, IndexError, AttributeError, TypeError):
        return None
    authserv_id = safe_line(str(header.authserv_id or "")).strip()
    if not authserv_id:
        return None
    by_method: dict[str, list[Verdict]] = {}
    for result in header.results:
        method = str(getattr(result, "method", "") or "").lower()
        if method not in METHODS:
            continue
        result_word = safe_line(str(result.result or "")).lower()
        verdict = Verdict(method, result_word, safe_line(_domain(method, result)))
        by_method.setdefault(method, []).append(verdict)
    verdicts = []
    for method in METHODS:
        choices = by_method.get(method)
        if choices:
            # several DKIM signatures: a passing one says most (RFC 6376 section 6.1)
            verdicts.append(next((v for v in choices if v.result == "pass"), choices[0]))
    return authserv_id, tuple(verdicts)


def _domain(method: str, result: object) -> str:
    """The domain a verdict is about: DKIM's ``header.d`` (else the domain of ``header.i``),
    SPF's ``smtp.mailfrom`` (else the older ``smtp.mail``, then ``smtp.helo``), DMARC's
    ``header.from``."""
    wanted = {
        "dkim": (("header", "d"), ("header", "i")),
        "spf": (("smtp", "mailfrom"), ("smtp", "mail"), ("smtp", "helo")),
        "dmarc": (("header", "from"),),
    }.get(method, ())
    props = {
        (str(p.type).lower(), str(p.name).lower()): str(p.value or "")
        for p in getattr(result, "properties", ()) or ()
    }
    for key in wanted:
        value = props.get(key, "").strip()
        if value:
            return value.rpartition("@")[2].lower()
    return ""


def _spoofed_name(from_: Sequence[Address]) -> str | None:
    """The first address written in a From display name that is not the real address."""
    for address in from_[:1]:
        real = address.addr.strip().lower()
        for match in _ADDRESS_IN_NAME.finditer(address.name or ""):
            shown = match.group(0).strip(".").lower()
            if shown != real:
                return safe_line(match.group(0).strip("."))
    return None
