"""Task results are persisted as JSON, and a pickled cache record planted in the results folder is never loaded."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from prefect._internal.result_records import ResultRecord, ResultRecordMetadata
from prefect.serializers import PickleSerializer

from core.contract import parse_narrative
from core.settings import get_settings
from flows.narrative import narrative
from tests.flows.test_narrative_flow import task_states


class Planted:
    """Unpickling this runs ``os.makedirs(marker)``: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.makedirs, (str(self.marker),))


def records() -> list[Path]:
    return [p for p in (get_settings().data_dir / "results").iterdir() if p.is_file()]


def test_results_are_json_and_a_planted_pickle_is_dropped_not_loaded(tmp_path: Path) -> None:
    request = parse_narrative({"input": {"prompt_list": ["A kite over the dunes."], "image_model": "FLUX1.1PRO"}})
    assert narrative(request, return_state=True).is_completed()
    stored = records()
    assert stored
    for path in stored:
        assert json.loads(path.read_bytes())["metadata"]["serializer"]["type"] == "json", path.name

    image_record = next(p for p in stored if p.name.startswith("make-image-"))
    marker = tmp_path / "unpickled"
    planted = ResultRecord(metadata=ResultRecordMetadata(serializer=PickleSerializer(), storage_key=image_record.name,
                                                         expiration=None), result=Planted(marker))
    image_record.write_bytes(planted.serialize())
    again = narrative(request, return_state=True)
    assert again.is_completed(), again.message
    assert not marker.exists(), "the planted pickle was loaded"
    states = task_states(again)
    assert states["image-1"] == "Completed"  # the record was dropped: the task ran (its asset was still stored)
    assert states["voice-1"] == "Cached"
    assert json.loads(image_record.read_bytes())["metadata"]["serializer"]["type"] == "json"
