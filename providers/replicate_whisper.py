"""Lyrics with word timestamps and language from WhisperX (default) or Whisper on Replicate.

Two model families behind one seam. ``victor-upmeet/whisperx`` (and its ``-a40-large`` / ``-a100-80gb`` clones)
runs Whisper large-v3 behind a voice-activity filter and, with ``align_output``, re-times every word with a wav2vec2
aligner: each segment carries ``words: [{word, start, end, score}]``. ``openai/whisper`` gives segments only (no
words: supplied lyrics are then spread over its segments by ``core.lyrics``). Both answer ``{"segments": [{start,
end, text, ...}], "detected_language"}``, so :func:`_request` is the only per-family code and one parser reads both.

WhisperX cannot time a word with no letter its aligner knows (a numeral, a symbol): it comes back without start and
end. Such a word gets an even share of the gap between its timed neighbours in the segment, confidence 0: kept, so
captions still show it.

Whisper invents text on instrumentals ("Thank you for watching", one line repeated for minutes). Segments
Whisper itself marks as probably-not-speech are dropped (only ``openai/whisper`` reports the probabilities); if what
is left is mostly one repeated line, the transcript is discarded: empty lyrics, ``instrumental`` and
``fallback_used`` set, the reason in ``error``. A dropped segment's words go with it. A failed prediction gives
empty lyrics too (the audio task does the same for any ProviderError).
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from core import budget, pricing
from core.contracts import Lyrics, LyricSegment, LyricWord
from core.media import run_ffmpeg
from core.settings import get_settings
from providers.base import Transcriber
from providers.replicate_client import PROVIDER, PredictionFailed, data_uri, make_client, predict

NO_SPEECH_PROB, MIN_LOGPROB = 0.6, -1.0  # Whisper's own silence rule
_LANGS = {"english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "portuguese": "pt",
          "japanese": "ja", "korean": "ko", "chinese": "zh", "russian": "ru", "dutch": "nl"}  # fmt: skip


def _norm(text: str) -> str:
    return re.sub(r"[^\w']+", " ", text.lower()).strip()


def _request(model: str, audio: str) -> dict[str, Any]:
    """The input ``model``'s family takes (its Replicate schema)."""
    if "whisperx" in pricing.base_name(model):  # victor-upmeet/whisperx and its clones share one schema
        # no language: detected; an instrumental intro fools a guess from the first 30 s, so up to 3 parts are tried
        return {"audio_file": audio, "align_output": True, "temperature": 0,
                "language_detection_min_prob": 0.7, "language_detection_max_tries": 3}  # fmt: skip
    # condition_on_previous_text off: less looping on music
    return {"audio": audio, "model": "large-v3", "transcription": "plain text", "language": "auto", "temperature": 0,
            "condition_on_previous_text": False}  # fmt: skip


def _timed(word: dict[str, Any]) -> bool:
    return word.get("start") is not None and word.get("end") is not None


def _words(seg: dict[str, Any], start: float, end: float, line: int) -> list[LyricWord]:
    """The segment's words, clamped into it; an untimed one takes an even share of the gap up to the next timed."""
    raw = [w for w in seg.get("words") or [] if _norm(str(w.get("word", "")))]
    out: list[LyricWord] = []
    for i, w in enumerate(raw):
        if _timed(w):
            s = min(max(float(w["start"]), start), end)
            e, conf = min(max(float(w["end"]), s), end), min(1.0, max(0.0, float(w.get("score") or 0.0)))
        else:
            run = next((j for j in range(i, len(raw)) if _timed(raw[j])), len(raw)) - i  # untimed words from i
            s = out[-1].end if out else start
            hi = min(max(float(raw[i + run]["start"]), s), end) if i + run < len(raw) else end
            e, conf = s + (hi - s) / run, 0.0
        out.append(LyricWord(text=str(w["word"]).strip(), start=round(s, 3), end=round(e, 3),
                             confidence=round(conf, 3), line=line))  # fmt: skip
    return out


def clean_transcript(output: dict[str, Any]) -> tuple[list[LyricSegment], list[LyricWord], str | None]:
    """Keep the segments that are speech, and their words; return (segments, words, reason all were discarded)."""
    kept = [
        s for s in output.get("segments") or []
        if _norm(str(s.get("text", "")))
        and not (float(s.get("no_speech_prob", 0)) > NO_SPEECH_PROB and float(s.get("avg_logprob", 0)) < MIN_LOGPROB)
    ]  # fmt: skip
    if not kept:
        return [], [], None
    lines = Counter(_norm(str(s["text"])) for s in kept)
    line, count = lines.most_common(1)[0]
    if len(kept) >= 3 and count / len(kept) >= 0.5:
        return [], [], f"hallucinated repetition discarded ({count} x {line[:40]!r})"
    segments: list[LyricSegment] = []
    words: list[LyricWord] = []
    for s in sorted(kept, key=lambda s: float(s["start"])):
        start = float(s["start"])
        end = max(float(s["end"]), start)
        words.extend(_words(s, start, end, len(segments)))
        segments.append(LyricSegment(start=start, end=end, text=str(s["text"]).strip()))
    return segments, sorted(words, key=lambda w: w.start), None


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
        price = pricing.TRANSCRIPTION.get(pricing.base_name(self.model))
        worst = pricing.run_cost(pricing.TRANSCRIPTION, self.model, audio=duration) * 3
        with budget.paid_call(worst, f"transcription ({pricing.base_name(self.model)})") as charge:
            try:
                done = predict(client, self.model, _request(self.model, payload), stage="audio",
                               timeout=self.settings.timeout, poll_interval=self.settings.poll_interval)  # fmt: skip
            except PredictionFailed as exc:
                charge.actual = price.price * exc.predict_time if price else 0.0
                return Lyrics(provider=self.provider_id, fallback_used=True, error=str(exc), cost=charge.actual)
            charge.actual = pricing.run_cost(pricing.TRANSCRIPTION, self.model, predict_time=done.predict_time)
        output = done.output if isinstance(done.output, dict) else {}
        segments, words, reason = clean_transcript(output)
        language = str(output.get("detected_language") or "") or None
        language = _LANGS.get(language.lower(), language) if language else None
        # where a voice was heard at all, before the guard (as offline): core.lyrics spreads unmatched lyrics there
        voiced = [(float(s["start"]), float(s["end"])) for s in output.get("segments") or []
                  if s.get("words") and _norm(str(s.get("text", "")))]  # fmt: skip
        return Lyrics(
            text=" ".join(s.text for s in segments),
            segments=segments,
            words=words,
            voiced=voiced,
            confidence=round(sum(w.confidence for w in words) / len(words), 3) if words else 0.0,
            language=language if segments else None,
            instrumental=not segments,
            provider=self.provider_id,
            fallback_used=reason is not None,
            error=reason,
            cost=round(charge.actual, 6),
        )
