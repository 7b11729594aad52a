"""Clip lengths that add up to a requested movie duration, to the frame.

Image-to-video models make clips of a few fixed lengths (5 or 10 s for Kling and Runway), so a movie of D seconds is
a sequence of such clips. We take the smallest sum of allowed lengths that reaches D (a shortfall could only be
filled with frozen frames), put the longest clip last, and show that last clip only as long as needed: its tail is
trimmed so the movie lasts exactly D, frame-aligned. Cutting inside the last scene rather than trimming the joined
file keeps every scene a clip of its own (stream-copy concat still works) and lets the script writer plan that
scene's narration for its shown length, so a cut never lands in the middle of a word.

Only when every smallest sum would leave a sliver of a last scene (shorter than :data:`MIN_LAST_S`) and a sum just
below D exists is the last clip's final frame held instead, for at most :data:`MAX_HOLD_S`.
Among equally short sums the scene count closest to one scene per :data:`PACE_S` seconds wins: long enough for a
line of narration, short enough to keep the picture moving.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

#: Seconds per scene we aim at when several clip counts reach the same sum.
PACE_S = 7.5
#: A trimmed last scene shorter than this is a flash rather than a scene.
MIN_LAST_S = 2.0
#: The longest freeze of the last frame we accept to avoid such a flash.
MAX_HOLD_S = 1.0


@dataclass(frozen=True)
class ClipPlan:
    """Per scene: the clip length asked of the video model and the frame-aligned seconds it is on screen.

    ``shown`` equals ``clips`` except for the last scene, which is trimmed (or, rarely, held) so that the shown
    seconds add up to the requested duration.
    """

    clips: tuple[float, ...]
    shown: tuple[float, ...]
    fps: int

    @property
    def total(self) -> float:
        """Seconds of the whole movie (a whole number of frames)."""
        return sum(round(s * self.fps) for s in self.shown) / self.fps


@dataclass(frozen=True)
class _Candidate:
    frames: tuple[int, ...]  # clip lengths in frames, in play order (longest last)
    target: int

    @property
    def total(self) -> int:
        return sum(self.frames)

    @property
    def last_shown(self) -> int:
        return self.frames[-1] + self.target - self.total


def _multisets(lengths: Sequence[int], budget: int) -> Iterator[tuple[int, ...]]:
    """Every non-empty multiset of ``lengths`` (frames) whose sum is at most ``budget``, as sorted tuples."""

    def walk(start: int, left: int, chosen: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        if chosen:
            yield chosen
        for i in range(start, len(lengths)):
            if lengths[i] <= left:
                yield from walk(i, left - lengths[i], (*chosen, lengths[i]))

    yield from walk(0, budget, ())


def _order(multiset: tuple[int, ...]) -> tuple[int, ...]:
    """Longest clip last (it absorbs the trim), the others longest first: an establishing shot opens the movie."""
    ordered = sorted(multiset, reverse=True)
    return (*ordered[1:], ordered[0])


def plan_clips(duration: float, lengths: Sequence[float], fps: int) -> ClipPlan:
    """Choose clip lengths from ``lengths`` (the video model's) for a movie of exactly ``duration`` seconds."""
    if duration <= 0 or fps <= 0:
        raise ValueError(f"duration and fps must be positive, not {duration} s at {fps} fps")
    seconds_of = {round(length * fps): float(length) for length in lengths if length > 0}
    options = sorted(seconds_of)
    if not options:
        raise ValueError("the video model has no clip lengths")
    target = max(1, round(duration * fps))
    desired = max(1, round(duration / PACE_S))
    candidates = [_Candidate(_order(m), target) for m in _multisets(options, target + options[-1])]
    reaching = [c for c in candidates if c.total >= target and c.last_shown >= 1]
    shortest = min(c.total for c in reaching)
    best = [c for c in reaching if c.total == shortest]
    roomy = [c for c in best if c.last_shown >= MIN_LAST_S * fps]
    held = [c for c in candidates if 0 < target - c.total <= MAX_HOLD_S * fps]
    if roomy:
        chosen = min(roomy, key=lambda c: (abs(len(c.frames) - desired), len(c.frames), c.frames))
    elif held:
        chosen = min(held, key=lambda c: (target - c.total, abs(len(c.frames) - desired), c.frames))
    else:
        chosen = max(best, key=lambda c: (c.last_shown, -len(c.frames)))
    shown = (*chosen.frames[:-1], chosen.last_shown)
    return ClipPlan(clips=tuple(seconds_of[f] for f in chosen.frames), shown=tuple(f / fps for f in shown), fps=fps)
