from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from core.contracts import ClipPrompt
from core.errors import CompositionError, ProviderError
from core.hashing import sha256_file
from core.settings import RenderSettings
from core.timeline import Slot, output_size
from providers.base import GeneratedClip, VideoGenerator
from providers.offline.assets import ASSET_DIR
from providers.offline.render import raw_clip, render_clip

if TYPE_CHECKING:
    from core.compose import ConformTarget


class ProceduralVideo(VideoGenerator):
    """Offline default video model: a procedural renderer with a real model's constraints.

    Asked for a clip alone it behaves like a hosted image-to-video model: a few fixed lengths at 720p24, which the
    composer trims or loops to the beat and conforms to 1080p30. Given its ``ConformTarget`` (as the video task
    does) it draws exactly the target's frames at the output size and fps into the conformed pieces: each output
    frame is encoded once, and nothing is trimmed or looped.
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
    renders_conformed = True
    width, height, fps = 1280, 720, 24

    def frame(self, aspect: str) -> tuple[int, int]:
        """The model's frame laid out for ``aspect`` (the scene is drawn for it, not cropped from 16:9)."""
        return output_size(aspect, RenderSettings(width=self.width, height=self.height))

    def cache_identity(self) -> dict[str, object]:
        icons = sha256_file(ASSET_DIR / "icons.json")[:16]
        return {**super().cache_identity(), "size": [self.width, self.height], "fps": self.fps, "icons": icons}

    def generate(
        self, prompt: ClipPrompt, *, slot: Slot, reference: Path | None, out: Path, target: ConformTarget | None = None
    ) -> GeneratedClip:
        try:
            if target is not None:
                return self._conformed(prompt, slot=slot, reference=reference, out=out, target=target)
            duration = self.closest_duration(slot.duration)
            width, height = self.frame(prompt.aspect)
            assets = render_clip(prompt, out, duration=duration, beats=slot.beats, reference=reference, width=width,
                                 height=height, fps=self.fps)  # fmt: skip
        except CompositionError as exc:
            raise ProviderError(str(exc), provider=self.provider_id, stage="video") from exc
        return GeneratedClip(out, requested_duration=duration, cost=0.0, assets=assets)

    def _conformed(
        self, prompt: ClipPrompt, *, slot: Slot, reference: Path | None, out: Path, target: ConformTarget
    ) -> GeneratedClip:
        """The target's frames, its lead (half the incoming window) before the slot: the beats move by it."""
        fps = target.render.fps
        beats = [b + target.lead for b in slot.beats]
        raw = raw_clip(prompt, frames=target.spec.frames, fps=fps, beats=beats, reference=reference)
        target.encode(raw.write, size=raw.size, pix_fmt=raw.pix_fmt, scale_flags=raw.scale_flags, out=out)
        return GeneratedClip(out, requested_duration=target.spec.frames / fps, assets=raw.assets, conformed=True)
