"""Lyrics with timestamps and language from Whisper on Replicate.

Whisper invents text on instrumentals ("Thank you for watching", one line repeated for minutes). Segments
Whisper itself marks as probably-not-speech are dropped; if what is left is mostly one repeated line, the
transcript is discarded: empty lyrics, ``instrumental`` and ``fallback_used`` set, the reason in ``error``.
A failed prediction gives empty lyrics too (the audio task does the same for any ProviderError).
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from core import budget, pricing
from core.contracts import Lyrics, LyricSegment
from core.media import run_ffmpeg
from core.settings import get_settings
from providers.base import Transcriber
from providers.replicate_client import PROVIDER, PredictionFailed, data_uri, make_client, predict

NO_SPEECH_PROB, MIN_LOGPROB = 0.6, -1.0  # Whisper's own silence rule
_LANGS = {"english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "portuguese": "pt",
          "japanese": "ja", "korean": "ko", "chinese": "zh", "russian": "ru", "dutch": "nl"}  # fmt: skip


def _norm(text: str) -> str:
    return re.sub(r"[^\w']+", " ", text.lower()).strip()


def clean_transcript(output: dict[str, Any]) -> tuple[list[LyricSegment], str | None]:
    """Keep the segments that are speech; return (segments, reason they were all discarded or None)."""
    segments = [
        s for s in output.get("segments") or []
        if _norm(str(s.get("text", "")))
        and not (float(s.get("no_speech_prob", 0)) > NO_SPEECH_PROB and float(s.get("avg_logprob", 0)) < MIN_LOGPROB)
    ]  # fmt: skip
    if not segments:
        return [], None
    lines = Counter(_norm(str(s["text"])) for s in segments)
    line, count = lines.most_common(1)[0]
    if len(segments) >= 3 and count / len(segments) >= 0.5:
        return [], f"hallucinated repetition discarded ({count} x {line[:40]!r})"
    return [
        LyricSegment(start=float(s["start"]), end=float(s["end"]), text=str(s["text"]).strip()) for s in segments
    ], None


class ReplicateWhisper(Transcriber):
    provider_id = PROVIDER
    concurrency_key = "replicate"

    def __init__(self) -> None:
        self.settings = get_settings().replicate
        self.model = self.settings.whisper_model

    def transcribe(self, audio: Path, *, duration: float) -> Lyrics:
        client = make_client(self.settings)
        with tempfile.TemporaryDirectory() as tmp:  # 16 kHz mono is all Whisper uses: ~240 KB a minute inline
            small = Path(tmp) / "speech.mp3"
            run_ffmpeg(["-i", str(audio), "-vn", "-ac", "1", "-ar", "16000", "-b:a", "32k", str(small)])
            payload = data_uri(small.read_bytes(), "audio/mpeg")
        data = {
            "audio": payload,
            "model": "large-v3",
            "transcription": "plain text",
            "language": "auto",
            "temperature": 0,
            "condition_on_previous_text": False,
        }  # fmt: skip  (less looping on music)
        price = pricing.TRANSCRIPTION.get(pricing.base_name(self.model))
        worst = pricing.run_cost(pricing.TRANSCRIPTION, self.model, audio=duration) * 3
        with budget.paid_call(worst, f"transcription ({pricing.base_name(self.model)})") as charge:
            try:
                done = predict(client, self.model, data, stage="audio", timeout=self.settings.timeout,
                               poll_interval=self.settings.poll_interval)  # fmt: skip
            except PredictionFailed as exc:
                charge.actual = price.price * exc.predict_time if price else 0.0
                return Lyrics(provider=self.provider_id, fallback_used=True, error=str(exc), cost=charge.actual)
            charge.actual = pricing.run_cost(pricing.TRANSCRIPTION, self.model, predict_time=done.predict_time)
        output = done.output if isinstance(done.output, dict) else {}
        segments, reason = clean_transcript(output)
        language = str(output.get("detected_language") or "") or None
        language = _LANGS.get(language.lower(), language) if language else None
        return Lyrics(
            text=" ".join(s.text for s in segments),
            segments=segments,
            language=language if segments else None,
            instrumental=not segments,
            provider=self.provider_id,
            fallback_used=reason is not None,
            error=reason,
            cost=round(charge.actual, 6),
        )
