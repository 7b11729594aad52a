"""Media storage on fsspec: the same code for a local folder (``file://``) and S3 (``s3://`` via s3fs).

Keys are relative POSIX paths under the storage root (``cache/ab/ab12....png``, ``jobs/<id>/video.mp4``).
Generated assets are content-addressed (:func:`content_key`), so a finished asset is stored once and found again
by any later request with the same inputs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import time
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import fsspec
from fsspec.implementations.local import LocalFileSystem

from core.errors import InvalidRequest


def content_key(kind: str, ext: str, **parts: Any) -> str:
    """A content address: sha256 of the canonical JSON of everything that determines the asset."""
    blob = json.dumps({"kind": kind, **parts}, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(blob.encode()).hexdigest()
    return f"cache/{digest[:2]}/{digest}.{ext.lstrip('.')}"


def _safe_key(key: str) -> str:
    path = PurePosixPath(key)
    if path.is_absolute() or ".." in path.parts or not key or key != str(path):
        raise InvalidRequest(f"storage key '{key}' is not a plain relative path")
    return key


class Storage:
    """A storage root (an fsspec URL) with the few operations reelflow needs."""

    def __init__(self, url: str, **options: Any) -> None:
        self.url = url.rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **options)
        self.root = self.root.rstrip("/")
        self.is_local = isinstance(self.fs, LocalFileSystem)
        if self.is_local:
            Path(self.root).mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> str:
        """The filesystem path (local) or object path (S3) of a key."""
        return f"{self.root}/{_safe_key(key)}"

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self.path(key)))

    def size(self, key: str) -> int:
        return int(self.fs.size(self.path(key)))

    def put_bytes(self, key: str, data: bytes) -> str:
        """Write bytes atomically enough for our use: to a temp name, then move into place."""
        target = self.path(key)
        self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        if self.is_local:
            tmp = f"{target}.part-{time.monotonic_ns()}"
            Path(tmp).write_bytes(data)
            Path(tmp).replace(target)
        else:
            self.fs.pipe_file(target, data)
        return key

    def put_file(self, key: str, local_path: str | Path) -> str:
        """Copy a local file into storage under ``key``."""
        target = self.path(key)
        self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        if self.is_local:
            tmp = f"{target}.part-{time.monotonic_ns()}"
            shutil.copyfile(local_path, tmp)
            Path(tmp).replace(target)
        else:
            self.fs.put_file(str(local_path), target)
        return key

    def get_bytes(self, key: str) -> bytes:
        return bytes(self.fs.cat_file(self.path(key)))

    def local_copy(self, key: str, workdir: Path) -> Path:
        """A local path holding the key's bytes: the file itself when local, a download into workdir otherwise."""
        if self.is_local:
            return Path(self.path(key))
        dest = workdir / PurePosixPath(key).name
        if not dest.exists():
            self.fs.get_file(self.path(key), str(dest))
        return dest

    def presigned_url(self, key: str, expires: int) -> str:
        """A time-limited URL for object stores that support signing (S3)."""
        return str(self.fs.sign(self.path(key), expiration=expires))


def _options(url: str) -> dict[str, Any]:
    """Filesystem options per scheme. S3: presign with SigV4 (botocore would otherwise sign query strings with
    SigV2 in us-east-1, which S3 refuses for buckets created since 2020) and no listing cache (another worker may
    have written a key since this process last listed its folder)."""
    if url.startswith(("s3://", "s3a://")):
        return {"config_kwargs": {"signature_version": "s3v4"}, "use_listings_cache": False}
    return {}


@lru_cache(maxsize=8)
def open_storage(url: str) -> Storage:
    """A cached :class:`Storage` per URL (fsspec clients are reusable and thread-safe).

    Credentials and the endpoint come from the usual AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL`` ...),
    read by botocore itself, so every worker, the API and the CLI find the same bucket the same way.
    """
    return Storage(url, **_options(url))


def sign_path(secret: bytes, key: str, expires_at: int) -> str:
    """HMAC-SHA256 signature for a local file link: binds the key and its expiry time."""
    return hmac.new(secret, f"{key}\n{expires_at}".encode(), hashlib.sha256).hexdigest()


def signed_file_query(secret: bytes, key: str, ttl: int, now: float | None = None) -> str:
    """``<quoted key>?expires=..&signature=..`` for ``/v1/video/files/``."""
    expires_at = int((now if now is not None else time.time()) + ttl)
    return f"{quote(_safe_key(key))}?expires={expires_at}&signature={sign_path(secret, key, expires_at)}"


def verify_signature(secret: bytes, key: str, expires_at: int, signature: str, now: float | None = None) -> bool:
    """True when the signature matches and the link has not expired."""
    if expires_at < (now if now is not None else time.time()):
        return False
    if not signature.isascii():  # compare_digest refuses non-ASCII str; such a signature is simply wrong
        return False
    return hmac.compare_digest(sign_path(secret, key, expires_at), signature)
