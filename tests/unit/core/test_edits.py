"""The /edit body and plan rules (the validation table of the edit extension) and prompt_list scene objects."""

from __future__ import annotations

from typing import Any

import pytest

from core.contract import parse_narrative
from core.edits import EditPlan, SceneOverride, parse_edit, plan_edit
from core.errors import InvalidRequest

RID = "0b0c8a3e-5d5e-4f0e-9a51-7d1f2f6d1a11"
CLIPS = {1: "cache/aa/a.mp4", 2: "cache/bb/b.mp4", 3: "cache/cc/c.mp4"}


def edit(scenes: Any, **extra: Any) -> dict[str, Any]:
    return {"request_id": RID, "scenes": scenes, **extra}


@pytest.mark.parametrize(("body", "message"), [
    ([], "body: must be a JSON object"),
    ({"scenes": {"1": {"reroll": "image"}}}, "request_id: is required"),
    (edit({"1": {"reroll": "image"}}, request_id="  "), "request_id: must not be empty"),
    (edit({}), "scenes: is empty; an edit changes at least one scene"),
    (edit([]), "scenes: must be an object of scene number"),
    (edit({"x": {"reroll": "image"}}), "scenes: 'x' is not a scene number"),
    (edit({"0": {"reroll": "image"}}), "scenes: '0' is not a scene number"),
    (edit({"2": {}}), "scenes.2: is empty; set reroll, text, image_url or video_url"),
    (edit({"2": {"reroll": "music"}}), "scenes.2.reroll: 'music' is not a reroll target; use one of: image, voice"),
    (edit({"2": {"text": "   "}}), "scenes.2.text: must not be empty"),
    (edit({"2": {"text": "x" * 501}}), "scenes.2.text: has 501 characters; at most 500"),
    (edit({"2": {"image_url": "ftp://example.com/a.png"}}), "scenes.2.image_url: must be an absolute http"),
    (edit({"2": {"video_url": "https://u:p@example.com/a.mp4"}}), "scenes.2.video_url: must not carry credentials"),
    (edit({"2": {"colour": "red"}}), "scenes.2.colour: Extra inputs are not permitted"),
    (edit({"2": {"reroll": "image"}}, webhookUrl="nope"), "webhookUrl: must be an absolute http"),
])
def test_every_edit_body_rule_is_a_400_naming_the_field(body: Any, message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_edit(body)
    assert message in str(caught.value)


def test_scene_numbers_out_of_range_name_the_scene_and_the_count() -> None:
    with pytest.raises(InvalidRequest) as caught:
        plan_edit(parse_edit(edit({"4": {"reroll": "image"}})), None, CLIPS, generative=False)
    assert str(caught.value) == f"scenes.4: request {RID} has 3 scenes (1–3)"


def test_a_clip_reroll_needs_generated_clips() -> None:
    with pytest.raises(InvalidRequest) as caught:
        plan_edit(parse_edit(edit({"1": {"reroll": "clip"}})), None, CLIPS, generative=False)
    assert "scenes.1.reroll: 'clip' needs a job with generated clips" in str(caught.value)
    plan = plan_edit(parse_edit(edit({"1": {"reroll": "clip"}})), None, CLIPS, generative=True)
    assert plan.scenes[1] == SceneOverride(clip_seed=1, video_url="")


def test_rerolls_bump_only_their_asset_and_add_up_across_edits() -> None:
    first = plan_edit(parse_edit(edit({"2": {"reroll": "image"}, "3": {"text": "A new line."}})), None, CLIPS, False)
    assert first.edited_from == RID
    assert first.scenes[2] == SceneOverride(image_seed=1, image_url="")
    assert first.scenes[3] == SceneOverride(text="A new line.")
    again = plan_edit(parse_edit(edit({"2": {"reroll": "all"}})), first, CLIPS, True)
    assert again.scenes[2] == SceneOverride(image_seed=2, voice_seed=1, clip_seed=1, image_url="", video_url="")
    assert again.scenes[3].text == "A new line.", "the earlier edit's line is kept"
    assert again.previous_clips == CLIPS


def test_a_caller_url_replaces_the_still_and_survives_the_json_round_trip() -> None:
    plan = plan_edit(parse_edit(edit({"2": {"image_url": "https://example.com/a.png"}})), None, CLIPS, False)
    restored = EditPlan.model_validate(plan.model_dump(mode="json"))  # as a flow parameter
    assert restored == plan
    assert restored.scenes[2].image_url == "https://example.com/a.png"


def test_prompt_list_objects_carry_media_by_scene_number() -> None:
    body = {"input": {"image_model": "FLUX1.1PRO", "prompt_list": [
        "One.", "  ", {"text": "Two.", "image_url": "https://example.com/two.png"}, {"text": "Three."}]}}
    spec = parse_narrative(body).input
    assert spec.prompt_list == ["One.", "Two.", "Three."]
    assert set(spec.scene_media) == {2}
    assert spec.scene_media[2].image_url == "https://example.com/two.png"
    assert parse_narrative(parse_narrative(body).model_dump(mode="json")).input == spec, "flow parameters round-trip"


@pytest.mark.parametrize(("item", "message"), [
    ({"image_url": "https://example.com/a.png"}, "needs a non-empty 'text' string"),
    ({"text": "Hi.", "audio_url": "https://example.com/a.wav"}, "unknown field(s) audio_url"),
    ({"text": "Hi.", "image_url": "file:///etc/passwd"}, "image_url: must be an absolute http"),
    (3, "every entry must be a string or a"),
])
def test_bad_scene_objects_are_400s(item: Any, message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_narrative({"input": {"image_model": "FLUX1.1PRO", "prompt_list": ["One.", item]}})
    assert message in str(caught.value)
