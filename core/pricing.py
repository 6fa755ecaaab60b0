"""The one price table: every USD figure the pipeline charges or estimates comes from here.

Checked: see ``PRICES_CHECKED``. The figures are Replicate's and OpenAI's public list prices as recalled on that
date, *not* fetched live (this machine has no internet): re-check them on replicate.com/<model> and
openai.com/api/pricing before trusting an estimate to the cent. Models not in the table are priced at 0 and flagged
(self-hosted OpenAI-compatible servers are free to call).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from core.catalog import VideoModel

PRICES_CHECKED = date(2025, 8, 1)

Billing = Literal["second", "run", "gpu_second", "image", "token"]

#: Replicate hardware, USD per GPU-second (time-billed models pay predict_time x this)
GPU_SECOND: dict[str, float] = {"nvidia-t4": 0.000225, "nvidia-l40s": 0.000975, "nvidia-a100-80gb": 0.0014}


@dataclass(frozen=True)
class VideoPrice:
    billing: Literal["second", "run", "gpu_second"]
    per_resolution: dict[str, float]  # USD per output second / per run; for gpu_second: the hardware price
    #: time-billed models only: typical GPU-seconds per output second, for estimates before the call
    gpu_seconds_per_output_second: float = 0.0


VIDEO: dict[str, VideoPrice] = {
    "wan-video/wan-2.2-i2v-fast": VideoPrice("run", {"480p": 0.05, "720p": 0.10}),
    "bytedance/seedance-1-lite": VideoPrice("second", {"480p": 0.018, "720p": 0.036, "1080p": 0.072}),
    "minimax/hailuo-02-fast": VideoPrice("second", {"512p": 0.017}),
    "kwaivgi/kling-v2.1": VideoPrice("second", {"720p": 0.05, "1080p": 0.09}),
    "lightricks/ltx-video": VideoPrice(
        "gpu_second",
        {"512p": GPU_SECOND["nvidia-l40s"], "768p": GPU_SECOND["nvidia-l40s"]},
        gpu_seconds_per_output_second=4.0,
    ),
}


@dataclass(frozen=True)
class RunPrice:
    billing: Literal["image", "gpu_second"]
    price: float  # USD per image, or per GPU-second
    typical_seconds: float = 0.0  # time-billed: a typical predict_time (plus per audio second for whisper)
    per_audio_second: float = 0.0


IMAGE: dict[str, RunPrice] = {
    "black-forest-labs/flux-schnell": RunPrice("image", 0.003),
    "black-forest-labs/flux-dev": RunPrice("image", 0.025),
    "black-forest-labs/flux-1.1-pro": RunPrice("image", 0.04),
    "stability-ai/sdxl": RunPrice("gpu_second", GPU_SECOND["nvidia-l40s"], typical_seconds=8.0),
}

TRANSCRIPTION: dict[str, RunPrice] = {
    "openai/whisper": RunPrice("gpu_second", GPU_SECOND["nvidia-l40s"], typical_seconds=4.0, per_audio_second=0.1),
}

#: OpenAI, USD per 1M tokens: (input, output)
TOKENS: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}


def base_name(model: str) -> str:
    """``owner/name:version`` -> ``owner/name``."""
    return model.split(":", 1)[0]


def token_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    price_in, price_out = TOKENS.get(model, (0.0, 0.0))
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000


def video_cost(model: VideoModel, *, resolution: str, duration: float, predict_time: float | None = None) -> float:
    """What one succeeded clip costs; time-billed models need the prediction's ``metrics.predict_time``."""
    price = VIDEO.get(model.name)
    if price is None:
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


def run_cost(table: dict[str, RunPrice], model: str, *, predict_time: float | None = None, audio: float = 0) -> float:
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
