"""Replicate image (style reference) and video (clips) providers.

Video models come from ``core.catalog``: each clip asks for the model's closest supported length and the chosen
resolution, and passes the reference image only to models that take one. Image-to-video-only models get a
procedural first frame when the reference stage failed, so a missing reference never sinks every clip.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from PIL import Image, ImageOps

from core import budget, pricing
from core.catalog import VideoModel, video_model
from core.contracts import Character, ClipPrompt, ReferenceImage, StyleInfo, VideoPlan
from core.hashing import seed_of
from core.reference import cache_key
from core.settings import get_settings
from core.timeline import Slot, output_size
from core.uris import to_uri
from providers.base import GeneratedClip, ReferenceGenerator, VideoGenerator
from providers.offline.reference import paint_reference
from providers.replicate_client import (
    PROVIDER,
    PredictionFailed,
    download,
    first_url,
    image_data_uri,
    make_client,
    predict,
)

if TYPE_CHECKING:
    from core.compose import ConformTarget

#: time-billed calls may run longer than typical: reserve this multiple of the estimate against the hard cap
TIME_BILLED_HEADROOM = 3.0


class ReplicateImage(ReferenceGenerator):
    provider_id = PROVIDER
    concurrency_key = "replicate"
    size = (1344, 768)  # flux's 16:9

    def __init__(self) -> None:
        self.settings = get_settings().replicate
        self.model = self.settings.image_model

    def generate(self, plan: VideoPlan, *, description: str, out: Path) -> ReferenceImage:
        cost = self._paint(description, "16:9", f"reference image ({self.model})", out)
        with Image.open(out) as img:
            width, height = img.size
        return ReferenceImage(
            uri=to_uri(out),
            description=description,
            cache_key=cache_key(description, self.cache_identity()),
            palette=plan.style.palette,
            provider=self.provider_id,
            model=self.model,
            width=width,
            height=height,
            status="generated",
            cost=cost,
        )

    def generate_character(self, plan: VideoPlan, character: Character, *, description: str, out: Path) -> float:
        """One square character sheet from the image model (its description names the style and palette)."""
        return self._paint(description, "1:1", f"character reference {character.name} ({self.model})", out)

    def _paint(self, description: str, aspect: str, label: str, out: Path) -> float:
        """One image from the image model into ``out``, priced and charged to the job's budget; its cost."""
        client = make_client(self.settings)
        data = {"prompt": description, "aspect_ratio": aspect, "output_format": "png", "num_outputs": 1,
                "seed": seed_of(description) % 2**31}  # fmt: skip
        worst = pricing.run_cost(pricing.IMAGE, self.model) * TIME_BILLED_HEADROOM
        with budget.paid_call(worst, label) as charge:
            try:
                done = predict(client, self.model, data, stage="reference", timeout=self.settings.timeout,
                               poll_interval=self.settings.poll_interval)  # fmt: skip
            except PredictionFailed as exc:
                charge.actual = _failed_cost(pricing.IMAGE, self.model, exc)
                raise
            charge.actual = pricing.run_cost(pricing.IMAGE, self.model, predict_time=done.predict_time)
            download(first_url(done.output), out, stage="reference")
        return round(charge.actual, 6)


def _failed_cost(table: Mapping[str, pricing.RunPrice], model: str, exc: PredictionFailed) -> float:
    price = table.get(pricing.base_name(model))
    return price.price * exc.predict_time if price and price.billing == "gpu_second" else 0.0


class ReplicateVideo(VideoGenerator):
    provider_id = PROVIDER
    concurrency_key = "replicate"
    durations: ClassVar[tuple[float, ...]] = ()  # per model: see ``closest_duration``

    def __init__(self, model: str | None = None, resolution: str | None = None) -> None:
        self.settings = get_settings().replicate
        name = model or self.settings.video_model
        if name == budget.AUTO:  # the guard picks per job (``VideoChoice``); lengths before that: the default's
            name = type(self.settings).model_fields["video_model"].default
        self.spec: VideoModel = video_model(name)
        self.model = self.spec.name
        self.resolution = resolution or self.settings.video_resolution or self.spec.default_resolution
        if self.resolution not in self.spec.resolutions:
            self.resolution = self.spec.default_resolution

    def cache_identity(self) -> dict[str, Any]:
        return {**super().cache_identity(), "resolution": self.resolution}

    def offered_durations(self) -> tuple[float, ...]:
        return tuple(self.spec.durations)

    def closest_duration(self, target: float) -> float:
        return self.spec.closest_duration(target)

    def takes_references(self) -> bool:
        return self.spec.takes_references

    def generate(
        self, prompt: ClipPrompt, *, slot: Slot, reference: Path | None, out: Path, target: ConformTarget | None = None
    ) -> GeneratedClip:
        return self.generate_with_characters(prompt, slot=slot, reference=reference, characters=[], out=out)

    def generate_with_characters(
        self,
        prompt: ClipPrompt,
        *,
        slot: Slot,
        reference: Path | None,
        characters: list[Path],
        out: Path,
        target: ConformTarget | None = None,  # a hosted model returns its native clip: conformed by the composer
    ) -> GeneratedClip:
        """The clip, with its characters' reference images for models that take them (``reference_images``); the
        style reference stays the first frame (and is the only image when a character's reference is missing)."""
        client = make_client(self.settings)
        duration = self.closest_duration(slot.duration)
        image = None
        if self.spec.image != "none":
            image = _framed(reference, prompt.aspect) if reference is not None else None
            if image is None and self.spec.image == "required":
                image = _first_frame(prompt)
        data = self.spec.build_input(
            prompt=prompt.prompt,
            negative_prompt=prompt.negative_prompt,
            duration=duration,
            resolution=self.resolution,
            image=image,
            seed=prompt.seed % 2**31,
            aspect=prompt.aspect,
            references=[image_data_uri(p) for p in characters] if self.spec.takes_references else None,
        )
        worst = pricing.video_cost(self.spec, resolution=self.resolution, duration=duration)
        if pricing.video_billed_on_failure(self.model):
            worst *= TIME_BILLED_HEADROOM
        with budget.paid_call(worst, f"clip {prompt.index} ({self.model})") as charge:
            try:
                done = predict(client, self.model, data, stage="video", timeout=self.settings.timeout,
                               poll_interval=self.settings.poll_interval)  # fmt: skip
            except PredictionFailed as exc:
                if pricing.video_billed_on_failure(self.model):
                    charge.actual = pricing.video_cost(
                        self.spec, resolution=self.resolution, duration=duration, predict_time=exc.predict_time
                    )
                raise
            charge.actual = pricing.video_cost(
                self.spec, resolution=self.resolution, duration=duration, predict_time=done.predict_time
            )
            download(first_url(done.output), out, stage="video")
        return GeneratedClip(out, requested_duration=duration, cost=round(charge.actual, 6))


def _framed(image: Path, aspect: str) -> str:
    """The first frame cut to the clip's format (centre crop): image-to-video models take their shape from it."""
    if aspect == "16:9":
        return image_data_uri(image)
    w, h = output_size(aspect)
    with Image.open(image) as img, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frame.png"
        ImageOps.fit(img.convert("RGB"), (w // 2, h // 2)).save(path)
        return image_data_uri(path)


def _first_frame(prompt: ClipPrompt) -> str:
    """A procedural still in the clip's palette, for image-only models when there is no reference image."""
    palette = (prompt.palette * 3)[: max(5, len(prompt.palette))]  # the painter wants >= 4 colours
    style = StyleInfo(palette=palette, visual_style=prompt.visual_style, mood=prompt.mood,
                      lighting=prompt.lighting)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        w, h = output_size(prompt.aspect)
        path = paint_reference(style, Path(tmp) / "frame.png", seed=prompt.seed, size=(w * 8 // 15, h * 8 // 15))
        return image_data_uri(path)
