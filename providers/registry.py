"""Name -> implementation, imported lazily (fsspec's registry idea) so unused SDKs are never imported."""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

from core.errors import ConfigError
from core.settings import get_settings
from core.stages import stage
from providers.base import (
    PromptWriter,
    Provider,
    ReferenceGenerator,
    ScenePlanner,
    Transcriber,
    VideoGenerator,
)

#: provider kind (the stage registry's name for each seam) -> the base class its implementations subclass
_KINDS: dict[str, type[Provider]] = {
    str(stage(base.stage).provider_kind): base
    for base in (Transcriber, ScenePlanner, ReferenceGenerator, PromptWriter, VideoGenerator)
}

P = TypeVar("P", bound=Provider)

REGISTRY: dict[str, dict[str, str]] = {
    "transcription": {
        "offline": "providers.offline.transcription:WhisperTranscriber",
        "instrumental": "providers.offline.transcription:InstrumentalTranscriber",
        "replicate": "providers.replicate_whisper:ReplicateWhisper",
    },
    "planner": {
        "offline": "providers.offline.planner:HeuristicPlanner",
        "openai": "providers.openai_llm:OpenAIPlanner",
    },
    "reference": {
        "offline": "providers.offline.reference:ProceduralReference",
        "replicate": "providers.replicate_media:ReplicateImage",
    },
    "prompts": {
        "offline": "providers.offline.prompts:TemplatePromptWriter",
        "openai": "providers.openai_llm:OpenAIPromptWriter",
    },
    "video": {
        "offline": "providers.offline.video:ProceduralVideo",
        "replicate": "providers.replicate_media:ReplicateVideo",
    },
}


def vendor_kinds() -> dict[str, tuple[str, ...]]:
    """Vendor name -> the provider kinds it serves (``videogen estimate --providers replicate,openai``)."""
    kinds: dict[str, tuple[str, ...]] = {}
    for kind, names in REGISTRY.items():
        for name in names:
            kinds[name] = (*kinds.get(name, ()), kind)
    return kinds


def register(kind: str, name: str, target: str) -> None:
    """Add or replace an implementation (``"package.module:Class"``); used by plugins and tests."""
    if kind not in _KINDS:
        raise ConfigError(f"unknown provider kind {kind!r}")
    REGISTRY[kind][name] = target


def get_provider(kind: str, name: str, **kwargs: Any) -> Provider:
    """``name`` is a registered name, or a ``"package.module:Class"`` spec (a plugin selected from settings alone,
    so worker processes that never called :func:`register` resolve it too)."""
    try:
        target = name if ":" in name else REGISTRY[kind][name]
    except KeyError:
        choices = ", ".join(sorted(REGISTRY.get(kind, {})))
        raise ConfigError(
            f"unknown {kind} provider {name!r} (choose from: {choices})",
            variable=f"VIDEOGEN_PROVIDERS__{kind.upper()}",
        ) from None
    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except ImportError as exc:
        raise ConfigError(f"{kind} provider {name!r} needs a missing package: {exc.name}") from exc
    except AttributeError:
        raise ConfigError(f"{kind} provider {name!r}: {module_name} has no {attr!r}") from None
    provider = cls(**kwargs)
    if not isinstance(provider, _KINDS[kind]):
        raise ConfigError(f"{target} is not a {_KINDS[kind].__name__}")
    return provider


def provider_of(base: type[P], **kwargs: Any) -> P:
    """The implementation of ``base``'s seam that the settings select (``VIDEOGEN_PROVIDERS__<kind>``)."""
    kind = str(stage(base.stage).provider_kind)
    provider = get_provider(kind, getattr(get_settings().providers, kind), **kwargs)
    assert isinstance(provider, base)  # get_provider checked it against the kind's base class
    return provider
