"""Session-wide loopback fakes of Replicate and OpenAI; each test gets them reset, and the env pointing at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.settings import get_settings
from devtools.fakes import FakeOpenAI, FakeReplicate, Faults, serve_openai, serve_replicate


@pytest.fixture(scope="session")
def replicate_server() -> Iterator[tuple[FakeReplicate, str]]:
    with serve_replicate(Faults(latency=0.2)) as served:
        yield served


@pytest.fixture(scope="session")
def openai_server() -> Iterator[tuple[FakeOpenAI, str]]:
    with serve_openai() as served:
        yield served


@pytest.fixture()
def fake_replicate(
    replicate_server: tuple[FakeReplicate, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeReplicate]:
    fake, url = replicate_server
    fake.faults, fake.whisper, fake.fail_next_video = Faults(latency=0.2), "lyrics", 0
    fake.reset()
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_fake")
    monkeypatch.setenv("VIDEOGEN_REPLICATE__BASE_URL", url)
    monkeypatch.setenv("VIDEOGEN_REPLICATE__POLL_INTERVAL", "0.05")
    get_settings.cache_clear()
    yield fake
    get_settings.cache_clear()


@pytest.fixture()
def fake_openai(openai_server: tuple[FakeOpenAI, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    fake, url = openai_server
    fake.faults = Faults()
    fake.reset()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    monkeypatch.setenv("VIDEOGEN_OPENAI__BASE_URL", url)
    get_settings.cache_clear()
    yield fake
    get_settings.cache_clear()
