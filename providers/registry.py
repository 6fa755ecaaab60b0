"""Name -> implementation, imported lazily (fsspec's registry idea) so unused SDKs are never imported."""

from __future__ import annotations

import importlib
from typing import Any

from core.errors import ConfigError
from providers.base import (
    PromptWriter,
    Provider,
    ReferenceGenerator,
    ScenePlanner,
    Transcriber,
    VideoGenerator,
)

_KINDS: dict[str, type[Provider]] = {
    "transcription": Transcriber,
    "planner": ScenePlanner,
    "reference": ReferenceGenerator,
    "prompts": PromptWriter,
    "video": VideoGenerator,
}

REGISTRY: dict[str, dict[str, str]] = {
    "transcription": {
        "offline": "providers.offline.transcription:InstrumentalTranscriber",
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
