"""PRD module 5 as a Prefect task: one style image plus one image per main character, each cached by a hash of its
description (a character's image is reused by any plan that describes it the same way)."""

from __future__ import annotations

import re
from typing import Any, Literal

from prefect.context import TaskRunContext

from core.contracts import Character, CharacterReference, ReferenceImage, VideoPlan
from core.errors import PipelineError
from core.reference import describe, describe_character, main_characters
from core.settings import get_settings
from core.storage import JobKeys
from providers.base import ReferenceGenerator
from providers.registry import provider_of
from providers.storage import get_storage
from tasks.common import (
    cache_path,
    content_key,
    local_file,
    log,
    provider_call,
    report,
    run_cache_key,
    stage_task,
)


def _generator() -> ReferenceGenerator:
    return provider_of(ReferenceGenerator)


def reference_key(ctx: TaskRunContext | None, params: dict[str, Any]) -> str:
    plan: VideoPlan = params["plan"]
    characters = [describe_character(plan.style, c) for c in main_characters(plan)]
    return content_key("reference", describe(plan.style), characters, _generator().cache_identity())


@stage_task("reference", cache_key_fn=reference_key)
def generate_reference(job_id: str, plan: VideoPlan) -> ReferenceImage:
    report(job_id, "reference", "running", 10, "Painting the style reference")
    key = run_cache_key(lambda: reference_key(None, {"plan": plan}))
    generator = _generator()
    with provider_call(job_id, generator):
        image = generator.generate(plan, description=describe(plan.style), out=cache_path("reference", key, ".png"))
    if image.uri:  # the local painting -> the job's storage, where every worker can read it
        uri = get_storage().put_file(JobKeys(job_id).intermediate("reference.png"), local_file(image.uri),
                                     "intermediate")  # fmt: skip
        image = image.model_copy(update={"uri": uri})
    characters = [_character(job_id, generator, plan, c) for c in main_characters(plan)]
    image = image.model_copy(update={"characters": characters, "cost": image.cost + sum(c.cost for c in characters)})
    ok = sum(c.uri is not None for c in characters)
    who = f", {ok}/{len(characters)} character references" if characters else ""
    report(job_id, "reference", "completed", 100, f"Style reference ready ({image.provider}){who}", cost=image.cost)
    return image


def _character(job_id: str, generator: ReferenceGenerator, plan: VideoPlan, character: Character) -> CharacterReference:
    """One character's image, from the content cache when painted before; a failure is recorded, not raised: the
    clips showing that character go with text and the style reference."""
    description = describe_character(plan.style, character)
    key = content_key("character", description, generator.cache_identity())
    local = cache_path("characters", key, ".png")
    status: Literal["generated", "cached"] = "cached" if local.is_file() else "generated"
    cost = 0.0
    if status == "generated":
        try:
            with provider_call(job_id, generator):
                cost = generator.generate_character(plan, character, description=description, out=local)
        except PipelineError as exc:
            log.warning("character reference %s failed: %s", character.name, exc)
            return CharacterReference(name=character.name, uri=None, description=description, cache_key=key,
                                      status="failed", error=str(exc))  # fmt: skip
    name = f"characters/{_slug(character.name)}.png"
    uri = get_storage().put_file(JobKeys(job_id).intermediate(name), local, "intermediate")
    return CharacterReference(name=character.name, uri=uri, description=description, cache_key=key, status=status,
                              cost=cost)  # fmt: skip


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "character"


def no_reference(plan: VideoPlan, error: str) -> ReferenceImage:
    """PRD fallback: every retry failed, so the clips go text-only."""
    description = describe(plan.style)
    return ReferenceImage(
        uri=None,
        description=description,
        cache_key=content_key("reference", description),
        palette=plan.style.palette,
        provider=get_settings().providers.reference,
        status="failed",
        error=error,
    )
