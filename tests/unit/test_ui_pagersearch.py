"""The pager's text search as pure functions: matches, stepping, the highlight overlay."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from urwid.util import decompose_tagmarkup

from tmail.ui.pagersearch import Match, TextSearch, find_all, highlight


def test_every_occurrence_counts_several_on_a_line_and_any_case() -> None:
    assert find_all(["aXa xa", "", "XA"], "xa") == [
        Match(0, 1, 3),
        Match(0, 4, 6),
        Match(2, 0, 2),
    ]


def test_stepping_starts_at_the_focus_line_and_wraps_both_ways() -> None:
    search = TextSearch("x", ["x", "", "x x", "x"])
    found = search.step(True, from_line=1)
    assert found is not None and found.match == Match(2, 0, 1) and not found.wrapped
    assert [search.step(True, 0).match for _ in range(2)] == [Match(2, 2, 3), Match(3, 0, 1)]  # type: ignore[union-attr]
    again = search.step(True, 0)
    assert again is not None and again.wrapped and again.number == 1 and again.total == 4
    back = search.step(False, 0)
    assert back is not None and back.wrapped and back.match == Match(3, 0, 1)


@given(
    st.lists(st.tuples(st.sampled_from([None, "quote", "link"]), st.text(min_size=1)), max_size=5),
    st.integers(0, 40),
    st.integers(0, 40),
)
def test_the_highlight_keeps_the_text_and_the_colours_outside_it(
    runs: list[tuple[str | None, str]], a: int, b: int
) -> None:
    markup = [(attr, t) if attr else t for attr, t in runs]
    text, _ = decompose_tagmarkup(markup)
    start, end = sorted((min(a, len(text)), min(b, len(text))))
    shown, attrs = decompose_tagmarkup(highlight(markup, start, end))  # type: ignore[arg-type]
    assert shown == text

    def per_char(pairs: list[tuple[str | None, int]]) -> list[str | None]:
        out: list[str | None] = []
        for attr, n in pairs:
            out.extend([attr] * n)
        return out + [None] * (len(text) - len(out))

    before, after = per_char(decompose_tagmarkup(markup)[1]), per_char(attrs)
    for i in range(len(text)):
        assert after[i] == ("match" if start <= i < end else before[i])
