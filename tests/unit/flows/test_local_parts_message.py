"""The COMPLETED message names the asset kinds the local renderers made when vendors made the rest."""

from __future__ import annotations

import pytest

from core.results import local_parts


@pytest.mark.parametrize(("renderers", "parts"), [
    ({"image": "openai", "voice": "openai", "video": "local"}, ["video"]),
    ({"image": "openai", "voice": "local"}, ["voice"]),
    ({"image": "local,replicate", "voice": "openai"}, ["image"]),
    ({"image": "google", "voice": "google", "video": "google"}, []),
    ({"image": "local", "voice": "local"}, []),  # offline: rendered_by "local" says it all
    ({}, []),
])
def test_local_parts(renderers: dict[str, str], parts: list[str]) -> None:
    assert local_parts(renderers) == parts
