"""Delivery status notifications (RFC 3464): a bounce's message/delivery-status part summarised."""

from __future__ import annotations

import re

from tmail.mime.parsed import DeliveryReport, DsnRecipient
from tmail.mime.structure import _read_headers


def _delivery_report(data: bytes) -> DeliveryReport:
    blocks = [b for b in re.split(rb"\r?\n[ \t]*\r?\n", data) if b.strip()]
    reporting = ""
    recipients: list[DsnRecipient] = []
    for number, block in enumerate(blocks):
        fields, _ = _read_headers(block, 0, len(block), ())
        values = {k.lower(): " ".join(v.split()) for k, v in fields}
        if number == 0 and "final-recipient" not in values:
            reporting = _typed(values.get("reporting-mta", ""))
            continue
        if "final-recipient" in values or "original-recipient" in values:
            recipients.append(
                DsnRecipient(
                    original_recipient=_typed(values.get("original-recipient", "")),
                    final_recipient=_typed(values.get("final-recipient", "")),
                    action=values.get("action", "").lower(),
                    status=values.get("status", "").split(" ")[0],
                    diagnostic=_typed(values.get("diagnostic-code", "")),
                    remote_mta=_typed(values.get("remote-mta", "")),
                )
            )
    return DeliveryReport(reporting, tuple(recipients))


def _typed(value: str) -> str:
    """``rfc822; user@example.org`` -> ``user@example.org`` (RFC 3464 address-type prefix)."""
    kind, sep, rest = value.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else value.strip()
