"""The seams: one small abstract class per outside service.

Each provider has a ``provider_id`` and a ``model``; together with its parameters they enter the cache keys, so
switching provider or model never reuses another's output. Offline implementations live in
``providers/offline``; real API clients (OpenAI, Replicate) plug in through ``providers.registry``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from core.contracts import (
    AudioAnalysis,
    Character,
    ClipPrompt,
    ClipScript,
    JobRequest,
    Lyrics,
    ReferenceImage,
    VideoPlan,
)
from core.errors import ProviderError
from core.hashing import code_fingerprint
from core.stages import StageId
from core.timeline import Slot

if TYPE_CHECKING:
    from core.compose import ConformTarget


class Provider(ABC):
    provider_id: ClassVar[str]
    model: str = ""
    #: modules whose code shapes the output (offline providers): editing them invalidates cached results
    code_modules: ClassVar[tuple[str, ...]] = ()
    #: name of the Prefect global concurrency limit its calls hold a slot of (None: unlimited, e.g. offline)
    concurrency_key: ClassVar[str | None] = None
    #: the stage whose seam this is (``core.stages``: its provider_kind names the setting)
    stage: ClassVar[StageId]

    def cache_identity(self) -> dict[str, Any]:
        """What distinguishes this provider's outputs; part of every cache key."""
        identity: dict[str, Any] = {"provider": self.provider_id, "model": self.model}
        if self.code_modules:
            identity["code"] = code_fingerprint(*self.code_modules)
        return identity


class Transcriber(Provider):
    stage = "audio"

    @abstractmethod
    def transcribe(self, audio: Path, *, duration: float) -> Lyrics: ...


class ScenePlanner(Provider):
    stage = "plan"

    @abstractmethod
    def plan(self, request: JobRequest, audio: AudioAnalysis) -> VideoPlan: ...


class ReferenceGenerator(Provider):
    stage = "reference"

    @abstractmethod
    def generate(self, plan: VideoPlan, *, description: str, out: Path) -> ReferenceImage:
        """Write one style image to ``out`` (PNG) and describe it; raise ProviderError on failure."""

    def generate_character(self, plan: VideoPlan, character: Character, *, description: str, out: Path) -> float:
        """Write one character's reference image to ``out`` (PNG); return its cost in USD. ProviderError on failure
        (the character's clips then go with text and the style reference)."""
        raise ProviderError(f"{self.provider_id} paints no character references", provider=self.provider_id)


class PromptWriter(Provider):
    stage = "prompts"

    @abstractmethod
    def write(
        self, plan: VideoPlan, clip: ClipScript, *, reference: ReferenceImage, audio: AudioAnalysis
    ) -> ClipPrompt: ...


class GeneratedClip:
    """What a video model hands back: a local file and what the call cost."""

    def __init__(
        self,
        path: Path,
        *,
        requested_duration: float,
        cost: float = 0.0,
        assets: Sequence[str] = (),
        conformed: bool = False,
    ) -> None:
        self.path = path
        self.requested_duration = requested_duration
        self.cost = cost
        self.assets = list(assets)  # what the clip shows, where the model says (the offline renderer's asset ids)
        self.conformed = conformed  # rendered into its ConformTarget: the composer's pieces are already cached


class VideoGenerator(Provider):
    stage = "video"
    #: the clip lengths the model can produce, seconds
    durations: ClassVar[tuple[float, ...]]

    def offered_durations(self) -> tuple[float, ...]:
        """The clip lengths this instance (its model) makes; the audio stage fits its slots to them."""
        return tuple(self.durations)

    def closest_duration(self, target: float) -> float:
        """The supported duration nearest to ``target``; ties go to the longer (trimming beats looping)."""
        return min(self.durations, key=lambda d: (abs(d - target), -d))

    #: draws its own frames and can render them straight into a ``ConformTarget`` (see ``generate``)
    renders_conformed: ClassVar[bool] = False

    @abstractmethod
    def generate(
        self, prompt: ClipPrompt, *, slot: Slot, reference: Path | None, out: Path, target: ConformTarget | None = None
    ) -> GeneratedClip:
        """The clip of ``slot``, written to ``out``. A hosted model returns its native clip (its sizes, fps and
        lengths), which the composer conforms once; one that ``renders_conformed`` writes ``target``'s frames
        instead (``GeneratedClip.conformed``), so no frame is encoded twice."""

    def takes_references(self) -> bool:
        """Whether ``generate_with_characters`` sends the characters' images to the model."""
        return False

    def generate_with_characters(
        self,
        prompt: ClipPrompt,
        *,
        slot: Slot,
        reference: Path | None,
        characters: list[Path],
        out: Path,
        target: ConformTarget | None = None,
    ) -> GeneratedClip:
        """``generate`` plus the reference images of the characters the clip shows; models without a
        reference-images input ignore them (the catalogue says which take them)."""
        return self.generate(prompt, slot=slot, reference=reference, out=out, target=target)
