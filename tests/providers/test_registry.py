from __future__ import annotations

import pytest

from core.errors import ConfigError
from providers.base import VideoGenerator
from providers.offline.video import ProceduralVideo
from providers.registry import get_provider, register


def test_offline_defaults_resolve() -> None:
    for kind in ("transcription", "planner", "reference", "prompts", "video"):
        assert get_provider(kind, "offline").provider_id == "offline"


def test_unknown_provider_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="VIDEOGEN_PROVIDERS__VIDEO") as info:
        get_provider("video", "sora")
    assert "offline" in str(info.value)


def test_registering_a_non_provider_is_refused() -> None:
    register("video", "bogus", "collections:OrderedDict")
    with pytest.raises(ConfigError, match="not a VideoGenerator"):
        get_provider("video", "bogus")


def test_missing_package_gives_an_install_hint() -> None:
    register("video", "ghost", "no_such_sdk.client:Video")
    with pytest.raises(ConfigError, match="no_such_sdk"):
        get_provider("video", "ghost")


@pytest.mark.parametrize(("target", "expected"), [(3.0, 4.0), (4.6, 5.0), (7.0, 5.0), (7.5, 10.0), (12.0, 10.0)])
def test_closest_supported_duration(target: float, expected: float) -> None:
    video = get_provider("video", "offline")
    assert isinstance(video, VideoGenerator)
    assert isinstance(video, ProceduralVideo)
    assert video.closest_duration(target) == expected


def test_free_providers_are_exactly_the_offline_implementations() -> None:
    """Input: the registry. A provider name counts as free (no budget guard, no review default) exactly when
    every stage's implementation of it lives in providers.offline: the `instrumental` transcriber, used by the
    test suite, once made every offline render look paid."""
    from core.settings import FREE_PROVIDERS, ProviderChoice
    from providers.registry import REGISTRY

    offline = {name for impls in REGISTRY.values() for name, target in impls.items()
               if target.startswith("providers.offline.")}  # fmt: skip
    assert offline == FREE_PROVIDERS
    assert ProviderChoice(transcription="instrumental").paid() == {}
    assert ProviderChoice(video="replicate").paid() == {"video": "replicate"}
