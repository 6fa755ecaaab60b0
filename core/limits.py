"""What a request may ask for, from the settings (their one home): the API and the CLI check a request against it
before anything starts, and the web UI learns it from ``GET /api/limits``."""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, Field

from core.contracts import JobRequest
from core.settings import Settings
from core.timeline import ASPECTS

AUDIO_FORMATS = ("mp3", "wav", "ogg", "flac", "m4a")
#: the user's lyrics (plain text or LRC): a long song's lyrics are ~3 kB
MAX_LYRICS_BYTES = 20_000
#: C0 controls but tab and newlines, DEL, C1 controls: PostgreSQL refuses NUL in text, terminals obey the rest
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class Limits(BaseModel):
    max_prompt_chars: int
    max_style_chars: int
    max_mood_chars: int
    min_clip: float = Field(description="shortest clip (duration hint), seconds")
    max_clip: float = Field(description="longest clip (duration hint), seconds")
    min_duration: float = Field(description="shortest song, seconds")
    max_duration: float = Field(description="longest song, seconds")
    max_upload_mb: float
    audio_formats: list[str]
    aspects: list[str] = Field(description="output formats (core.timeline), the first is the default")
    max_lyrics_bytes: int = Field(MAX_LYRICS_BYTES, description="lyrics text (plain or LRC), UTF-8 bytes")
    max_variants: int = Field(description="variants one regeneration of a clip may ask for (director mode)")
    review_default: bool = Field(description="a paid provider is selected: new jobs default to reviewing first")


def limits_of(settings: Settings) -> Limits:
    a = settings.audio
    return Limits(max_prompt_chars=settings.api.max_prompt_chars, max_style_chars=settings.api.max_style_chars,
                  max_mood_chars=settings.api.max_mood_chars, min_clip=a.min_clip, max_clip=a.max_clip,
                  min_duration=a.shortest_song, max_duration=a.max_duration, max_upload_mb=settings.api.max_upload_mb,
                  audio_formats=list(AUDIO_FORMATS), aspects=list(ASPECTS),
                  max_variants=settings.max_variants,
                  review_default=bool(settings.providers.paid()))  # fmt: skip


def request_problems(request: JobRequest, settings: Settings) -> list[tuple[str, str]]:
    """(field, message) for every limit the request breaks; empty when it may run.

    Reads only the request's attributes, so a caller may pass an unvalidated ``JobRequest.model_construct(...)``
    to word its own refusals (the CLI does: ``--duration-hint -1`` gets the limit, not pydantic's ``gt=0``)."""
    lim = limits_of(settings)
    problems = []
    texts = {"prompt": (request.prompt, lim.max_prompt_chars), "style": (request.style, lim.max_style_chars),
             "mood": (request.mood, lim.max_mood_chars)}  # fmt: skip
    for field, (text, limit) in texts.items():
        if text is None:
            continue
        if CONTROL_CHARS.search(text):
            problems.append((field, f"the {field} contains control characters (such as NUL): remove them"))
        if len(text) > limit:
            problems.append((field, f"the {field} is {len(text)} characters; the limit is {limit}"))
        elif field == "prompt" and not text.strip():
            problems.append((field, "the prompt must not be empty"))
    hint = request.duration_hint
    if hint is not None and not (math.isfinite(hint) and lim.min_clip <= hint <= lim.max_clip):
        problems.append(("duration_hint", f"the clip length must be {lim.min_clip:g}-{lim.max_clip:g} s, not {hint:g}"))
    return problems
