from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from core.contracts import ClipPrompt
from core.errors import CompositionError, ProviderError
from core.hashing import sha256_file
from core.settings import RenderSettings
from core.timeline import Slot, output_size
from providers.base import GeneratedClip, VideoGenerator
from providers.offline.assets import ASSET_DIR
from providers.offline.render import render_clip


class ProceduralVideo(VideoGenerator):
    """Offline default video model: a procedural renderer with a real model's constraints.

    Like hosted image-to-video models it offers a few fixed lengths and returns 720p at 24 fps; the composer
    trims/loops to the beat and upscales to 1080p30.
    """

    provider_id = "offline"
    model = "procedural-v1"
    code_modules = (
        "providers.offline.render",
        "providers.offline.looks",
        "providers.offline.scene",
        "providers.offline.assets",
    )
    durations: ClassVar[tuple[float, ...]] = (4.0, 5.0, 10.0)
    width, height, fps = 1280, 720, 24

    def frame(self, aspect: str) -> tuple[int, int]:
        """The model's frame laid out for ``aspect`` (the scene is drawn for it, not cropped from 16:9)."""
        return output_size(aspect, RenderSettings(width=self.width, height=self.height))

    def cache_identity(self) -> dict[str, object]:
        icons = sha256_file(ASSET_DIR / "icons.json")[:16]
        return {**super().cache_identity(), "size": [self.width, self.height], "fps": self.fps, "icons": icons}

    def generate(self, prompt: ClipPrompt, *, slot: Slot, reference: Path | None, out: Path) -> GeneratedClip:
        duration = self.closest_duration(slot.duration)
        width, height = self.frame(prompt.aspect)
        try:
            assets = render_clip(
                prompt,
                out,
                duration=duration,
                beats=slot.beats,
                reference=reference,
                width=width,
                height=height,
                fps=self.fps,
            )
        except CompositionError as exc:
            raise ProviderError(str(exc), provider=self.provider_id, stage="video") from exc
        return GeneratedClip(out, requested_duration=duration, cost=0.0, assets=assets)
