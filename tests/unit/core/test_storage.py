"""Storage works the same on a local folder and on a remote fsspec filesystem (memory here, S3 in e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InvalidRequest
from core.storage import Storage, content_key, signed_file_query, verify_signature


@pytest.fixture(params=["file", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "file":
        return Storage((tmp_path / "media").as_uri())
    return Storage(f"memory://reelflow-test-{tmp_path.name}")


def test_put_get_exists_size(store: Storage, tmp_path: Path) -> None:
    key = content_key("image", "png", prompt="a cat", seed=1)
    assert key.startswith("cache/") and key.endswith(".png")
    assert not store.exists(key)
    store.put_bytes(key, b"pixels")
    assert store.exists(key) and store.size(key) == 6
    assert store.get_bytes(key) == b"pixels"
    src = tmp_path / "clip.mp4"
    src.write_bytes(b"x" * 100)
    store.put_file("jobs/abc/video.mp4", src)
    copy = store.local_copy("jobs/abc/video.mp4", tmp_path)
    assert copy.read_bytes() == b"x" * 100


def test_content_key_is_stable_and_input_sensitive() -> None:
    a = content_key("voice", "wav", text="hello", voice="alloy")
    assert a == content_key("voice", "wav", voice="alloy", text="hello")
    assert a != content_key("voice", "wav", text="hello", voice="echo")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a/../../b", ""])
def test_keys_cannot_escape_the_root(store: Storage, key: str) -> None:
    with pytest.raises(InvalidRequest):
        store.path(key)


def test_signed_links_expire_and_bind_the_key() -> None:
    secret = b"s3cret"
    query = signed_file_query(secret, "jobs/a/video.mp4", ttl=60, now=1000.0)
    path, params = query.split("?")
    fields = dict(p.split("=") for p in params.split("&"))
    expires, signature = int(fields["expires"]), fields["signature"]
    assert path == "jobs/a/video.mp4" and expires == 1060
    assert verify_signature(secret, "jobs/a/video.mp4", expires, signature, now=1059.0)
    assert not verify_signature(secret, "jobs/a/video.mp4", expires, signature, now=1061.0)
    assert not verify_signature(secret, "jobs/b/video.mp4", expires, signature, now=1000.0)
    assert not verify_signature(b"other", "jobs/a/video.mp4", expires, signature, now=1000.0)
