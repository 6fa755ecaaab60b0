"""The audio task's one retry layer: Prefect retries a transient transcription failure; the last failure (or a
permanent one) gives an instrumental track instead of failing the job. Real task runs on a temporary server."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.contracts import Lyrics
from core.errors import ProviderError, TransientProviderError
from core.uris import to_uri
from devtools.synth import steady_song, write_wav
from providers.base import Transcriber
from tasks import audio_parser


@pytest.fixture(scope="module", autouse=True)
def prefect_backend(prefect_harness: None) -> None:
    """Real task runs on the session's temporary Prefect server."""


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> str:
    y, sr, _ = steady_song(120.0, 8.0)
    return to_uri(write_wav(tmp_path_factory.mktemp("song") / "song.wav", y, sr))


class Failing(Transcriber):
    """Raises ``error`` on its first ``failures`` calls, then transcribes."""

    provider_id = "failing"

    def __init__(self, failures: int, error: ProviderError) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def transcribe(self, audio: Path, *, duration: float) -> Lyrics:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return Lyrics(text="la la la", instrumental=False, provider=self.provider_id)


def _run(monkeypatch: pytest.MonkeyPatch, song: str, transcriber: Failing, *, retries: int = 2) -> Lyrics:
    monkeypatch.setattr(audio_parser, "_transcriber", lambda: transcriber)
    task = audio_parser.parse_audio.with_options(retries=retries, retry_delay_seconds=0, refresh_cache=True)
    return task(job_id="retry-test", audio_uri=song).lyrics


TRANSIENT = TransientProviderError("HTTP 503: busy", provider="failing", status=503)


def test_transient_failures_are_retried_by_prefect(monkeypatch: pytest.MonkeyPatch, song: str) -> None:
    """Tried: two 503s, then success, with retries=2 -> the third task run's lyrics, three calls in all."""
    fake = Failing(2, TRANSIENT)
    lyrics = _run(monkeypatch, song, fake)
    assert (lyrics.text, lyrics.fallback_used, fake.calls) == ("la la la", False, 3)


def test_last_transient_failure_degrades_to_instrumental(monkeypatch: pytest.MonkeyPatch, song: str) -> None:
    """Tried: 503 on every call, retries=2 -> three calls (not four: nothing retries beside Prefect), then an
    instrumental track carrying the error; the task itself completes."""
    fake = Failing(99, TRANSIENT)
    lyrics = _run(monkeypatch, song, fake)
    assert fake.calls == 3
    assert lyrics.fallback_used and lyrics.instrumental and lyrics.error and "503" in lyrics.error


def test_permanent_failure_is_not_retried(monkeypatch: pytest.MonkeyPatch, song: str) -> None:
    """Tried: a 400 (ProviderError, not transient) with retries=2 -> one call, instrumental."""
    fake = Failing(99, ProviderError("HTTP 400: bad audio", provider="failing", status=400))
    lyrics = _run(monkeypatch, song, fake)
    assert fake.calls == 1 and lyrics.fallback_used and "400" in (lyrics.error or "")


def test_outside_prefect_nothing_retries(monkeypatch: pytest.MonkeyPatch, song: str) -> None:
    """Tried: ``parse_audio.fn`` (no task run) with a 503 -> one call, instrumental, no sleep."""
    fake = Failing(99, TRANSIENT)
    monkeypatch.setattr(audio_parser, "_transcriber", lambda: fake)
    lyrics = audio_parser.parse_audio.fn(job_id="retry-test", audio_uri=song).lyrics
    assert fake.calls == 1 and lyrics.fallback_used
