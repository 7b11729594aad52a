"""Mapping phoneme durations to the input's words (pure functions, no synthesis)."""

from __future__ import annotations

from providers.local.word_timing import PhonemeSpan, align_words, proportional_words, words_from_starts


def _spans(symbols: list[str], step: float = 0.1) -> list[PhonemeSpan]:
    return [PhonemeSpan(p, i * step, (i + 1) * step) for i, p in enumerate(symbols)]


def test_words_merged_in_context_are_split_again() -> None:
    # espeak says "in the" as one phoneme word (ɪnðə) but "In" alone as ˈɪn: the alignment still splits them.
    tokens = ["In", "the", "end."]
    isolated = [["ˈ", "ɪ", "n"], ["ð", "ə"], ["ˈ", "ɛ", "n", "d", "."]]
    spoken = _spans(["^", "ɪ", "n", "ð", "ə", " ", "ˈ", "ɛ", "n", "d", ".", "$"])
    words = align_words(tokens, isolated, spoken)
    assert [w.text for w in words] == tokens
    assert (words[0].start, words[0].end) == (0.1, 0.3)
    assert (words[1].start, words[1].end) == (0.3, 0.5)
    assert (words[2].start, words[2].end) == (0.6, 1.0)  # starts at its stress mark, ends before "."


def test_token_without_phonemes_spans_the_pause() -> None:
    tokens = ["store", "—", "now"]
    isolated = [["s", "t", "ɔ", "ɹ"], [], ["n", "a", "ʊ"]]
    spoken = _spans(["^", "s", "t", "ɔ", "ɹ", ";", " ", "n", "a", "ʊ", "$"])
    words = align_words(tokens, isolated, spoken)
    assert (words[1].start, words[1].end) == (0.5, 0.7)
    assert words[2].start == 0.7


def test_mismatched_phonemes_still_give_ordered_words() -> None:
    tokens = ["five", "dollars"]
    isolated = [["f", "a", "ɪ", "v"], ["d", "ɑ", "l", "ɚ", "z"]]
    spoken = _spans(["^", "f", "ˈ", "a", "ɪ", "v", " ", "d", "ˈ", "ɔ", "l", "ɜ", "z", "$"])
    words = align_words(tokens, isolated, spoken)
    assert words[0].end <= words[1].start
    assert words[0].start == 0.1 and words[1].end == 1.3


def test_proportional_words_share_the_interval() -> None:
    words = proportional_words(["a", "longer", "word"], 0.0, 3.0)
    assert [w.text for w in words] == ["a", "longer", "word"]
    assert words[0].end - words[0].start < words[1].end - words[1].start
    assert words[-1].end <= 3.0


def test_words_from_starts_interpolates_missing_words() -> None:
    words = words_from_starts(["of", "the", "sea"], [1.0, None, 2.0], 3.0)
    assert words[0].start == 1.0 and 1.0 < words[1].start < 2.0 and words[2].start == 2.0
    assert words[-1].end == 3.0
