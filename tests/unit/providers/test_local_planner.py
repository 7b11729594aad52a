"""The offline script writer: deterministic, one scene per planned duration, narration within each budget."""

from __future__ import annotations

import pytest

from core.script import word_budget
from providers.local.planner import LocalScriptWriter, split_beats, style_sheet

FOX = ("A red fox trots across a snowy field at dawn. It stops and listens to the wind, then pounces on a mouse "
       "hidden under the snow. Satisfied, it curls up beneath an old pine tree.")


def test_beats_are_sentences() -> None:
    assert split_beats("One thing happens. Then another!  And a third?") == [
        "One thing happens.", "Then another!", "And a third?"]
    assert split_beats("no full stop at all") == ["no full stop at all"]


def test_style_sheet_comes_from_the_prompt() -> None:
    style = style_sheet(FOX)
    assert (style.subject, style.setting) == ("A red fox trots", "a snowy field")
    assert style.palette == "warm amber and rose gold", "'dawn' and 'snow' tie; the first mood in the table wins"
    assert style_sheet("Robots dance in the neon city streets").palette == "neon magenta and grey"
    assert style == style_sheet(FOX), "deterministic"


@pytest.mark.parametrize("durations", [[10.0, 5.0, 5.0, 10.0], [5.0], [10.0] * 7 + [5.0] * 8 + [10.0], [5.0, 7.0]])
def test_one_scene_per_duration_and_every_line_fits(durations: list[float]) -> None:
    script = LocalScriptWriter().write(FOX, durations)
    assert [s.duration for s in script.scenes] == durations
    assert all(len(s.narration.split()) <= word_budget(s.duration) for s in script.scenes)
    assert all(s.visual for s in script.scenes) and script.written_by == "local"
    assert script == LocalScriptWriter().write(FOX, durations), "the same prompt writes the same script"


def test_beats_are_told_in_order_and_clauses_split_when_scenes_outnumber_sentences() -> None:
    script = LocalScriptWriter().write(FOX, [10.0, 5.0, 5.0, 10.0])
    lines = [s.narration for s in script.scenes]
    assert lines == ["A red fox trots across a snowy field at dawn.", "It stops and listens to the wind.",
                     "Then pounces on a mouse hidden under the snow.",
                     "Satisfied, it curls up beneath an old pine tree."]
    assert script.scenes[0].visual.startswith("wide establishing shot: ")
    assert script.scenes[-1].visual.startswith("closing wide shot: ")


def test_more_scenes_than_beats_leaves_the_extra_scenes_silent_with_new_angles() -> None:
    script = LocalScriptWriter().write("A lighthouse on a stormy night", [10.0, 10.0, 10.0])
    assert [bool(s.narration) for s in script.scenes] == [True, False, False]
    assert len({s.visual for s in script.scenes}) == 3
