"""A two-scene film end to end (still clips with captions, narration, concat, mux, poster, sidecars), per aspect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pysubs2
import pytest
from PIL import Image

from core.errors import RenderError
from media.assemble import clip_videos, concat_clips, extract_poster, mux
from media.audio import build_narration
from media.captions import Cue, Word, group_words, offset_cues, write_scene_ass, write_sidecars
from media.ffmpeg import run
from media.probe import loudness, probe, stream_durations
from media.scene import motion_for, render_still_clip
from media.timing import frame_count, scene_duration

FPS = 24
NARRATION_S = (1.4, 2.1)


@dataclass
class Film:
    width: int
    height: int
    final: Path
    joined: Path
    clips: list[Path]
    durations: list[float]
    scene_bounds: list[tuple[float, float]]
    cues: list[Cue]
    srt: Path
    poster: Path


def packets(video: Path) -> list[tuple[int, str]]:
    """(size, md5) of each video packet in order, from ffmpeg's framemd5 muxer run on a stream copy."""
    listing = video.with_suffix(".md5")
    run(["-i", str(video), "-map", "0:v:0", "-c", "copy", "-f", "framemd5", str(listing)], what="hash packets")
    rows = [line.split(",") for line in listing.read_text().splitlines() if not line.startswith("#")]
    return [(int(row[4]), row[5].strip()) for row in rows]


@pytest.fixture(scope="module", params=[(1280, 720), (720, 1280), (720, 720)], ids=["16x9", "9x16", "1x1"])
def film(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    make_still: Callable[[Path, tuple[int, int]], Path],
    make_speech: Callable[..., Path],
) -> Film:
    width, height = request.param
    folder = tmp_path_factory.mktemp(f"film{width}x{height}")
    stills = [make_still(folder / "wide.png", (1024, 576)), make_still(folder / "tall.jpg", (600, 1000))]
    clips, segments, durations, bounds, all_cues = [], [], [], [], []
    start = 0.0
    for index, (still, spoken) in enumerate(zip(stills, NARRATION_S, strict=True)):
        voice = make_speech(folder / f"voice{index}.wav", spoken, level=0.1 if index == 0 else 0.6, clicks=index == 1)
        words = [Word(f"word{i}." if i == 3 else f"word{i}", i * spoken / 6, (i + 0.8) * spoken / 6) for i in range(6)]
        cues = group_words(words)
        duration = scene_duration(spoken, FPS)
        ass = write_scene_ass(cues, width, height, folder / f"scene{index}.ass")
        clips.append(
            render_still_clip(
                still,
                folder / f"scene{index}.mp4",
                duration=duration,
                width=width,
                height=height,
                fps=FPS,
                motion=motion_for(index),
                ass=ass,
            )
        )
        segments.append((voice, duration))
        durations.append(duration)
        bounds += [(start, start + duration)] * len(cues)
        all_cues += offset_cues(cues, start)
        start += duration
    narration = build_narration(segments, folder / "narration.m4a")
    joined = concat_clips(clips, folder / "joined.mp4")
    final = concat_clips(clips, folder / "final.mp4", audio=narration)  # what assembly does: join + mux at once
    write_sidecars(all_cues, folder / "final.srt", folder / "final.vtt")
    poster = extract_poster(final, folder / "poster.jpg")
    return Film(width, height, final, joined, clips, durations, bounds, all_cues, folder / "final.srt", poster)


def test_codecs(film: Film) -> None:
    info = probe(film.final)
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.pix_fmt, info.video.fps) == ("h264", "yuv420p", FPS)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("aac", 48000, 2)


def test_exact_size(film: Film) -> None:
    info = probe(film.final)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (film.width, film.height)
    with Image.open(film.poster) as poster:
        assert (poster.format, poster.size) == ("JPEG", (film.width, film.height))


def test_audio_and_video_line_up(film: Film) -> None:
    video_s, audio_s = stream_durations(film.final)
    assert abs(video_s - audio_s) < 1 / FPS
    assert video_s == pytest.approx(sum(film.durations))


def test_joining_and_muxing_at_once_equals_the_two_steps(film: Film) -> None:
    narration = film.final.parent / "narration.m4a"
    two_steps = mux(film.joined, narration, film.final.parent / "two-steps.mp4")
    assert stream_durations(two_steps) == stream_durations(film.final)
    assert probe(two_steps).video == probe(film.final).video


def test_each_scene_outlasts_its_narration(film: Film) -> None:
    for clip, duration, spoken in zip(film.clips, film.durations, NARRATION_S, strict=True):
        video_s, _ = stream_durations(clip)
        assert video_s == pytest.approx(duration)
        assert video_s >= max(spoken + 0.3, 2.0) - 1e-6


def test_srt_cues_stay_inside_their_scene(film: Film) -> None:
    events = pysubs2.load(str(film.srt)).events
    assert len(events) == len(film.scene_bounds) > 2
    for event, (start, end) in zip(events, film.scene_bounds, strict=True):
        assert start * 1000 - 1 <= event.start < event.end <= end * 1000 + 1


def test_loudness_on_target(film: Film) -> None:
    integrated, true_peak = loudness(film.final)
    assert integrated == pytest.approx(-16.0, abs=1.0)
    assert true_peak <= -1.0 + 0.2


def test_concat_copies_without_reencoding(film: Film) -> None:
    """Every packet of the film is a packet of a clip, byte for byte. The concat demuxer's auto_convert puts the
    SPS/PPS in band at the start of each clip, so those first packets only grow by the parameter sets."""
    expected = [frame_count(duration, FPS) for duration in film.durations]
    assert stream_durations(film.joined)[0] * FPS == pytest.approx(sum(expected))
    clip_packets = [packets(clip) for clip in film.clips]
    assert [len(clip) for clip in clip_packets] == expected
    film_packets = packets(film.final)
    assert len(film_packets) == sum(expected)
    offset = 0
    for clip in clip_packets:
        mine = film_packets[offset : offset + len(clip)]
        assert mine[1:] == clip[1:]
        assert 0 <= mine[0][0] - clip[0][0] <= 64
        offset += len(clip)


def test_known_clip_parameters_are_checked_without_probing(film: Film, tmp_path: Path) -> None:
    """A join given the clips' parameters (stored at an earlier join) still refuses clips that do not match."""
    known = clip_videos(film.clips)
    joined = concat_clips(film.clips, tmp_path / "known.mp4", videos=known)
    assert stream_durations(joined)[0] == pytest.approx(stream_durations(film.joined)[0])
    other = [replace(known[0], width=known[0].width + 2), *known[1:]] if known[0] else known
    with pytest.raises(RenderError, match="does not match"):
        concat_clips(film.clips, tmp_path / "mismatch.mp4", videos=list(reversed(other)))
