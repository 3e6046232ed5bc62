"""vCard files (RFC 2426 3.0, RFC 6350 4.0) in and out, for the address book.

Reading goes card by card: a card vobject cannot read is one problem in the report, and the
others are read all the same. Folded lines are unfolded, text that is not UTF-8 is read in the
charset it most likely is (and said so), a card without FN takes its name from N, else from the
address. Writing makes vCard 4.0 (FN and EMAIL; text escaped, lines folded at 75 octets, CRLF).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

_BEGIN = re.compile(r"^BEGIN:VCARD\s*$", re.IGNORECASE)
_END = re.compile(r"^END:VCARD\s*$", re.IGNORECASE)
MAX_FILE = 20 * 1024 * 1024  # bytes: an address book, not a disk image


@dataclass(frozen=True)
class Card:
    """One person: a name and their addresses (lower case)."""

    name: str
    emails: tuple[str, ...]
    uid: str = ""


@dataclass(frozen=True)
class Group:
    """A group card (vCard 4.0 KIND:group, or Apple's X-ADDRESSBOOKSERVER-KIND): its name and
    the members' addresses, resolved from their UIDs or given as mailto:."""

    name: str
    members: tuple[str, ...]


@dataclass
class ReadResult:
    cards: list[Card] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each, "file: what"
    files: int = 0
    groups: list[Group] = field(default_factory=list)
    # groups as read: name and member references (urn:uuid:..., mailto:...), resolved by groups
    group_refs: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def resolve_groups(self) -> None:
        """Members by UID or mailto: to addresses (each person's first); unknown ones dropped."""
        by_uid = {_uid(c.uid.lower()): c.emails[0] for c in self.cards if c.uid}
        self.groups = []
        for name, refs in self.group_refs:
            members: list[str] = []
            for ref in refs:
                low = ref.strip().lower()
                addr = low[7:] if low.startswith("mailto:") else by_uid.get(_uid(low))
                if addr and "@" in addr and addr not in members:
                    members.append(addr)
            if members:
                self.groups.append(Group(name, tuple(members)))


def _uid(ref: str) -> str:
    return ref[len("urn:uuid:") :] if ref.startswith("urn:uuid:") else ref


def read_path(path: Path) -> ReadResult:
    """Every card of a ``.vcf`` file, or of the ``.vcf`` files in a vdir (khard, vdirsyncer)."""
    result = ReadResult()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".vcf", ".vcard"))
    else:
        files = [path]
    for file in files:
        result.files += 1
        try:
            if file.stat().st_size > MAX_FILE:
                mb = MAX_FILE // 1024 // 1024
                result.problems.append(f"{file}: larger than {mb} MB, skipped")
                continue
            data = file.read_bytes()
        except OSError as exc:
            result.problems.append(f"{file}: cannot be read: {exc.strerror or exc}")
            continue
        text, note = _decode(data)
        if note:
            result.problems.append(f"{file}: {note}")
        read_text(text, str(file), result)
    result.resolve_groups()
    return result


def read_text(text: str, label: str, result: ReadResult | None = None) -> ReadResult:
    """The cards of one vCard text (a file's, or one a CardDAV server sent)."""
    alone = result is None
    result = result if result is not None else ReadResult()
    for n, block in enumerate(_blocks(text), 1):
        card, problem = _card(block, result)
        if problem:
            result.problems.append(f"{label}: card {n}: {problem}")
        if card is not None:
            result.cards.append(card)
    if alone:
        result.resolve_groups()
    return result


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError:
        pass
    from tmail.mime.charsets import decode_text

    # The message text's detector: Cyrillic single-byte charsets ranked by letter frequency.
    decoded = decode_text(data)
    return decoded.text, f"not UTF-8, read as {decoded.charset}"


def _blocks(text: str) -> Iterator[str]:
    """The BEGIN:VCARD ... END:VCARD blocks of a file, each as its own text."""
    current: list[str] | None = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _BEGIN.match(line):
            current = [line]
        elif current is not None:
            current.append(line)
            if _END.match(line):
                yield "\r\n".join(current) + "\r\n"
                current = None
    if current is not None:
        yield "\r\n".join([*current, "END:VCARD"]) + "\r\n"  # a card cut off at the end


class _Problems(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _card(block: str, result: ReadResult) -> tuple[Card | None, str]:
    import vobject

    # vobject logs the lines it skips; they become this card's problem instead of stderr noise.
    log = logging.getLogger("vobject.base")
    handler = _Problems()
    log.addHandler(handler)
    keep = log.propagate
    log.propagate = False
    try:
        vcard = vobject.readOne(block, ignoreUnreadable=True)
    except Exception as exc:  # vobject raises many kinds on bad input: one card, one problem
        return None, f"not a readable vCard ({_short(exc)})"
    finally:
        log.removeHandler(handler)
        log.propagate = keep
    skipped = f"lines skipped ({_short(handler.messages[0])})" if handler.messages else ""
    kind = _text(vcard, "kind") or _text(vcard, "x-addressbookserver-kind")
    if kind.lower() == "group":
        members = vcard.contents.get("member", []) + vcard.contents.get(
            "x-addressbookserver-member", []
        )
        refs = tuple(str(m.value) for m in members)
        result.group_refs.append((_text(vcard, "fn") or "group", refs))
        return None, skipped
    emails: list[str] = []
    for item in vcard.contents.get("email", []):
        value = str(item.value).strip().lower()
        if value.startswith("mailto:"):
            value = value[len("mailto:") :]
        if "@" in value and value not in emails:
            emails.append(value)
    if not emails:
        return None, "no EMAIL, not imported" + (f"; {skipped}" if skipped else "")
    name = _text(vcard, "fn")
    if not name:
        n = vcard.contents.get("n", [])
        if n:
            value = n[0].value
            parts = [getattr(value, "given", ""), getattr(value, "family", "")]
            name = " ".join(_flat(p) for p in parts if _flat(p)).strip()
        problem = "no FN, name taken from N" if name else "no FN or N, shown by address"
        skipped = f"{problem}; {skipped}" if skipped else problem
    return Card(name, tuple(emails), _text(vcard, "uid").lower()), skipped


def _text(vcard: object, key: str) -> str:
    items = getattr(vcard, "contents", {}).get(key, [])
    return _flat(items[0].value).strip() if items else ""


def _flat(value: object) -> str:
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value if v)
    return str(value or "")


def _short(what: object) -> str:
    text = " ".join(str(what).split())
    return text[:120]


# ---------------------------------------------------------------------------------- writing


def _escape(text: str) -> str:
    # RFC 6350 3.4: backslash, comma, semicolon and newline are escaped in text values.
    return (
        text.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _fold(line: str) -> str:
    """RFC 6350 3.2: lines longer than 75 octets folded, never inside a UTF-8 character."""
    out: list[str] = []
    current = ""
    size = 0
    limit = 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out)


def vcard4(cards: Iterable[Card]) -> str:
    """The cards as one vCard 4.0 text (CRLF line ends)."""
    parts: list[str] = []
    for card in cards:
        clean = "".join(c if c.isprintable() else " " for c in card.name).strip()
        lines = ["BEGIN:VCARD", "VERSION:4.0", "FN:" + _escape(clean or card.emails[0])]
        lines += ["EMAIL:" + _escape(e) for e in card.emails]
        lines.append("END:VCARD")
        parts.extend(_fold(line) + "\r\n" for line in lines)
    return "".join(parts)
