"""The price table applied to what a fake recorded: what the calls actually made should have cost."""

from __future__ import annotations

from typing import Any

from core import pricing
from core.catalog import VIDEO_MODELS


def replicate_cost(calls: list[dict[str, Any]]) -> float:
    total = 0.0
    for c in calls:
        model, status, t = c["model"], c["status"], c["predict_time"]
        if model in VIDEO_MODELS:
            spec = VIDEO_MODELS[model]
            duration, resolution = spec.parse_input(c["input"])
            if status == "succeeded" or (status == "failed" and pricing.video_billed_on_failure(model)):
                total += pricing.video_cost(spec, resolution=resolution, duration=duration, predict_time=t)
        elif model in pricing.TRANSCRIPTION:
            if status in ("succeeded", "failed"):
                total += pricing.run_cost(pricing.TRANSCRIPTION, model, predict_time=t)
        elif status == "succeeded" or (status == "failed" and pricing.IMAGE[model].billing == "gpu_second"):
            total += pricing.run_cost(pricing.IMAGE, model, predict_time=t)
    return total


def openai_cost(calls: list[dict[str, Any]]) -> float:
    return sum(pricing.token_cost(c["model"], c["prompt_tokens"], c["completion_tokens"]) for c in calls)
