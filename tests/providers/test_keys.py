"""One missing-key error (core.settings.require_key): the budget guard and both vendors' clients raise it."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from core.errors import ConfigError
from core.settings import OpenAISettings, ReplicateSettings, Settings, require_key

VENDOR_ENV = ("OPENAI_API_KEY", "VIDEOGEN_OPENAI__API_KEY", "REPLICATE_API_TOKEN", "VIDEOGEN_REPLICATE__API_TOKEN")


@pytest.fixture()
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VENDOR_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("vendor", "words"),
    [(OpenAISettings(), "the openai provider needs an API key"),
     (ReplicateSettings(), "the replicate provider needs an API token")],
)  # fmt: skip
def test_each_variable_named_really_sets_the_secret(
    vendor: OpenAISettings | ReplicateSettings, words: str, no_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried: each vendor with no secret -> ConfigError naming two variables; then each named variable alone in
    the environment -> the secret require_key returns (so the message can never name a variable that does nothing)."""
    with pytest.raises(ConfigError, match=f"^{words} \\(set ") as info:
        require_key(vendor)
    assert info.value.variable
    names = info.value.variable.split(" or ")
    assert len(names) == 2
    for name in names:
        monkeypatch.setenv(name, f"secret-from-{name}")
        settings = Settings()
        assert require_key(settings.openai if isinstance(vendor, OpenAISettings) else settings.replicate) == (
            f"secret-from-{name}"
        )
        monkeypatch.delenv(name)


def test_guard_asks_only_the_selected_vendors(no_keys: None) -> None:
    """Tried: all offline (nothing asked), openai planner without a key, replicate video without a token, and
    replicate with its token but openai prompts still keyless."""
    from tasks.guard import require_keys

    require_keys(Settings())
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        require_keys(Settings(providers={"planner": "openai"}))
    with pytest.raises(ConfigError, match="REPLICATE_API_TOKEN"):
        require_keys(Settings(providers={"video": "replicate"}))
    both = Settings(providers={"video": "replicate", "prompts": "openai"})
    both.replicate.api_token = SecretStr("r8_x")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        require_keys(both)
    both.openai.api_key = SecretStr("sk-x")
    require_keys(both)
