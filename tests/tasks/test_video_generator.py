"""The clip task's retry policy: a clip that fails validation is a permanent failure (the same prompt and slot give
the same clip again; on a real vendor every retry is a paid call). Real task runs on a temporary server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from prefect.testing.utilities import prefect_test_harness

from core.compose import ConformTarget
from core.contracts import Camera, ClipPrompt
from core.errors import ProviderError
from core.timeline import Slot
from providers.base import GeneratedClip
from providers.offline.video import ProceduralVideo
from tasks import video_generator


@pytest.fixture(scope="module", autouse=True)
def prefect_backend() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=180):
        yield


class TooShort(ProceduralVideo):
    """Only makes 4 s clips, small and fast, and counts its calls: a 7 s slot gets a clip 3 s short."""

    provider_id = "too-short"
    durations: ClassVar[tuple[float, ...]] = (4.0,)
    width, height, fps = 320, 180, 12

    def __init__(self) -> None:
        self.calls = 0

    def generate(
        self, prompt: ClipPrompt, *, slot: Slot, reference: Path | None, out: Path, target: ConformTarget | None = None
    ) -> GeneratedClip:
        self.calls += 1
        return super().generate(prompt, slot=slot, reference=reference, out=out, target=target)


def test_duration_mismatch_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tried: a 7 s slot, a model that returns 4 s (outside the +-2 s tolerance), retries=3 -> one call and a
    permanent ProviderError naming the validation (before: TransientProviderError, four calls)."""
    gen = TooShort()
    monkeypatch.setattr(video_generator, "_generator", lambda video=None: gen)
    prompt = ClipPrompt(index=0, prompt=f"a lighthouse {uuid.uuid4()}", palette=["#112233", "#445566"],
                        visual_style="flat vector", mood="calm", lighting="dusk", camera=Camera(movement="static"),
                        motion="drift", motion_intensity=0.3, energy=0.4, scene_id="coast", seed=3)  # fmt: skip
    slot = Slot(index=0, start_frame=0, end_frame=210, start=0.0, end=7.0, duration=7.0)
    task = video_generator.generate_clip.with_options(retries=3, retry_delay_seconds=0, refresh_cache=True)
    with pytest.raises(ProviderError, match="failed validation") as err:
        task(job_id=f"mismatch-{uuid.uuid4()}", prompt=prompt, slot=slot, total=1)
    assert type(err.value) is ProviderError, "a validation failure must not be transient"
    assert gen.calls == 1
