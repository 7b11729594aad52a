"""One settings class for the whole service, read from the environment (and `.env`).

Every reelflow setting carries the ``REELFLOW_`` prefix; vendor credentials keep the names their own SDKs use
(``OPENAI_API_KEY``, ``REPLICATE_API_TOKEN`` ...). Read settings only through :func:`get_settings`; tests clear
its cache instead of patching attributes. Secrets are ``SecretStr`` and never become flow parameters.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core import faults

SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "720p": {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (720, 720)},
    "1080p": {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)},
}


#: x264's presets, fastest first, after ours ("reelflow": ultrafast plus a few tools, see ``media.scene.TUNED``);
#: a typo fails at startup, not in the middle of a render.
X264Preset = Literal[
    "reelflow", "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
]


def _vendor(name: str) -> AliasChoices:
    return AliasChoices(name, f"REELFLOW_{name}")


class Settings(BaseSettings):
    """Every knob of reelflow, with the default that `make run` uses."""

    # Empty values count as unset, so a copied .env.example with blank lines means "defaults".
    model_config = SettingsConfigDict(env_prefix="REELFLOW_", env_file=".env", extra="ignore", env_ignore_empty=True)

    data_dir: Path = Field(default=Path(".reelflow"), description="Embedded PostgreSQL, media, cache, secrets.")
    storage_url: str = Field(default="", description="fsspec URL for media; empty means file://<data_dir>/media.")
    public_url: str = Field(default="", description="Base URL used in file links; empty means the API address.")
    api_keys: str = Field(default="", description="Comma-separated API keys; empty: one is generated on first start.")
    webhook_secret: SecretStr | None = Field(default=None, description="whsec_... secret for signing webhooks.")
    offline: bool | None = Field(default=None, description="Force local renderers; unset: auto when no vendor keys.")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    prefect_port: int = 4200
    webhook_allow_private: bool = False
    database_url: SecretStr | None = Field(
        default=None, description="External PostgreSQL for Prefect (postgresql+asyncpg://...); unset: embedded."
    )
    intake_url: SecretStr | None = Field(
        default=None, description="The intake database (postgresql+asyncpg://...); unset: derived from database_url."
    )
    intake_database: str = Field(default="reelflow", description="Database name of the intake on Prefect's server.")
    max_active_per_key: int = Field(default=20, ge=1, description="Jobs PENDING or IN_PROGRESS per API key (429).")
    dispatch_batch: int = Field(default=100, ge=1, description="Intake rows one dispatcher claims at a time.")
    dispatch_concurrency: int = Field(default=16, ge=1, description="Flow-run creations a dispatcher keeps in flight.")
    dispatch_nice: int = Field(default=0, ge=0, le=19, description="Niceness the dispatcher lowers itself to "
                               "(throughput work; 0: as the API).")
    runner_limit: int = Field(default=4, ge=1, description="Flow runs the embedded runner executes at once.")
    link_ttl: int = Field(default=7 * 24 * 3600, ge=60, description="Seconds a signed file link stays valid.")
    ui_link_ttl: int = Field(
        default=365 * 24 * 3600, ge=60,
        description="Seconds the links in a run's Prefect UI artifacts stay valid (S3 presigned: 7 days at most).",
    )
    batch_schedule: str = Field(
        default="", description="Cron (UTC) of the embedded runner's scheduled batch; empty: no schedule.",
    )
    batch_manifest: str = Field(
        default="", description="Path or storage URL of the scheduled batch's JSONL manifest, read at every run.",
    )
    webhook_schedule: str = Field(
        default="10,60,300,900,1800,3600,7200,14400,28800,43200",
        description="Seconds to wait before each webhook retry (comma-separated); the default spans ~28 h.",
    )
    webhook_timeout: float = Field(default=10.0, gt=0, description="Seconds one webhook POST may take.")
    webhook_inline_wait: float = Field(
        default=60.0, ge=0, description="Retries due within this many seconds wait inside the delivery run."
    )
    requeue_limit: int = Field(default=2, ge=0, description="Times a job whose worker died is re-queued.")
    heartbeat_grace: int = Field(
        default=75, ge=31, description="Seconds without a flow-run heartbeat before a run is marked Crashed."
    )
    pending_timeout: int = Field(
        default=300, ge=31, description="Seconds a claimed job may stay Pending before its worker counts as dead."
    )
    reconcile_interval: float = Field(default=5.0, gt=0, description="Seconds between reconciler passes.")
    retention_days: float = Field(
        default=30, gt=0, description="Days job media, unreferenced cache, task results and flow runs are kept."
    )
    retention_cron: str = Field(default="17 3 * * *", description="When the retention flow runs (cron, UTC).")
    min_free_mb: int = Field(
        default=2048, ge=0, description="Free MiB below which creates answer 503 and renders refuse to start (0: off)."
    )
    fps: Literal[24, 30] = 30
    size_class: Literal["720p", "1080p"] = "720p"
    x264_preset: X264Preset = Field(default="reelflow", description="x264 preset of every final scene encode.")
    x264_intermediate_preset: X264Preset = Field(
        default="ultrafast", description="x264 preset of clips that are encoded again (local image-to-video)."
    )
    task_retries: int = Field(default=3, ge=0, description="Retries of a retryable provider error per task.")
    inject_faults: str = Field(
        default="", description="Testing only: tasks that fail on purpose, DNS names with scripted answers.",
    )
    task_retry_delay: float = Field(default=2.0, ge=0, description="First retry delay in seconds; doubles each try.")

    openai_api_key: SecretStr | None = Field(default=None, validation_alias=_vendor("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=_vendor("OPENAI_BASE_URL"))
    replicate_api_token: SecretStr | None = Field(default=None, validation_alias=_vendor("REPLICATE_API_TOKEN"))
    replicate_base_url: str | None = Field(default=None, validation_alias=_vendor("REPLICATE_BASE_URL"))
    runwayml_api_secret: SecretStr | None = Field(default=None, validation_alias=_vendor("RUNWAYML_API_SECRET"))
    elevenlabs_api_key: SecretStr | None = Field(default=None, validation_alias=_vendor("ELEVENLABS_API_KEY"))
    gemini_api_key: SecretStr | None = Field(default=None, validation_alias=_vendor("GEMINI_API_KEY"))
    #: The google-genai SDK's own variables, read here too so a ``.env`` file can set them.
    google_gemini_base_url: str | None = Field(default=None, validation_alias=_vendor("GOOGLE_GEMINI_BASE_URL"))
    google_vertex_base_url: str | None = Field(default=None, validation_alias=_vendor("GOOGLE_VERTEX_BASE_URL"))
    local_fallback: bool = Field(
        default=False, description="Render locally what no configured vendor can serve, instead of a 400."
    )
    runway_base_url: str | None = Field(default=None, validation_alias=_vendor("RUNWAYML_BASE_URL"))
    elevenlabs_base_url: str = Field(
        default="https://api.elevenlabs.io", validation_alias=_vendor("ELEVENLABS_BASE_URL")
    )
    openai_image_model: str = Field(default="gpt-image-2", description="OpenAI image model (gpt-image-1 is retired).")
    openai_tts_model: str = Field(default="gpt-4o-mini-tts", description="OpenAI speech model.")
    openai_script_model: str = Field(default="gpt-4.1-mini", description="OpenAI chat model for movie scripts.")
    runway_model: str = Field(default="gen4_turbo", description="Runway image_to_video model.")
    elevenlabs_model: str = Field(default="eleven_multilingual_v2", description="ElevenLabs TTS model id.")
    gemini_image_model: str = Field(default="gemini-3.1-flash-image", description="Gemini image model (Nano Banana 2).")
    gemini_tts_model: str = Field(default="gemini-2.5-flash-preview-tts", description="Gemini speech model.")
    gemini_script_model: str = Field(default="gemini-2.5-flash", description="Gemini model for movie scripts.")
    google_video_model: str = Field(default="veo-3.1-generate-001", description="Veo model (Vertex express mode).")
    provider_timeout: float = Field(default=60.0, gt=0, description="Seconds one vendor HTTP request may take.")
    provider_job_timeout: float = Field(default=600.0, gt=0, description="Seconds a polled vendor job may take.")
    provider_poll_interval: float = Field(default=2.0, gt=0, description="Seconds between polls of a vendor job.")
    openai_concurrency: int = Field(default=4, ge=1, description="Vendor calls in flight per process (OpenAI).")
    replicate_concurrency: int = Field(default=4, ge=1, description="Vendor jobs in flight per process (Replicate).")
    runway_concurrency: int = Field(default=2, ge=1, description="Vendor jobs in flight per process (Runway).")
    elevenlabs_concurrency: int = Field(default=2, ge=1, description="Vendor calls in flight per process.")
    google_concurrency: int = Field(default=4, ge=1, description="Vendor calls in flight per process (Google).")
    max_media_mb: float = Field(default=50.0, gt=0, description="Largest caller image/clip (image_url, video_url).")
    vendor_gcl: bool = Field(default=False, description="Also hold Prefect global concurrency limit vendor-<name>.")
    music_backend: Literal["auto", "local", "replicate"] = Field(
        default="auto", description="Who composes background music; auto: Replicate when its token is set, else local."
    )
    music_url_allow_private: bool = Field(
        default=False, description="Let music.url fetch from private addresses (tests, intranets); else public only."
    )
    music_max_bytes: int = Field(default=50 << 20, ge=1 << 16, description="Largest caller music track (bytes).")

    @field_validator("inject_faults")
    @classmethod
    def _faults_parse(cls, value: str) -> str:
        """A drill with a typo in its DNS script fails at start, not by quietly resolving the name for real."""
        faults.parse(value)
        return value

    @model_validator(mode="after")
    def _music_backend_has_its_key(self) -> Settings:
        """Fail at start, not in a job, when music is pinned to a vendor whose key is missing."""
        if self.music_backend == "replicate" and "replicate" not in self.configured_backends():
            raise ValueError("REELFLOW_MUSIC_BACKEND=replicate needs REPLICATE_API_TOKEN")
        return self

    # media_url and results_url are read several times by every task (each storage access opens the store by its
    # URL) and resolving the data dir is a few system calls; the settings never change once built, so each is
    # worked out once.
    @cached_property
    def media_url(self) -> str:
        """Where generated media lives: the configured storage URL or a folder in the data dir."""
        if self.storage_url:
            return self.storage_url.rstrip("/")
        return (self.data_dir.resolve() / "media").as_uri()

    @cached_property
    def results_url(self) -> str:
        """Where Prefect persists task results (next to the media, so every worker sees the same cache)."""
        if self.storage_url:
            return f"{self.storage_url.rstrip('/')}/prefect-results"
        return (self.data_dir.resolve() / "results").as_uri()

    def credentials(self) -> dict[str, SecretStr | None]:
        """Each vendor backend's credential (the one list offline detection and routing both read)."""
        return {"openai": self.openai_api_key, "replicate": self.replicate_api_token,
                "runway": self.runwayml_api_secret, "elevenlabs": self.elevenlabs_api_key,
                "google": self.gemini_api_key}

    def configured_backends(self) -> frozenset[str]:
        """The vendor backends whose credential is set (empty, not None)."""
        return frozenset(name for name, key in self.credentials().items() if key and key.get_secret_value())

    @property
    def is_offline(self) -> bool:
        """Offline mode: explicit setting, else on exactly when no vendor credential is configured."""
        if self.offline is not None:
            return self.offline
        return not self.configured_backends()

    def frame_size(self, aspect_ratio: str) -> tuple[int, int]:
        """Output width and height for an aspect ratio at the configured size class."""
        return SIZES[self.size_class][aspect_ratio]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use (never at import time)."""
    return Settings()
