"""The style and character references' descriptions and identity (PRD module 5), shared by every reference provider."""

from __future__ import annotations

import hashlib
import json

from core.contracts import Character, ReferenceImage, StyleInfo, VideoPlan


def describe(style: StyleInfo) -> str:
    """The PRD's description: visual_style + mood + lighting + colour descriptions."""
    return (
        f"{style.visual_style} style reference, {style.mood} mood, {style.lighting}, "
        f"colour palette {' '.join(style.palette)}"
    )


def cache_key(description: str, identity: dict[str, object]) -> str:
    blob = json.dumps({"description": description, **identity}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


#: main characters that get a reference image each (the first ones the plan names)
MAX_CHARACTERS = 3


def describe_character(style: StyleInfo, character: Character) -> str:
    """A character sheet prompt: who, in the video's style, on a plain ground (what reference-image inputs want)."""
    traits = ", ".join(f"{k} {v}" for k, v in sorted(character.attributes.items()))
    return (
        f"character reference of {character.name}: {character.description}{f', {traits}' if traits else ''}; "
        f"full figure, centred, plain background, {style.visual_style} style, {style.lighting}, "
        f"colour palette {' '.join(style.palette)}"
    )


def main_characters(plan: VideoPlan) -> list[Character]:
    return plan.characters[:MAX_CHARACTERS]


def character_uris(reference: ReferenceImage, names: list[str]) -> dict[str, str]:
    """name -> reference image of the characters ``names`` that have one (a failed one is left out: text instead)."""
    by_name = {c.name: c.uri for c in reference.characters}
    return {name: uri for name in names if (uri := by_name.get(name))}
