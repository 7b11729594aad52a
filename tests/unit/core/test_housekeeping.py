"""Retention sweeps, tombstones, the free-space floor and the startup sweep on a real local storage folder."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from core.housekeeping import (
    below_floor,
    job_ids_older_than,
    read_tombstone,
    sweep_cache,
    sweep_job,
    sweep_leftovers,
    sweep_older_than,
)
from core.storage import Storage

DAY = 86400.0


def age(path: Path, days: float) -> None:
    then = time.time() - days * DAY
    os.utime(path, (then, then))


def test_a_swept_job_leaves_a_tombstone_naming_its_owner(tmp_path: Path) -> None:
    store = Storage(tmp_path.as_uri())
    store.put_bytes("jobs/j1/video.mp4", b"v" * 1000)
    store.put_bytes("jobs/j1/result.json", b"{}")
    freed = sweep_job(store, "j1", "kid-a")
    assert freed.files == 2
    assert freed.bytes == 1002
    assert not (tmp_path / "jobs" / "j1").exists()
    stone = read_tombstone(store, "j1")
    assert stone is not None
    assert stone["owner"] == "kid-a"
    assert read_tombstone(store, "j2") is None
    assert read_tombstone(store, "../jobs") is None


def test_only_jobs_whose_newest_file_is_old_count_as_old(tmp_path: Path) -> None:
    store = Storage(tmp_path.as_uri())
    for job in ("old", "mixed", "new"):
        store.put_bytes(f"jobs/{job}/a.bin", b"a")
        store.put_bytes(f"jobs/{job}/b.bin", b"b")
    for name in ("a.bin", "b.bin"):
        age(tmp_path / "jobs" / "old" / name, 40)
    age(tmp_path / "jobs" / "mixed" / "a.bin", 40)
    assert job_ids_older_than(store, time.time() - 30 * DAY) == ["old"]


def test_the_cache_sweep_keeps_what_a_remaining_job_references(tmp_path: Path) -> None:
    store = Storage(tmp_path.as_uri())
    kept, dropped, fresh = "cache/aa/aa11", "cache/bb/bb22", "cache/cc/cc33"
    for stem in (kept, dropped, fresh):
        store.put_bytes(f"{stem}.png", b"p" * 10)
        store.put_bytes(f"{stem}.by.json", b"{}")
    store.put_bytes("jobs/live/result.json", json.dumps({"scenes": [{"image": f"{kept}.png"}]}).encode())
    for stem in (kept, dropped):
        age(tmp_path / f"{stem}.png", 40)
        age(tmp_path / f"{stem}.by.json", 40)
    freed = sweep_cache(store, time.time() - 30 * DAY)
    assert freed.files == 2
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*.png")) == ["aa11.png", "cc33.png"]
    assert not (tmp_path / f"{dropped}.by.json").exists()


def test_results_older_than_the_cutoff_go(tmp_path: Path) -> None:
    store = Storage(tmp_path.as_uri())
    store.put_bytes("make-image-1", b"r")
    store.put_bytes("make-image-2", b"r")
    age(tmp_path / "make-image-1", 40)
    assert sweep_older_than(store, "", time.time() - 30 * DAY).files == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["make-image-2"]


def test_the_floor(tmp_path: Path) -> None:
    assert below_floor(tmp_path, 0) is None
    assert below_floor(tmp_path, 1) is None
    message = below_floor(tmp_path / "not" / "yet", 10**12)
    assert message is not None
    assert "REELFLOW_MIN_FREE_MB is 1000000000000" in message


def test_startup_sweep_removes_scratch_dirs_and_stale_part_files(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp" / "tmpabc"
    scratch.mkdir(parents=True)
    (scratch / "scene.mp4").write_bytes(b"x" * 100)
    media = tmp_path / "media" / "jobs" / "j"
    media.mkdir(parents=True)
    stale, young, done = media / "video.mp4.part-1", media / "video.mp4.part-2", media / "poster.jpg"
    for path in (stale, young, done):
        path.write_bytes(b"y" * 10)
    age(stale, 1)
    freed = sweep_leftovers(tmp_path, tmp_path / "media")
    assert freed.files == 2
    assert freed.bytes == 110
    assert list((tmp_path / "tmp").iterdir()) == []
    assert sorted(p.name for p in media.iterdir()) == ["poster.jpg", "video.mp4.part-2"]
