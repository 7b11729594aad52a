"""Patching a voice model for alignments: written once, atomically, into the first usable cache dir."""

from __future__ import annotations

import os
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from providers.local import model_cache


def _tiny_model(path: Path) -> Path:
    """A stand-in for a piper voice: its Ceil node (the durations) is not a graph output."""
    graph = helper.make_graph(
        [helper.make_node("Ceil", ["x"], ["w_ceil"]), helper.make_node("Identity", ["w_ceil"], ["y"])],
        "voice",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
    )
    onnx.save(helper.make_model(graph), path)
    return path


def test_patches_once_then_reuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _tiny_model(tmp_path / "voice.onnx")
    cache = tmp_path / "cache"
    patched = model_cache.patched_model_path(source, [cache])
    assert patched.parent == cache
    assert [o.name for o in onnx.load(str(patched)).graph.output] == ["y", "w_ceil"]

    def no_repatch(source: Path, target: Path) -> Path:
        raise AssertionError("patched again")

    monkeypatch.setattr(model_cache, "_write_patched", no_repatch)
    assert model_cache.patched_model_path(source, [cache]) == patched
    assert sorted(p.name for p in cache.iterdir()) == [patched.name]  # no temp files left behind


def test_unusable_cache_dir_falls_through_to_the_next(tmp_path: Path) -> None:
    source = _tiny_model(tmp_path / "voice.onnx")
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache dir should be")
    patched = model_cache.patched_model_path(source, [blocked / "models", tmp_path / "second"])
    assert patched.parent == tmp_path / "second"


def test_changed_source_is_patched_again(tmp_path: Path) -> None:
    source = _tiny_model(tmp_path / "voice.onnx")
    first = model_cache.patched_model_path(source, [tmp_path / "cache"])
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a reinstalled voice
    second = model_cache.patched_model_path(source, [tmp_path / "cache"])
    assert second != first and second.is_file()


def test_default_cache_dir_is_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import get_settings

    monkeypatch.setenv("REELFLOW_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert model_cache.default_cache_dirs()[0] == tmp_path.resolve() / "models"
    finally:
        get_settings.cache_clear()
