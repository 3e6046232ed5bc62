"""The search language, parsed into an expression tree and compiled to a SQL condition.

Pure: no database, no clock (``now`` is passed in). The grammar, loosest binding first::

    query   := or
    or      := and ( "OR" and )*
    and     := unary ( ["AND"] unary )*          juxtaposition means AND
    unary   := ( "NOT" | "-" ) unary | atom
    atom    := "(" query ")" | term
    term    := word | "a phrase" | word* | field:value | field:"a phrase"

Fields: ``from:`` ``to:`` ``cc:`` ``subject:`` (full-text, in that header only), ``folder:``,
``account:`` (exact name, case-insensitive), ``has:attachment``, ``is:unread|read|flagged|
replied|draft|trashed|forwarded``, ``before:DATE`` (strictly before the day) and ``after:DATE``
(that day or later), where DATE is ``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY``, ``today``,
``yesterday`` or an age like ``7d``, ``2w``, ``3m``, ``1y``. Operators are upper case; a lower-case
``and``/``or``/``not`` is a word. Words match whole words in the subject, the addresses and the
body, case- and diacritics-insensitively (SQLite FTS5 ``unicode61 remove_diacritics 2``: ``ПРИВЕТ``
finds ``привет``, ``cafe`` finds ``café``); ``word*`` matches a prefix.
An unknown ``field:`` is searched as text (``http://host`` stays a word).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, NamedTuple

from tmail.core.errors import UsageError


class QueryError(UsageError):
    """The search query could not be parsed; the message says where."""


# ------------------------------------------------------------------------------- the tree


class _Node:
    """Base of the tree's nodes: value equality by type and fields, a readable repr.

    Plain slotted classes rather than dataclasses: ``tmail search`` imports this module on
    every run, and a dozen dataclasses cost ~15 ms of start-up.
    """

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, _Node)
            and (other._values() == self._values())
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(repr(v) for v in self._values())})"


class Text(_Node):
    """Words or a phrase, in one FTS column (``None``: every column)."""

    __slots__ = ("column", "text", "phrase", "prefix")  # noqa: RUF023 (constructor order)

    def __init__(
        self, column: str | None, text: str, phrase: bool = False, prefix: bool = False
    ) -> None:
        self.column = column
        self.text = text
        self.phrase = phrase
        self.prefix = prefix


class Folder(_Node):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class Account(_Node):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class HasAttachment(_Node):
    __slots__ = ()


class FlagIs(_Node):
    __slots__ = ("letter", "present")

    def __init__(self, letter: str, present: bool) -> None:
        self.letter = letter
        self.present = present


class DateCmp(_Node):
    __slots__ = ("op", "timestamp")

    def __init__(self, op: str, timestamp: int) -> None:
        self.op = op  # "<" (before) or ">=" (after)
        self.timestamp = timestamp


class Not(_Node):
    __slots__ = ("node",)

    def __init__(self, node: Node) -> None:
        self.node = node


class And(_Node):
    __slots__ = ("nodes",)

    def __init__(self, nodes: tuple[Node, ...]) -> None:
        self.nodes = nodes


class Or(_Node):
    __slots__ = ("nodes",)

    def __init__(self, nodes: tuple[Node, ...]) -> None:
        self.nodes = nodes


class All(_Node):
    """The empty query: every message."""

    __slots__ = ()


Node = Text | Folder | Account | HasAttachment | FlagIs | DateCmp | Not | And | Or | All

TEXT_FIELDS = {"from": "sender", "to": "tos", "cc": "ccs", "subject": "subject", "body": "body"}
IS_FLAGS = {
    "unread": ("S", False),
    "new": ("S", False),
    "read": ("S", True),
    "seen": ("S", True),
    "flagged": ("F", True),
    "starred": ("F", True),
    "replied": ("R", True),
    "answered": ("R", True),
    "draft": ("D", True),
    "trashed": ("T", True),
    "deleted": ("T", True),
    "forwarded": ("P", True),
    "passed": ("P", True),
}
FIELDS = (*TEXT_FIELDS, "folder", "account", "has", "is", "before", "after")

# ------------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<field>[A-Za-z]+):(?:"(?P<fquoted>[^"]*)"?|(?P<fvalue>[^\s()"]*))
  | "(?P<quoted>[^"]*)"?
  | (?P<minus>-)(?=[^\s)])
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)


class _Tok:
    __slots__ = ("field", "kind", "pos", "quoted", "value")

    def __init__(
        self,
        kind: str,  # lparen rparen and or not term
        value: str = "",
        field: str | None = None,
        quoted: bool = False,
        pos: int = 0,
    ) -> None:
        self.kind = kind
        self.value = value
        self.field = field
        self.quoted = quoted
        self.pos = pos


def _tokens(query: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None:  # pragma: no cover - the word alternative matches anything else
            raise QueryError(f"cannot read the query at {query[pos:]!r}")
        kind = m.lastgroup
        start = pos
        pos = m.end()
        if m.group("ws"):
            continue
        if m.group("lparen"):
            out.append(_Tok("lparen", pos=start))
        elif m.group("rparen"):
            out.append(_Tok("rparen", pos=start))
        elif m.group("field") is not None:
            name = m.group("field").lower()
            if name in FIELDS:
                quoted = m.group("fquoted") is not None
                value = m.group("fquoted") if quoted else m.group("fvalue")
                out.append(_Tok("term", value or "", name, quoted, start))
            else:  # not a field we know: the whole thing is text (a URL, "re:")
                out.append(_Tok("term", m.group(0), None, False, start))
        elif m.group("quoted") is not None:
            out.append(_Tok("term", m.group("quoted"), None, True, start))
        elif m.group("minus"):
            out.append(_Tok("not", pos=start))
        else:
            word = m.group("word")
            if word in ("AND", "&&"):
                out.append(_Tok("and", pos=start))
            elif word in ("OR", "||", "|"):
                out.append(_Tok("or", pos=start))
            elif word == "NOT":
                out.append(_Tok("not", pos=start))
            else:
                out.append(_Tok("term", word, None, False, start))
        del kind
    return out


# ------------------------------------------------------------------------------- parsing


def parse(query: str, *, now: datetime | None = None, tz: tzinfo | None = None) -> Node:
    """The tree of ``query``; raises :class:`QueryError` naming what is wrong.

    ``now`` and ``tz`` fix "today" and day boundaries (default: the local clock and zone).
    """
    parser = _Parser(_tokens(query), query, now or datetime.now().astimezone(), tz)
    if not parser.toks:
        return All()
    node = parser.parse_or()
    if parser.i < len(parser.toks):
        tok = parser.toks[parser.i]
        if tok.kind == "rparen":
            raise QueryError(
                f"unmatched ')' at position {tok.pos + 1} of the query",
                hint="remove it or add the '(' it closes",
            )
        raise QueryError(f"unexpected {tok.kind!r} at position {tok.pos + 1}")  # pragma: no cover
    return node


class _Parser:
    def __init__(self, toks: list[_Tok], query: str, now: datetime, tz: tzinfo | None) -> None:
        self.toks = toks
        self.query = query
        self.now = now if now.tzinfo else now.astimezone()
        self.tz = tz or self.now.tzinfo
        self.i = 0

    def _peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse_or(self) -> Node:
        nodes = [self.parse_and()]
        while (tok := self._peek()) is not None and tok.kind == "or":
            self.i += 1
            nodes.append(self.parse_and())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def parse_and(self) -> Node:
        nodes = [self.parse_unary()]
        while (tok := self._peek()) is not None and tok.kind not in ("or", "rparen"):
            if tok.kind == "and":
                self.i += 1
            nodes.append(self.parse_unary())
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def parse_unary(self) -> Node:
        tok = self._peek()
        if tok is None:
            raise QueryError(
                "the query ends where a search term was expected",
                hint="finish it: a word after AND/OR/NOT, or a closing ')'",
            )
        if tok.kind == "not":
            self.i += 1
            return Not(self.parse_unary())
        if tok.kind == "lparen":
            self.i += 1
            if (nxt := self._peek()) is not None and nxt.kind == "rparen":
                raise QueryError(f"empty parentheses at position {tok.pos + 1}")
            node = self.parse_or()
            close = self._peek()
            if close is None or close.kind != "rparen":
                raise QueryError(
                    f"the '(' at position {tok.pos + 1} is never closed", hint="add a ')'"
                )
            self.i += 1
            return node
        if tok.kind in ("and", "or", "rparen"):
            what = {"and": "AND", "or": "OR", "rparen": "')'"}[tok.kind]
            raise QueryError(
                f"{what} at position {tok.pos + 1} has nothing before it",
                hint="put a search term first",
            )
        self.i += 1
        return self.term(tok)

    def term(self, tok: _Tok) -> Node:
        value = tok.value
        field = tok.field
        if field is None:
            return _text(None, value, tok.quoted)
        if field in TEXT_FIELDS:
            if not value:
                raise QueryError(f"{field}: needs a value, like {field}:alice")
            return _text(TEXT_FIELDS[field], value, tok.quoted)
        if field == "folder":
            if not value:
                raise QueryError("folder: needs a folder name, like folder:INBOX")
            return Folder(value)
        if field == "account":
            if not value:
                raise QueryError("account: needs an account name, like account:work")
            return Account(value)
        if field == "has":
            if value.lower() in ("attachment", "attachments", "attach"):
                return HasAttachment()
            raise QueryError(f"has:{value} is not known", hint="use has:attachment")
        if field == "is":
            spec = IS_FLAGS.get(value.lower())
            if spec is None:
                raise QueryError(
                    f"is:{value} is not known",
                    hint="use one of is:" + ", is:".join(sorted(IS_FLAGS)),
                )
            return FlagIs(spec[0], spec[1])
        # before: / after:
        start = self.day_start(value, field)
        return DateCmp("<" if field == "before" else ">=", start)

    def day_start(self, value: str, field: str) -> int:
        """The unix time at the start (local midnight) of the day/month/year ``value`` names."""
        v = value.strip().lower()
        today = self.now.astimezone(self.tz).date()
        day: date
        try:
            if v == "today":
                day = today
            elif v == "yesterday":
                day = today - timedelta(days=1)
            elif m := re.fullmatch(r"(\d+)([dwmy])", v):
                n, unit = int(m.group(1)), m.group(2)
                if unit == "d":
                    day = today - timedelta(days=n)
                elif unit == "w":
                    day = today - timedelta(weeks=n)
                elif unit == "m":
                    months = today.year * 12 + today.month - 1 - n
                    day = date(months // 12, months % 12 + 1, 1)
                else:
                    day = date(today.year - n, 1, 1)
            elif m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", v):
                day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            elif m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})", v):
                day = date(int(m.group(1)), int(m.group(2)), 1)
            elif m := re.fullmatch(r"(\d{4})", v):
                day = date(int(m.group(1)), 1, 1)
            else:
                raise ValueError(v)
        except ValueError:
            raise QueryError(
                f"{field}:{value} is not a date",
                hint="write YYYY-MM-DD, YYYY-MM, YYYY, today, yesterday or an age like 7d",
            ) from None
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        return int(midnight.timestamp())


def _text(column: str | None, value: str, quoted: bool) -> Node:
    prefix = not quoted and value.endswith("*") and len(value) > 1
    if prefix:
        value = value.rstrip("*")
    if not re.search(r"\w", value):
        return All()  # punctuation only: FTS has nothing to look for
    return Text(column, value, phrase=quoted, prefix=prefix)


# ------------------------------------------------------------------------------- compiling


class Compiled(NamedTuple):
    """A SQL condition over ``messages m`` (no join needed), and the FTS5 expression every
    match must satisfy (``fts``: None when the query has no required words), which lets the
    store pick a plan: few word matches are sorted, many are found walking the date index."""

    where: str
    params: tuple[Any, ...]
    fts: str | None = None


_FOLD = str.maketrans({"ё": "е", "Ё": "Е"})


def fold(text: str) -> str:
    """What both the index and queries fold beyond unicode61: Russian ё is searched as е.

    (unicode61's diacritics removal covers Latin letters only.)
    """
    if "ё" in text or "Ё" in text:  # cheaper than translate() on every body
        return text.translate(_FOLD)
    return text


def fts_string(text: str) -> str:
    """``text`` as an FTS5 string literal (the tokenizer splits it into a phrase)."""
    return '"' + fold(text).replace('"', '""') + '"'


def _fts_term(node: Text) -> str:
    expr = fts_string(node.text)
    if node.prefix:
        expr += " *"
    if node.column:
        expr = "{" + node.column + "} : " + expr
    return expr


def compile_query(node: Node) -> Compiled:
    """The SQL condition and its parameters for the tree ``node``."""
    params: list[Any] = []
    where = _compile(node, params)
    fts = _pure(node)
    if fts is None and isinstance(node, And):
        fts = _and_match(node)[0]
    return Compiled(where, tuple(params), fts)


def _pure(node: Node) -> str | None:
    """The FTS5 expression of a subtree made only of words (None when it has anything else).

    Such a subtree runs as one MATCH: one index walk instead of one per word.
    """
    if isinstance(node, Text):
        return _fts_term(node)
    if isinstance(node, Or):
        parts = [_pure(n) for n in node.nodes]
        if all(p is not None for p in parts):
            return "(" + " OR ".join(p for p in parts if p) + ")"
        return None
    if isinstance(node, And):
        match, rest = _and_match(node)
        return match if match is not None and not rest else None
    return None


def _and_match(node: And) -> tuple[str | None, list[Node]]:
    """Split an AND into one FTS5 expression (its word parts, NOT-words included when some
    positive word exists) and the children SQL must handle."""
    pos: list[str] = []
    neg: list[str] = []
    rest: list[Node] = []
    for child in node.nodes:
        p = _pure(child)
        if p is not None:
            pos.append(p)
            continue
        if isinstance(child, Not) and (q := _pure(child.node)) is not None:
            neg.append(q)
            continue
        rest.append(child)
    if not pos:
        return None, list(node.nodes)
    expr = "(" + " AND ".join(pos) + ")" + "".join(f" NOT {q}" for q in neg)
    return expr, rest


def _fts_clause(match: str, params: list[Any]) -> str:
    params.append(match)
    return "m.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)"


def _compile(node: Node, params: list[Any]) -> str:
    if isinstance(node, All):
        return "1"
    pure = _pure(node)
    if pure is not None:
        return _fts_clause(pure, params)
    if isinstance(node, Folder):
        params.append(node.name)
        return "m.folder_id IN (SELECT id FROM folders WHERE name = ? COLLATE NOCASE)"
    if isinstance(node, Account):
        params.append(node.name)
        return "m.folder_id IN (SELECT id FROM folders WHERE account = ? COLLATE NOCASE)"
    if isinstance(node, HasAttachment):
        return "m.has_attachment = 1"
    if isinstance(node, FlagIs):
        params.append(node.letter)
        return f"instr(m.flags, ?) {'>' if node.present else '='} 0"
    if isinstance(node, DateCmp):
        params.append(node.timestamp)
        return f"m.date {node.op} ?"
    if isinstance(node, Not):
        return f"NOT ({_compile(node.node, params)})"
    if isinstance(node, And):
        match, rest = _and_match(node)
        parts = [_fts_clause(match, params)] if match is not None else []
        parts.extend(_compile(n, params) for n in rest)
        return "(" + " AND ".join(parts) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(_compile(n, params) for n in node.nodes) + ")"
    raise TypeError(node)  # pragma: no cover
