"""Running the ffmpeg binary: the one place that starts a process.

We build filter graphs with ffmpeg-python but always run the binary shipped by imageio-ffmpeg, so every machine
(workers included) renders with the same build: libx264, aac, libass, loudnorm and ebur128 are known to be there,
and there is no ffprobe (see ``media.probe``). Failures become ``RenderError`` carrying the tail of ffmpeg's stderr,
because the last lines are where ffmpeg says what went wrong.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import ffmpeg  # type: ignore[import-untyped,unused-ignore]
import imageio_ffmpeg  # type: ignore[import-untyped,unused-ignore]

from core.errors import RenderError

log = logging.getLogger(__name__)

#: Options every invocation gets: never read stdin (a worker has none; ffmpeg would otherwise wait on a key
#: press), no build banner in the logs, overwrite outputs (callers always write fresh paths or mean to replace).
GLOBAL_ARGS: tuple[str, ...] = ("-nostdin", "-hide_banner", "-y")

#: How many stderr lines an error message carries: enough for ffmpeg's reason, short enough to show a user.
TAIL_LINES = 15


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the imageio-ffmpeg binary (cached: the lookup touches the filesystem)."""
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def file_arg(path: Path | str) -> str:
    """A path as ffmpeg must see it: absolute, because ffmpeg reads ``name:`` in a relative path as a protocol
    (``my clip: v2.mp4`` would fail), and the concat demuxer resolves list entries against the list's location."""
    return str(Path(path).absolute())


def stderr_tail(stderr: str, lines: int = TAIL_LINES) -> str:
    """The last non-empty lines of ffmpeg's stderr; progress lines end in ``\\r``, so split on both."""
    parts = [line.strip() for line in stderr.replace("\r", "\n").split("\n")]
    return "\n".join([line for line in parts if line][-lines:])


def build_args(stream_or_args: Any) -> list[str]:
    """Command-line arguments after the binary: a list is taken as is, an ffmpeg-python node is compiled."""
    if isinstance(stream_or_args, Sequence) and not isinstance(stream_or_args, str):
        args = [str(arg) for arg in stream_or_args]
    else:
        args = [str(arg) for arg in ffmpeg.get_args(stream_or_args)]
    return [*GLOBAL_ARGS, *args]


def _spawn(stream_or_args: Any, what: str) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg to the end with stdout and stderr captured; only a binary that cannot start raises."""
    cmd = [ffmpeg_exe(), *build_args(stream_or_args)]
    log.debug("%s: %s", what, subprocess.list2cmdline(cmd))
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    except OSError as exc:
        raise RenderError(f"{what} failed: cannot start ffmpeg ({exc.strerror or exc})") from exc


def run_unchecked(stream_or_args: Any, *, what: str) -> tuple[int, str]:
    """Run ffmpeg and return ``(exit code, stderr)`` without judging the exit code.

    For callers whose useful answer comes with a non-zero exit, e.g. ``ffmpeg -i file`` without an output (probe).
    Only a binary that cannot start at all raises.
    """
    proc = _spawn(stream_or_args, what)
    return proc.returncode, proc.stderr.decode("utf-8", errors="replace")


def run(stream_or_args: Any, *, what: str) -> str:
    """Run ffmpeg on an ffmpeg-python stream (or a list of CLI args after the binary) and return its stderr.

    Raises ``RenderError("<what> failed: <last stderr lines>")`` on a non-zero exit, so the flow's failure message
    names the step and ffmpeg's own reason.
    """
    code, stderr = run_unchecked(stream_or_args, what=what)
    if code != 0:
        raise RenderError(f"{what} failed: {stderr_tail(stderr) or f'ffmpeg exited with code {code}'}")
    return stderr


def run_output(stream_or_args: Any, *, what: str) -> bytes:
    """Run ffmpeg and return what it wrote to stdout (an output of ``pipe:1``); errors as for :func:`run`."""
    proc = _spawn(stream_or_args, what)
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", errors="replace")
        raise RenderError(f"{what} failed: {stderr_tail(stderr) or f'ffmpeg exited with code {proc.returncode}'}")
    return proc.stdout


def run_fed(stream_or_args: Any, chunks: Iterable[bytes | memoryview], *, what: str) -> str:
    """Run ffmpeg reading ``chunks`` on stdin (an input of ``pipe:0``, e.g. raw frames made in Python).

    stderr goes to a temporary file, not a pipe: ffmpeg writes progress there all along, and a pipe nobody reads
    while we write stdin would fill and stall both processes. A chunk that cannot be written (ffmpeg quit early)
    stops the feed; the exit code and stderr then say why. Errors as for :func:`run`.
    """
    cmd = [ffmpeg_exe(), *build_args(stream_or_args)]
    log.debug("%s: %s", what, subprocess.list2cmdline(cmd))
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        except OSError as exc:
            raise RenderError(f"{what} failed: cannot start ffmpeg ({exc.strerror or exc})") from exc
        assert proc.stdin is not None
        try:
            for chunk in chunks:
                proc.stdin.write(chunk)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        except BaseException:  # the frame source failed: do not leave ffmpeg waiting for input
            proc.kill()
            proc.wait()
            raise
        code = proc.wait()
        err.seek(0)
        stderr = err.read().decode("utf-8", errors="replace")
    if code != 0:
        raise RenderError(f"{what} failed: {stderr_tail(stderr) or f'ffmpeg exited with code {code}'}")
    return stderr


@contextlib.contextmanager
def atomic_output(out: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``out`` (same suffix, so ffmpeg picks the same muxer) and move it into place
    only when the block succeeds.

    A failed or killed ffmpeg leaves a truncated file; callers that treat "the output exists" as "done" (task
    caching) must never see one, so the real name only ever holds a finished file.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}.part{out.suffix}")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
