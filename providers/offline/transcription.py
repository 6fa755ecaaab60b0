from __future__ import annotations

from pathlib import Path

from core.contracts import Lyrics
from providers.base import Transcriber


class InstrumentalTranscriber(Transcriber):
    """Offline default: no speech model here, so every song is treated as instrumental (flagged)."""

    provider_id = "offline"
    model = "instrumental"

    def transcribe(self, audio: Path, *, duration: float) -> Lyrics:
        return Lyrics(text="", segments=[], language=None, instrumental=True, provider=self.provider_id)
