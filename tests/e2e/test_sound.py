"""Music under the narration and karaoke captions, end to end through the real stack (issue 16).

Three requests on the session stack, all on the same lines with karaoke captions: with calm music, the same without
music (its scenes are the first job's, cached: only the sound track is new), and the first again (everything
Cached). The audio is measured on the published MP4s as a player decodes them:

- loudness of the music mix (EBU R128 integrated and true peak);
- music in the gaps: RMS of the mix where nobody speaks (the middle line is one short word, so its scene has over
  a second without speech);
- voice over music during speech: the mix is the narration (the no-music file, times a gain found by least squares)
  plus the ducked bed; what is left after taking the narration out is the music (plus both files' AAC coding noise,
  which can only make the music look louder, so the check is conservative). Both are low-passed at 4 kHz first,
  where speech has its energy and the codec is nearly transparent.

The karaoke check samples two frames inside two neighbouring words of the first line (word times from the stored
narration) and finds the highlight colour on the caption in both, at two different places.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from core.jobstate import request_tag
from media.captions import Word, word_groups
from media.ffmpeg import ffmpeg_exe
from media.probe import loudness
from tests.e2e.conftest import narrative_body, poll, recorded, terminal
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e
RATE = 48_000
LINES = ["The keeper climbs the lighthouse stairs at dusk.", "Hush.", "He lights the lamp and watches the sea."]
MAGENTA = (255, 0, 255)
CAPTIONS = {"style": "karaoke", "highlight_color": "#FF00FF"}


def run_job(api: httpx.Client, **extra: Any) -> dict[str, Any]:
    created = api.post("/v1/video/create_narrative", json=narrative_body(LINES, captions=CAPTIONS, **extra))
    assert created.status_code == 200, created.text
    body = poll(api, created.json()["request_id"], terminal)
    assert body["status"] == "COMPLETED", body
    return body


def task_states(stack: Stack, request_id: str) -> dict[str, str]:
    """Task-run name → state of the job's flow run (found by its request-id tag), from Prefect's REST API."""
    response = httpx.post(f"{stack.prefect_api_url}/task_runs/filter",
                          json={"flow_runs": {"tags": {"all_": [request_tag(request_id)]}}, "limit": 200})
    response.raise_for_status()
    return {run["name"]: run["state"]["name"] for run in response.json() if run.get("state")}


def download(body: dict[str, Any], path: Path) -> Path:
    path.write_bytes(httpx.get(body["result"]["videoUrl"]).content)
    return path


def decode(path: Path) -> np.ndarray:
    """The audio, mono 48 kHz float, low-passed at 4 kHz."""
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-af", "lowpass=f=4000:poles=2", "-f", "f32le",
                          "-ac", "1", "-ar", str(RATE), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4").astype(np.float64)


def words_of(stack: Stack, body: dict[str, Any]) -> list[list[Word]]:
    """Each scene's word timings (scene time), from the narration stored beside each voice WAV (the job's stored
    result names the voice keys; the API shows only links)."""
    media = stack.data_dir / "media"
    stored = json.loads((media / "jobs" / body["request_id"] / "result.json").read_text())
    scenes = []
    for scene in stored["scenes"]:
        meta = json.loads((media / scene["voice"].removesuffix(".wav")).with_suffix(".json").read_text())
        scenes.append([Word(w["text"], w["start"], w["end"]) for w in meta["words"]])
    return scenes


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x)) + 1e-20))


@pytest.fixture(scope="module")
def jobs(api: httpx.Client, stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("sound")
    music = run_job(api, music={"mood": "calm"})
    plain = run_job(api)
    rerun = run_job(api, music={"mood": "calm"})
    return {"music": music, "plain": plain, "rerun": rerun, "words": words_of(stack, music),
            "music_file": download(music, folder / "music.mp4"), "plain_file": download(plain, folder / "plain.mp4"),
            "folder": folder}


@pytest.fixture(scope="module")
def levels(jobs: dict[str, Any]) -> dict[str, list[float]]:
    """Per line: voice and music level (dB) during speech; per gap: the mix level (dBFS) where nobody speaks."""
    mix, voice = decode(jobs["music_file"]), decode(jobs["plain_file"])
    n = min(mix.size, voice.size)
    mix, voice = mix[:n], voice[:n]
    offsets = np.cumsum([0.0] + [s["duration"] for s in jobs["music"]["result"]["scenes"]])
    lines = [(offsets[i] + ws[0].start, offsets[i] + ws[-1].end) for i, ws in enumerate(jobs["words"])]
    speech = np.zeros(n, bool)
    for start, end in lines:
        speech[int(start * RATE):int(end * RATE)] = True
    gain = float(np.dot(mix[speech], voice[speech]) / np.dot(voice[speech], voice[speech]))
    music = mix - gain * voice
    out: dict[str, list[float]] = {"voice": [], "music": [], "gaps": []}
    for start, end in lines:
        part = slice(int(start * RATE), int(end * RATE))
        out["voice"].append(db(gain * voice[part]))
        out["music"].append(db(music[part]))
    for (_, end), (start, _) in zip(lines, lines[1:], strict=False):
        if start - end > 1.0:  # long enough for the bed to come back up (release ~0.4 s)
            out["gaps"].append(db(mix[int((end + 0.6) * RATE):int((start - 0.05) * RATE)]))
    return out


def test_the_music_mix_is_at_minus_16_lufs(jobs: dict[str, Any]) -> None:
    integrated, _ = loudness(jobs["music_file"])
    assert abs(integrated + 16.0) <= 1.0, integrated


def test_the_music_mix_peaks_at_or_under_minus_1_dbtp(jobs: dict[str, Any]) -> None:
    _, peak = loudness(jobs["music_file"])
    assert peak <= -1.0, peak


def test_there_is_a_gap_to_listen_in(levels: dict[str, list[float]]) -> None:
    assert levels["gaps"], "the short middle line should leave a gap of over a second"


def test_music_plays_in_the_gaps_between_the_lines(levels: dict[str, list[float]]) -> None:
    assert min(levels["gaps"]) > -45.0, levels


def test_during_speech_the_voice_is_at_least_15_db_over_the_music(levels: dict[str, list[float]]) -> None:
    margins = [v - m for v, m in zip(levels["voice"], levels["music"], strict=True)]
    assert min(margins) >= 15.0, (margins, levels)


def test_the_narration_without_music_has_no_bed(jobs: dict[str, Any]) -> None:
    gaps = decode(jobs["plain_file"])
    scenes = jobs["plain"]["result"]["scenes"]
    middle_end = scenes[0]["duration"] + scenes[1]["duration"]
    assert db(gaps[int((middle_end - 0.5) * RATE):int((middle_end - 0.05) * RATE)]) < -60.0


def test_a_rerun_finds_every_asset_cached(jobs: dict[str, Any], stack: Stack) -> None:
    def assets_of(states: dict[str, str]) -> dict[str, str]:
        return {name: state for name, state in states.items() if name not in ("plan-scenes", "publish")}

    states = recorded(lambda: task_states(stack, jobs["rerun"]["request_id"]), lambda found: "assemble" in found
                      and set(assets_of(found).values()) == {"Cached"})
    assets = assets_of(states)
    assert "narration" in assets and "assemble" in assets, states  # the track reused whole: music's task not run
    assert set(assets.values()) == {"Cached"}, states


def frame_at(video: Path, at: float, out: Path) -> np.ndarray:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(video), "-ss", f"{at:.3f}", "-frames:v", "1", "-y",
                    str(out)], check=True)
    with Image.open(out) as frame:
        return np.asarray(frame.convert("RGB")).astype(int)


def highlight_columns(frame: np.ndarray) -> np.ndarray:
    """Columns of highlight-coloured pixels in the caption band (the bottom 30 % of the frame)."""
    band = frame[int(frame.shape[0] * 0.7):]
    return np.argwhere((np.abs(band - np.array(MAGENTA)) < 60).all(axis=-1))[:, 1]


@pytest.fixture(scope="module")
def karaoke(jobs: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Highlight columns in a frame inside word A and one inside its neighbour B (first line, same cue)."""
    group = next(g for g in word_groups(jobs["words"][0]) if len(g) >= 3)
    a, b, c = group[:3]
    at_a, at_b = (a.start + b.start) / 2, (b.start + c.start) / 2
    folder = jobs["folder"]
    return (highlight_columns(frame_at(jobs["music_file"], at_a, folder / "a.png")),
            highlight_columns(frame_at(jobs["music_file"], at_b, folder / "b.png")))


def test_the_highlight_colour_is_on_the_caption_during_word_a(karaoke: tuple[np.ndarray, np.ndarray]) -> None:
    assert karaoke[0].size > 50


def test_the_highlight_colour_is_on_the_caption_during_word_b(karaoke: tuple[np.ndarray, np.ndarray]) -> None:
    assert karaoke[1].size > 50


def test_the_highlight_moves_right_to_the_next_word(karaoke: tuple[np.ndarray, np.ndarray]) -> None:
    assert karaoke[1].mean() > karaoke[0].mean() + 10, (karaoke[0].mean(), karaoke[1].mean())
