"""Narration budgets and line fitting: what keeps a planned line inside its scene."""

from __future__ import annotations

import pytest

from core.script import StyleSheet, fit_line, word_budget


@pytest.mark.parametrize(("seconds", "words"), [(10.0, 22), (5.0, 10), (7.0, 15), (2.0, 0), (1.0, 0), (0.0, 0)])
def test_word_budget_is_two_and_a_half_words_a_second_after_the_margin(seconds: float, words: int) -> None:
    assert word_budget(seconds) == words


@pytest.mark.parametrize(
    ("text", "limit", "line"),
    [
        ("  A fox   trots. ", 10, "A fox trots."),
        ("One two three. Four five six seven eight.", 6, "One two three."),
        ("One two three, four five six seven eight nine", 7, "One two three."),
        ("One two three four five six seven eight nine", 5, "One two three four five."),
        ("A long line that will not fit", 2, ""),
        ("Anything at all", 0, ""),
    ],
)
def test_fit_line_cuts_at_a_sentence_then_a_clause_then_a_word(text: str, limit: int, line: str) -> None:
    assert fit_line(text, limit) == line
    assert len(fit_line(text, limit).split()) <= max(limit, 0)


def test_the_style_prefix_names_every_field() -> None:
    style = StyleSheet(subject="a red fox", setting="a snowy field", palette="cold whites", look="cinematic")
    assert style.prefix() == "cinematic; palette: cold whites; subject: a red fox; setting: a snowy field. "
