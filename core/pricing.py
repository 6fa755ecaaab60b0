"""The one price table: every USD figure the pipeline charges or estimates comes from ``core/data/catalog.toml``.

The data file (and a user override, ``VIDEOGEN_CATALOG_PATH``) is read by ``core.catalog``; this module turns its
price entries into typed prices and costs. The figures are public list prices as found on the dated pages each entry
names, *not* fetched live: re-check them before trusting an estimate to the cent. Models not in the table are priced
at 0 and flagged (self-hosted OpenAI-compatible servers are free to call).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, TypeVar

from core import catalog
from core.catalog import VideoModel

Billing = Literal["second", "run", "gpu_second", "image", "token"]
T = TypeVar("T")


def prices_checked() -> date:
    """The date the price table in force was checked (``videogen models`` warns when it is > 90 days old)."""
    return catalog.current().checked


@dataclass(frozen=True)
class VideoPrice:
    billing: Literal["second", "run", "gpu_second"]
    per_resolution: dict[str, float]  # USD per output second / per run; for gpu_second: the hardware price
    #: time-billed models only: typical GPU-seconds per output second, for estimates before the call
    gpu_seconds_per_output_second: float = 0.0

    def per_minute(self, resolution: str, clip_seconds: float = 5.0) -> float | None:
        """USD per minute of video at ``resolution`` (per-run prices at clips of ``clip_seconds``)."""
        unit = self.per_resolution.get(resolution)
        if unit is None:
            return None
        if self.billing == "second":
            return unit * 60
        if self.billing == "run":
            return unit * 60 / clip_seconds
        return unit * self.gpu_seconds_per_output_second * 60


@dataclass(frozen=True)
class RunPrice:
    billing: Literal["image", "gpu_second"]
    price: float  # USD per image, or per GPU-second
    typical_seconds: float = 0.0  # time-billed: a typical predict_time (plus per audio second for whisper)
    per_audio_second: float = 0.0


def _video_price(e: dict[str, Any]) -> VideoPrice:
    return VideoPrice(e["billing"], {k: float(v) for k, v in e.get("price", {}).items()},
                      float(e.get("gpu_seconds_per_output_second", 0.0)))  # fmt: skip


def _run_price(e: dict[str, Any]) -> RunPrice:
    return RunPrice(e["billing"], float(e["price"]), float(e.get("typical_seconds", 0.0)),
                    float(e.get("per_audio_second", 0.0)))  # fmt: skip


class _Table(Mapping[str, T]):
    """A read-only view of one price table of the current catalogue (follows the override file)."""

    def __init__(self, section: str, parse: Any) -> None:
        self.section, self.parse = section, parse

    def _raw(self) -> dict[str, Any]:
        found: dict[str, Any] = catalog.current().raw.get(self.section, {})
        return found

    def __getitem__(self, name: str) -> T:
        value: T = self.parse(self._raw()[name])
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw())

    def __len__(self) -> int:
        return len(self._raw())


VIDEO: Mapping[str, VideoPrice] = _Table("video", _video_price)
IMAGE: Mapping[str, RunPrice] = _Table("image", _run_price)
TRANSCRIPTION: Mapping[str, RunPrice] = _Table("transcription", _run_price)
#: OpenAI, USD per 1M tokens: (input, output)
TOKENS: Mapping[str, tuple[float, float]] = _Table("tokens", lambda v: (float(v[0]), float(v[1])))
#: Replicate hardware, USD per GPU-second
GPU_SECOND: Mapping[str, float] = _Table("gpu_second", float)


def base_name(model: str) -> str:
    """``owner/name:version`` -> ``owner/name``."""
    return model.split(":", 1)[0]


def token_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    price_in, price_out = TOKENS.get(model, (0.0, 0.0))
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000


def is_video_priced(model: str, resolution: str) -> bool:
    price = VIDEO.get(model)
    return price is not None and resolution in price.per_resolution


def video_cost(model: VideoModel, *, resolution: str, duration: float, predict_time: float | None = None) -> float:
    """What one succeeded clip costs; time-billed models need the prediction's ``metrics.predict_time``.

    A resolution the table has no figure for costs 0 here (estimates flag it: ``core.budget``)."""
    price = VIDEO.get(model.name)
    if price is None or resolution not in price.per_resolution:
        return 0.0
    unit = price.per_resolution[resolution]
    if price.billing == "second":
        return unit * duration
    if price.billing == "run":
        return unit
    seconds = predict_time if predict_time is not None else price.gpu_seconds_per_output_second * duration
    return unit * seconds


def video_billed_on_failure(model: str) -> bool:
    """Time-billed models charge the GPU time a failed prediction used; output-priced ones charge nothing."""
    price = VIDEO.get(base_name(model))
    return price is not None and price.billing == "gpu_second"


def run_cost(
    table: Mapping[str, RunPrice], model: str, *, predict_time: float | None = None, audio: float = 0
) -> float:
    """Image or transcription call: per image, or GPU-seconds (measured, else typical) x hardware price."""
    price = table.get(base_name(model))
    if price is None:
        return 0.0
    if price.billing == "image":
        return price.price
    seconds = predict_time if predict_time is not None else price.typical_seconds + price.per_audio_second * audio
    return price.price * seconds


def is_priced(model: str) -> bool:
    name = base_name(model)
    return any(name in table for table in (VIDEO, IMAGE, TRANSCRIPTION, TOKENS))
