"""The style reference's description and identity (PRD module 5), shared by every reference provider."""

from __future__ import annotations

import hashlib
import json

from core.contracts import StyleInfo


def describe(style: StyleInfo) -> str:
    """The PRD's description: visual_style + mood + lighting + colour descriptions."""
    return (
        f"{style.visual_style} style reference, {style.mood} mood, {style.lighting}, "
        f"colour palette {' '.join(style.palette)}"
    )


def cache_key(description: str, identity: dict[str, object]) -> str:
    blob = json.dumps({"description": description, **identity}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]
