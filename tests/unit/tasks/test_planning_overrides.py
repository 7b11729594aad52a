"""Overrides change exactly the content keys they should: the rest of a scene (and every other scene) stays put."""

from __future__ import annotations

from core.contract import parse_narrative
from core.edits import parse_edit, plan_edit
from core.results import SceneSpec
from tasks.images import image_key
from tasks.planning import plan_scenes, scene_seed, with_overrides
from tasks.speech import voice_key
from tasks.video import animation_key

LINES = ["A lighthouse at dusk.", "Waves on the rocks.", "A ship passes."]
CLIPS = {1: "c1", 2: "c2", 3: "c3"}


def planned(scenes: dict[str, dict[str, str]], generative: bool = False) -> tuple[list[SceneSpec], list[SceneSpec]]:
    spec = parse_narrative({"input": {"prompt_list": LINES, "image_model": "FLUX1.1PRO"}}).input
    plan = plan_edit(parse_edit({"request_id": "r", "scenes": scenes}), None, CLIPS, generative)
    return plan_scenes(spec), plan_scenes(spec, plan)


def keys(s: SceneSpec) -> tuple[str, str, str]:
    return (image_key(s, "FLUX1.1PRO", 1280, 720, "16:9"), voice_key(s, "OPENAI", "alloy"),
            animation_key(s, "img", None, "RUNWAY_GEN4_TURBO", 1280, 720, 30))


def test_no_edit_is_the_plan_as_before() -> None:
    before, after = planned({"1": {"text": "x"}})
    assert before[1:] == after[1:]
    assert [s.seed for s in before] == [scene_seed(line, i) for i, line in enumerate(LINES, 1)]


def test_image_reroll_changes_only_that_scenes_image_key() -> None:
    before, after = planned({"2": {"reroll": "image"}})
    changed = [[a != b for a, b in zip(keys(x), keys(y), strict=True)] for x, y in zip(before, after, strict=True)]
    assert changed == [[False] * 3, [True, False, False], [False] * 3]


def test_voice_and_clip_rerolls_change_only_their_keys() -> None:
    before, after = planned({"1": {"reroll": "voice"}, "3": {"reroll": "clip"}}, generative=True)
    assert [a != b for a, b in zip(keys(before[0]), keys(after[0]), strict=True)] == [False, True, False]
    assert [a != b for a, b in zip(keys(before[2]), keys(after[2]), strict=True)] == [False, False, True]


def test_a_new_line_changes_the_narration_but_keeps_the_still() -> None:
    before, after = planned({"2": {"text": "A storm rolls in."}})
    assert after[1].text == "A storm rolls in."
    assert (after[1].image_prompt, after[1].seed) == (before[1].image_prompt, before[1].seed)
    assert keys(after[1])[0] == keys(before[1])[0]
    assert keys(after[1])[1] != keys(before[1])[1]


def test_caller_media_from_the_request_and_the_edit() -> None:
    spec = parse_narrative({"input": {"image_model": "FLUX1.1PRO", "prompt_list": [
        "One.", {"text": "Two.", "video_url": "https://example.com/two.mp4"}]}}).input
    plan = plan_scenes(spec)
    assert (plan[0].video_url, plan[1].video_url) == (None, "https://example.com/two.mp4")
    edit = plan_edit(parse_edit({"request_id": "r", "scenes": {"2": {"reroll": "clip"},
                                                                "1": {"image_url": "https://example.com/1.png"}}}),
                     None, {1: "a", 2: "b"}, True)
    edited = with_overrides(plan, spec.scene_media, edit)
    assert edited[0].image_url == "https://example.com/1.png"
    assert edited[1].video_url is None, "a clip reroll replaces the caller's clip with a generated one"
