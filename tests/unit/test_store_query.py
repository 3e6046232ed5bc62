"""The search language: parse trees for each construct, errors that say where."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tmail.store.query import (
    Account,
    All,
    And,
    DateCmp,
    FlagIs,
    Folder,
    HasAttachment,
    Not,
    Or,
    QueryError,
    Text,
    compile_query,
    parse,
)

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)


def p(q: str):  # type: ignore[no-untyped-def]
    return parse(q, now=NOW, tz=UTC)


def test_empty_query_is_everything() -> None:
    assert p("") == All()
    assert p("   ") == All()


def test_words_are_anded() -> None:
    assert p("hello world") == And((Text(None, "hello"), Text(None, "world")))


def test_phrase_and_prefix() -> None:
    assert p('"hello world"') == Text(None, "hello world", phrase=True)
    assert p("hel*") == Text(None, "hel", prefix=True)


def test_fields_map_to_fts_columns() -> None:
    assert p("from:alice@example.com") == Text("sender", "alice@example.com")
    assert p("to:bob") == Text("tos", "bob")
    assert p("cc:carol") == Text("ccs", "carol")
    assert p('subject:"quarterly report"') == Text("subject", "quarterly report", phrase=True)


def test_structured_fields() -> None:
    assert p("folder:INBOX") == Folder("INBOX")
    assert p('folder:"Sent Items"') == Folder("Sent Items")
    assert p("account:work") == Account("work")
    assert p("has:attachment") == HasAttachment()
    assert p("is:unread") == FlagIs("S", False)
    assert p("is:flagged") == FlagIs("F", True)


def test_dates_are_day_starts() -> None:
    start_2024_01_01 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    assert p("after:2024-01-01") == DateCmp(">=", start_2024_01_01)
    assert p("before:2024-01") == DateCmp("<", start_2024_01_01)
    assert p("before:2024") == DateCmp("<", start_2024_01_01)
    assert p("after:today") == DateCmp(">=", int(datetime(2024, 3, 15, tzinfo=UTC).timestamp()))
    assert p("after:7d") == DateCmp(">=", int(datetime(2024, 3, 8, tzinfo=UTC).timestamp()))
    assert p("after:2m") == DateCmp(">=", int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()))


def test_boolean_precedence_and_parentheses() -> None:
    a, b, c = Text(None, "a"), Text(None, "b"), Text(None, "c")
    assert p("a OR b c") == Or((a, And((b, c))))
    assert p("(a OR b) c") == And((Or((a, b)), c))
    assert p("a AND NOT b") == And((a, Not(b)))
    assert p("-b a") == And((Not(b), a))
    assert p("NOT (a OR b)") == Not(Or((a, b)))


def test_lower_case_operators_are_words() -> None:
    assert p("cats and dogs") == And((Text(None, "cats"), Text(None, "and"), Text(None, "dogs")))


def test_unknown_field_is_text() -> None:
    assert p("http://example.com") == Text(None, "http://example.com")
    assert p("re:hello") == Text(None, "re:hello")


def test_punctuation_only_term_matches_everything() -> None:
    assert p("@") == All()


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("(a OR b", "never closed"),
        ("a)", "unmatched ')'"),
        ("a OR", "ends where a search term"),
        ("OR a", "nothing before it"),
        ("()", "empty parentheses"),
        ("is:bogus", "is:bogus is not known"),
        ("has:kids", "has:kids is not known"),
        ("before:soon", "not a date"),
        ("after:2024-13-01", "not a date"),
        ("from:", "needs a value"),
    ],
)
def test_errors_say_what_is_wrong(query: str, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        p(query)
    assert fragment in info.value.one_line()


def test_compile_merges_words_into_one_match() -> None:
    c = compile_query(p('hello from:alice "big deal"'))
    assert c.where.count("MATCH") == 1
    assert c.params == ('("hello" AND {sender} : "alice" AND "big deal")',)
    assert c.fts == c.params[0]


def test_compile_quotes_fts_syntax_away() -> None:
    # FTS5 operators typed by the user stay words inside string literals.
    c = compile_query(p('"NEAR OR" AND* {body}'))
    assert c.params == ('("NEAR OR" AND "AND" * AND "{body}")',)


def test_compile_structured() -> None:
    c = compile_query(p("is:unread folder:inbox -has:attachment after:2024-01-01"))
    assert "instr(m.flags, ?) = 0" in c.where
    assert "SELECT id FROM folders WHERE name = ? COLLATE NOCASE" in c.where
    assert "NOT (m.has_attachment = 1)" in c.where
    assert c.params[0] == "S" and c.params[1] == "inbox"


def test_compile_folds_word_subtrees_and_negations_into_one_match() -> None:
    c = compile_query(p("(budget OR invoice) from:smith -spam is:unread"))
    assert c.params[0] == '(("budget" OR "invoice") AND {sender} : "smith") NOT "spam"'
    assert c.where.count("MATCH") == 1 and c.fts == c.params[0]
    # A negation alone, or words beside structured terms in an OR, stay SQL.
    c = compile_query(p("-spam"))
    assert c.fts is None and c.where.startswith("NOT (")
    c = compile_query(p("budget OR is:flagged"))
    assert c.fts is None and c.where.count("MATCH") == 1
