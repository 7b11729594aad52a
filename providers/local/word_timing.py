"""Word timings for captions, from piper's per-phoneme durations (or, failing that, from word lengths).

Why an alignment and not a split at spaces: espeak phonemises a whole clause, and in context it both merges words
("in the" -> ``ɪnðə``, "of the" -> ``ʌvðə``) and expands others ("1990s" -> three phoneme words). So each input word is
also phonemised on its own, and the concatenation of those isolated phonemes (each labelled with its word) is aligned
to the phonemes actually spoken with :class:`difflib.SequenceMatcher`. Every spoken phoneme then inherits a word
label, and a word lasts from the start of its first phoneme to the end of its last one. Spaces, punctuation and the
sentence markers carry pauses, not words, so they never extend a word.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from media.captions import Word

# Phoneme symbols that are pauses or markers rather than speech (piper's PAD/BOS/EOS, space and punctuation).
SILENT: frozenset[str] = frozenset(" _^$,.!?;:-()\"'—–…¡¿«»")


@dataclass(frozen=True)
class PhonemeSpan:
    """One phoneme as spoken, and where it lies in the output audio (seconds)."""

    phoneme: str
    start: float
    end: float


def align_words(
    tokens: Sequence[str], token_phonemes: Sequence[Sequence[str]], spans: Sequence[PhonemeSpan]
) -> list[Word]:
    """One :class:`Word` per token, in order, timed by the spoken phonemes that the alignment gives it.

    ``token_phonemes[i]`` are the phonemes of ``tokens[i]`` said on its own; ``spans`` are all phonemes spoken, in
    order, with their times. Tokens that get no phoneme (a lone dash) span the gap between their neighbours.
    """
    labels = _label_spoken(token_phonemes, spans)
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    for span, label in zip((s for s in spans if s.phoneme not in SILENT), labels, strict=True):
        first.setdefault(label, span.start)
        last[label] = span.end
    return _fill_gaps(tokens, first, last, end_of_audio=spans[-1].end if spans else 0.0)


def proportional_words(tokens: Sequence[str], start: float, end: float) -> list[Word]:
    """Estimated timings: ``[start, end]`` shared by the tokens in proportion to their length (plus a gap each).

    Used only when no phoneme durations exist (espeak fallback without word events, or a failed alignment).
    """
    weights = [max(1, sum(ch.isalnum() for ch in token)) + 1.0 for token in tokens]
    total = sum(weights) or 1.0
    words: list[Word] = []
    cursor = start
    for token, weight in zip(tokens, weights, strict=True):
        step = (end - start) * weight / total
        words.append(Word(token, round(cursor, 3), round(cursor + step * 0.85, 3)))
        cursor += step
    return words


def words_from_starts(tokens: Sequence[str], starts: Sequence[float | None], end: float) -> list[Word]:
    """Words from known start times (espeak's WORD events); each word ends where the next one starts.

    Tokens without a start (espeak folds "of the" into one word event) share the interval between the surrounding
    known starts in proportion to their length, like :func:`proportional_words`.
    """
    anchors = [(i, float(t)) for i, t in enumerate(starts) if t is not None]
    if not anchors:
        return proportional_words(tokens, 0.0, end)
    filled: list[float] = [anchors[0][1]] * len(tokens)
    for (i, t_i), (k, t_k) in zip(anchors, [*anchors[1:], (len(tokens), max(end, anchors[-1][1]))], strict=True):
        for word in proportional_words(tokens[i:k], t_i, max(t_i, t_k)):
            filled[i] = word.start
            i += 1
    bounds = [*filled, max(end, filled[-1])]
    running = 0.0
    words: list[Word] = []
    for index, token in enumerate(tokens):
        running = max(running, bounds[index])
        words.append(Word(token, round(running, 3), round(max(running, bounds[index + 1]), 3)))
    return words


def _label_spoken(token_phonemes: Sequence[Sequence[str]], spans: Sequence[PhonemeSpan]) -> list[int]:
    """The token index of every spoken (non-silent) phoneme, non-decreasing along the audio."""
    iso: list[str] = []
    iso_label: list[int] = []
    for index, phonemes in enumerate(token_phonemes):
        for phoneme in phonemes:
            if phoneme not in SILENT:
                iso.append(phoneme)
                iso_label.append(index)
    spoken: list[str] = []
    group: list[int] = []  # which space-delimited phoneme word each spoken phoneme belongs to
    group_id = 0
    for span in spans:
        if span.phoneme in SILENT:
            group_id += 1
        else:
            spoken.append(span.phoneme)
            group.append(group_id)
    labels: list[int | None] = [None] * len(spoken)
    if iso:
        matcher = difflib.SequenceMatcher(None, iso, spoken, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("equal", "replace"):
                for j in range(j1, j2):
                    labels[j] = iso_label[i1 + (j - j1) * (i2 - i1) // (j2 - j1)]
    filled = _fill_labels(labels, group)
    out: list[int] = []
    running = 0
    for label in filled:  # labels never go back: words are spoken in order
        running = max(running, label)
        out.append(running)
    return out


def _fill_labels(labels: list[int | None], group: list[int]) -> list[int]:
    """Give phonemes the matcher could not place the label of a neighbour in the same phoneme word.

    Prefer the previous phoneme of the same phoneme word, then the next one (a stress mark that starts a word
    belongs to that word), then the previous label anywhere, then the next, then the first token.
    """
    count = len(labels)
    out: list[int] = []
    for j, label in enumerate(labels):
        if label is None:
            label = next((labels[k] for k in range(j - 1, -1, -1) if group[k] == group[j] and labels[k] is not None),
                         None)
        if label is None:
            label = next((labels[k] for k in range(j + 1, count) if group[k] == group[j] and labels[k] is not None),
                         None)
        if label is None:
            label = next((out[k] for k in range(j - 1, -1, -1)), None)
        if label is None:
            label = next((lab for lab in labels[j + 1:] if lab is not None), 0)
        out.append(label)
    return out


def _fill_gaps(
    tokens: Sequence[str], first: dict[int, float], last: dict[int, float], end_of_audio: float
) -> list[Word]:
    """Words for all tokens; a token without phonemes spans from the previous word's end to the next word's start."""
    words: list[Word] = []
    prev_end = min(first.values(), default=0.0)
    for index, token in enumerate(tokens):
        if index in first:
            start, end = max(first[index], prev_end), max(last[index], prev_end)
        else:
            following = next((first[k] for k in range(index + 1, len(tokens)) if k in first), end_of_audio)
            start, end = prev_end, max(prev_end, following)
        words.append(Word(token, round(start, 3), round(end, 3)))
        prev_end = end
    return words
