"""Cost per minute of video for each video model in the registry, at its default settings, against the budget.

    uv run python -m bench.costs [--seconds 60]

Per model: the price of one clip at the length our ~5 s beat slots request, per minute of video, and a whole
remote job (Whisper + OpenAI planning/prompts + flux reference + clips) for a song of --seconds, from the same
estimator the budget guard uses. No call is made.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from core import budget, pricing
from core.budget import VideoChoice
from core.catalog import VIDEO_MODELS
from core.settings import ProviderChoice, Settings

REMOTE = ProviderChoice(transcription="replicate", planner="openai", reference="replicate", prompts="openai",
                        video="replicate")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=60.0, help="song length for the whole-job column")
    a = ap.parse_args()
    settings = Settings(providers=REMOTE)
    per_minute = settings.budget.per_minute
    table = Table(title=f"video models at default settings vs the ${per_minute:.2f}/min budget "
                        f"(prices checked {pricing.prices_checked()}: re-check)")  # fmt: skip
    for col in ("model", "input", "resolution", "lengths s", "billing", "clip USD", "USD / min video",
                f"job USD ({a.seconds:g} s song)", "job USD / min", "fits"):  # fmt: skip
        left = col in ("model", "input", "billing", "resolution")
        table.add_column(col, justify="left" if left else "right", no_wrap=col == "model")
    for name, model in VIDEO_MODELS.items():
        est = budget.estimate(a.seconds, settings, video=VideoChoice(model=name, resolution=model.default_resolution))
        clip_len = est.clip_seconds
        clip = pricing.video_cost(model, resolution=model.default_resolution, duration=clip_len)
        price = pricing.VIDEO[name]
        billing = {"second": "per second", "run": "per run", "gpu_second": "GPU-second (est.)"}[price.billing]
        lengths = ", ".join(f"{d:.2f}".rstrip("0").rstrip(".") for d in model.durations)
        if len(model.durations) > 4:
            lengths = f"{model.durations[0]:g}-{model.durations[-1]:g}"
        job_per_min = est.total / (a.seconds / 60)
        table.add_row(name, {"required": "image", "optional": "image or text", "none": "text"}[model.image],
                      model.default_resolution, lengths, billing, f"{clip:.3f}", f"{clip / clip_len * 60:.2f}",
                      f"{est.total:.2f}", f"{job_per_min:.2f}",
                      "yes" if job_per_min <= per_minute else "NO")  # fmt: skip
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
