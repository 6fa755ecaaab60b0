"""One settings object. With no environment at all the whole pipeline runs offline.

Environment variables use the ``VIDEOGEN_`` prefix and ``__`` for nesting, e.g.
``VIDEOGEN_PROVIDERS__VIDEO=offline`` or ``VIDEOGEN_RENDER__PRESET=veryfast``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import ConfigError

#: provider names that run here for free (``providers.offline``); every other name is a paid vendor
FREE_PROVIDERS = frozenset({"offline", "instrumental"})


class ProviderChoice(BaseModel):
    """Which implementation serves each stage: ``offline`` everywhere by default; ``openai`` for planner and
    prompts; ``replicate`` for transcription, reference and video (``providers.registry``)."""

    transcription: str = "offline"
    planner: str = "offline"
    reference: str = "offline"
    prompts: str = "offline"
    video: str = "offline"

    def paid(self) -> dict[str, str]:
        """The stages served by a paid vendor, and by which (the budget guard's and the review default's)."""
        return {kind: name for kind, name in self.model_dump().items() if name not in FREE_PROVIDERS}


_BEAT_ROOM = 1.0  # s: room for a cut beat between the two shortest slots of the shortest song


class AudioSettings(BaseModel):
    sample_rate: int = 22050
    hop_length: int = 512
    min_duration: float = Field(7.0, description="shorter songs are refused (see shortest_song)")
    max_duration: float = Field(600.0, description="longer songs are refused")
    min_clip: float = 3.0
    max_clip: float = 7.0
    target_clip: float = 5.0
    min_clips: int = Field(3, description="clips of a song long enough for them (min_clips * min_clip)")
    short_song_clips: int = Field(2, description="clips of a shorter song (the composer needs two)")
    confidence_threshold: float = Field(0.35, description="below it the tempo grid is used")

    def clips_at_least(self, duration: float) -> int:
        """The fewest clips a song of ``duration`` s is cut into: ``min_clips``, or as many ``min_clip`` slots as
        fit a shorter song (never fewer than ``short_song_clips``), so no slot has to be shorter than ``min_clip``."""
        return max(self.short_song_clips, min(self.min_clips, int(duration // self.min_clip)))

    @property
    def shortest_song(self) -> float:
        """The shortest song accepted: ``min_duration``, and never less than ``short_song_clips`` slots of
        ``min_clip`` plus a second in which to find the beat between them (one beat at 60 BPM)."""
        return max(self.min_duration, self.short_song_clips * self.min_clip + _BEAT_ROOM)


Quality = Literal["draft", "standard", "high"]


@dataclass(frozen=True)
class Encode:
    """What one quality level means to x264 (chosen from ``bench.compose --encoders``; see its docstring)."""

    preset: str
    crf: int
    tune: str | None = None
    params: str = ""  # -x264-params on top of the preset


# ultrafast's search (diamond, full-pel, no inter partitions) with what decides the size turned back on: CABAC, the
# 8x8 transform and intra, the loop filter, adaptive quantisation, the macroblock tree and 2 reference frames. It is
# veryfast's size and SSIM at 1.6-1.95x its speed, on hosted clips and on the offline renderer's frames alike
# (bench.compose --encoders, whose docstring holds the table).
LEAN_X264 = "cabac=1:8x8dct=1:deblock=1:aq-mode=1:mbtree=1:rc-lookahead=10:partitions=i8x8:ref=2"

#: The one home of the render quality levels (CLI ``--quality``, the flow/deployment ``quality`` parameter).
QUALITY: dict[str, Encode] = {
    "draft": Encode("ultrafast", 28, tune="fastdecode"),
    "standard": Encode("ultrafast", 28, params=LEAN_X264),
    "high": Encode("veryfast", 21),
}


class RenderSettings(BaseModel):
    width: int = 1920
    height: int = 1080
    fps: int = 30
    quality: Quality = Field("standard", description="draft | standard | high: x264 preset and CRF (QUALITY)")
    preset: str | None = Field(None, description="x264 preset; overrides the quality's (and its tuning) when set")
    crf: int | None = Field(None, ge=0, le=51, description="x264 CRF; overrides the quality's when set")
    audio_bitrate: str = "192k"
    crossfade: float = 0.5
    fade: float = 0.5

    @property
    def encode(self) -> Encode:
        """The x264 preset and CRF every output frame is encoded with."""
        level = QUALITY[self.quality]
        crf = level.crf if self.crf is None else self.crf
        return Encode(self.preset, crf) if self.preset else Encode(level.preset, crf, level.tune, level.params)

    def at(self, quality: Quality | None) -> RenderSettings:
        """These settings at a job's own quality (``JobRequest.quality``); unset: as configured."""
        return self.model_copy(update={"quality": quality}) if quality else self


class OpenAISettings(BaseModel):
    """OpenAI (or any OpenAI-compatible server: Ollama, vLLM, llama.cpp via ``base_url``)."""

    api_key: SecretStr | None = Field(None, description="VIDEOGEN_OPENAI__API_KEY or OPENAI_API_KEY")
    base_url: str | None = Field(None, description="VIDEOGEN_OPENAI__BASE_URL or OPENAI_BASE_URL")
    planner_model: str = "gpt-4o-mini"
    prompt_model: str = "gpt-4o-mini"
    timeout: float = 120.0


class ReplicateSettings(BaseModel):
    api_token: SecretStr | None = Field(None, description="VIDEOGEN_REPLICATE__API_TOKEN or REPLICATE_API_TOKEN")
    base_url: str | None = Field(None, description="VIDEOGEN_REPLICATE__BASE_URL or REPLICATE_BASE_URL")
    image_model: str = "black-forest-labs/flux-schnell"
    video_model: str = Field(
        "wan-video/wan-2.2-i2v-fast",
        description="a model of the catalogue, or 'auto': the budget guard picks the best resolution that fits the "
        "budget, cheapest first",
    )
    #: community models (whisperx, whisper) need a version; official ones (flux, the video models) run by name.
    #: WhisperX gives word times; openai/whisper:8099696689d249cf8b122d833c36ac3f75505c666a395ca40ef26f68e7d3d16e
    #: (segments only) also works
    whisper_model: str = "victor-upmeet/whisperx:655845d6190ef70573c669245f245892cd039df4b880a1e3a65852c09252f5cc"
    video_resolution: str | None = Field(None, description="e.g. 480p/720p/1080p; the model's default when unset")
    poll_interval: float = 1.0
    timeout: float = 900.0
    max_parallel: int = Field(4, ge=1, description="global cap on concurrent Replicate predictions")


class BudgetSettings(BaseModel):
    per_minute: float = Field(1.50, ge=0, description="USD per minute of audio (PRD budget)")
    hard_cap: float | None = Field(None, ge=0, description="USD per job never to exceed; default per_minute x length")
    downgrade: bool = Field(True, description="over budget: pick a cheaper configuration instead of refusing")
    ledger_url: str | None = Field(
        None,
        description="spend ledger every process of a job charges (redis://, file:///dir, memory://); unset: the Redis "
        "of VIDEOGEN_API__REDIS_URL when that is set, else a file under data_dir/ledger (core.ledger)",
    )


class APISettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    token: SecretStr | None = Field(None, description="bearer token required when set")
    cors_origins: list[str] = Field(default_factory=lambda: ["http://localhost:5173", "http://127.0.0.1:5173"])
    max_upload_mb: float = 50.0
    max_prompt_chars: int = 2000
    max_style_chars: int = 500
    max_mood_chars: int = 200
    redis_url: str = "redis://127.0.0.1:6379/0"
    deployment: str = "music-video/music-video"
    event_ttl_hours: float = Field(168.0, gt=0, description="how long a job's event stream is kept in Redis")
    terminal_grace: float = Field(
        3.0, ge=0, description="seconds the bridge waits for the flow's own final event before synthesising one"
    )
    redis_max_connections: int = Field(50, ge=2, description="the API's Redis pool; requests wait for a connection")
    ws_max_per_job: int = Field(100, ge=1, description="WebSockets on one job (more are closed with 4429)")
    ws_max_per_client: int = Field(100, ge=1, description="WebSockets from one client address (4429 beyond)")
    docs: bool = Field(True, description="serve /docs, /redoc and /openapi.json")


class StorageSettings(BaseModel):
    """Where job files live: ``local`` (under ``data_dir``) or any S3-compatible server via boto3.

    Keys are organised by job: ``jobs/{job_id}/input/…``, ``jobs/{job_id}/intermediate/…`` (analysis, plan,
    reference, prompts, clips) and ``jobs/{job_id}/final/…``. On S3 every object is tagged with its class, and
    ``videogen infra apply-lifecycle`` installs the expiry rules below on the bucket."""

    backend: Literal["local", "s3"] = "local"
    bucket: str = "videogen"
    endpoint_url: str | None = Field(None, description="S3-compatible endpoint (MinIO, moto, R2); AWS when unset")
    region: str = "us-east-1"
    access_key_id: SecretStr | None = Field(None, description="else boto3's chain (AWS_ACCESS_KEY_ID, profiles, IAM)")
    secret_access_key: SecretStr | None = None
    intermediate_days: int = Field(1, ge=1, description="intermediates (analysis, plan, clips) expire after")
    final_days: int = Field(7, ge=1, description="final videos and results expire after")
    input_days: int = Field(7, ge=1, description="uploaded songs expire after (kept for batch re-renders)")
    results_days: int = Field(7, ge=1, description="Prefect task results (cache records) expire after")
    results_prefix: str = Field("prefect-results", description="key prefix of Prefect task results on S3")
    results_block: str = Field("videogen-results", description="name of the S3Bucket block holding task results")
    signed_url_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600, description="lifetime of signed download URLs")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="site origins allowed to fetch signed URLs from script (the web UI does, when the API has a "
        "token); a JSON list or comma-separated",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        """``["https://a", "https://b"]`` or ``https://a,https://b``: the form people type into a dashboard."""
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [o.strip() for o in text.split(",") if o.strip()]
        return value

    @field_validator("endpoint_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """An empty VIDEOGEN_STORAGE__ENDPOINT_URL means AWS, not the empty URL boto3 would reject."""
        return None if isinstance(value, str) and not value.strip() else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VIDEOGEN_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    data_dir: Path = Field(Path("data"), description="local storage root (jobs, caches)")
    catalog_path: Path | None = Field(
        None, description="a TOML file merged over the shipped model catalogue and prices (core/data/catalog.toml)"
    )
    providers: ProviderChoice = ProviderChoice()
    audio: AudioSettings = AudioSettings()
    render: RenderSettings = RenderSettings()
    openai: OpenAISettings = OpenAISettings()
    replicate: ReplicateSettings = ReplicateSettings()
    budget: BudgetSettings = BudgetSettings()
    api: APISettings = APISettings()
    storage: StorageSettings = StorageSettings()
    clip_parallelism: int = Field(2, ge=1, le=64, description="per-clip tasks running at once")
    task_runner: Literal["threads", "dask"] = Field(
        "threads", description="threads: a bounded thread pool in the flow process; dask: a Dask cluster"
    )
    dask_address: str | None = Field(
        None, description="scheduler of an existing Dask cluster (tcp://host:8786); else a LocalCluster"
    )
    dask_workers: int = Field(2, ge=1, le=64, description="worker processes of the LocalCluster")
    retries: int = Field(3, ge=0, le=10, description="retries of transient provider errors")
    retry_backoff: float = Field(2.0, ge=0, description="first retry delay, doubled each time")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    review_timeout: int = Field(7 * 86400, ge=60, description="seconds a run waits for its storyboard's approval")
    max_variants: int = Field(4, ge=1, le=16, description="variants one regeneration of a clip may ask for")

    @model_validator(mode="after")
    def _conventional_env(self) -> Settings:
        """The vendors' own variables (OPENAI_API_KEY, OPENAI_BASE_URL, REPLICATE_API_TOKEN) as fallbacks."""
        env = os.environ
        if self.openai.api_key is None and env.get("OPENAI_API_KEY"):
            self.openai.api_key = SecretStr(env["OPENAI_API_KEY"])
        if self.openai.base_url is None and env.get("OPENAI_BASE_URL"):
            self.openai.base_url = env["OPENAI_BASE_URL"]
        if self.replicate.api_token is None and env.get("REPLICATE_API_TOKEN"):
            self.replicate.api_token = SecretStr(env["REPLICATE_API_TOKEN"])
        if self.replicate.base_url is None and env.get("REPLICATE_BASE_URL"):
            self.replicate.base_url = env["REPLICATE_BASE_URL"]
        return self

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests call ``get_settings.cache_clear()`` after changing the environment."""
    return Settings()


def require_key(vendor: OpenAISettings | ReplicateSettings) -> str:
    """The vendor's API secret, or a ConfigError naming the variables that set it (asked only when the vendor is
    selected: with no environment at all the pipeline runs offline)."""
    name, field = ("openai", "api_key") if isinstance(vendor, OpenAISettings) else ("replicate", "api_token")
    secret: SecretStr | None = getattr(vendor, field)
    if secret is None:
        variable = f"{name}_{field}".upper()  # the vendor's own name first (see _conventional_env), then ours
        raise ConfigError(
            f"the {name} provider needs an API {field.removeprefix('api_')}",
            variable=f"{variable} or VIDEOGEN_{name.upper()}__{field.upper()}",
        )
    return secret.get_secret_value()
