"""A video provider with scripted failures, registered under the name ``flaky`` by the flow tests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from core.compose import ConformTarget
from core.contracts import Character, ClipPrompt, Lyrics, ReferenceImage, VideoPlan
from core.errors import ProviderError, TransientProviderError
from core.timeline import Slot
from providers.base import GeneratedClip
from providers.offline.reference import ProceduralReference
from providers.offline.transcription import InstrumentalTranscriber
from providers.offline.video import ProceduralVideo

CALLS: Counter[int] = Counter()
FAIL_ALWAYS: set[int] = set()  # permanent error (e.g. content policy): never retried
FAIL_ONCE: set[int] = set()  # transient error (e.g. a 503) on the first attempt only


class FlakyVideo(ProceduralVideo):
    provider_id = "flaky"

    def generate(
        self, prompt: ClipPrompt, *, slot: Slot, reference: Path | None, out: Path, target: ConformTarget | None = None
    ) -> GeneratedClip:
        CALLS[prompt.index] += 1
        if prompt.index in FAIL_ALWAYS:
            raise ProviderError("prompt rejected by the model", provider=self.provider_id, status=422)
        if prompt.index in FAIL_ONCE and CALLS[prompt.index] == 1:
            raise TransientProviderError("service unavailable", provider=self.provider_id, status=503)
        return super().generate(prompt, slot=slot, reference=reference, out=out, target=target)


def reset() -> None:
    CALLS.clear()
    FAIL_ALWAYS.clear()
    FAIL_ONCE.clear()


class BrokenReference(ProceduralReference):
    """Every image request fails (e.g. the image model is down): the job must go on text-only."""

    provider_id = "broken"

    def generate(self, plan: VideoPlan, *, description: str, out: Path) -> ReferenceImage:
        CALLS[-1] += 1
        raise TransientProviderError("image model unavailable", provider=self.provider_id, status=503)


class BrokenTranscriber(InstrumentalTranscriber):
    provider_id = "broken"

    def transcribe(self, audio: Path, *, duration: float) -> Lyrics:
        raise ProviderError("transcription service rejected the file", provider=self.provider_id, status=400)


class HalfCharacterReference(ProceduralReference):
    """The style image works; the first main character's image fails (e.g. refused by the image model)."""

    provider_id = "half-characters"

    def generate_character(self, plan: VideoPlan, character: Character, *, description: str, out: Path) -> float:
        if character.name == plan.characters[0].name:
            raise ProviderError("image refused for this description", provider=self.provider_id, status=422)
        return super().generate_character(plan, character, description=description, out=out)
