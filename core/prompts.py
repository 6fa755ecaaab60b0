"""The offline prompt generator (PRD module 6): one video prompt per clip from the plan, as a template."""

from __future__ import annotations

from core.contracts import ClipPrompt, ClipScript, ReferenceImage, VideoPlan
from core.hashing import seed_of
from core.reference import character_uris
from core.timeline import Aspect

NEGATIVE = "text, watermark, logo, blurry, distorted faces, extra limbs, low quality, jpeg artifacts"
_CAMERA_WORDS = {
    "static": "locked-off camera",
    "zoom_in": "push-in",
    "zoom_out": "pull-back",
    "pan_left": "camera pans left",
    "pan_right": "camera pans right",
    "tilt_up": "camera tilts up",
    "tilt_down": "camera tilts down",
}


def _pace(intensity: float) -> str:
    """The camera's pace follows the script's motion intensity (which the plan's mood bounds)."""
    return "fast " if intensity >= 0.7 else "slow " if intensity <= 0.35 else ""


def _hint(kind: str, side: str) -> str:
    if kind == "cut":
        return f"hard cut {side}"
    if kind == "fade":
        return f"fade through black {side}"
    return f"soft dissolve {side}"


#: how each format is framed, said in every prompt (vertical and square keep the subject centred and close)
FRAMING: dict[str, str] = {
    "16:9": "Widescreen 16:9 frame.",
    "9:16": "Vertical 9:16 frame: subject centred, framed tall and close, head room at the top, nothing important "
    "near the left and right edges.",
    "1:1": "Square 1:1 frame: subject centred, balanced composition.",
}


def frame_for(prompt: ClipPrompt, aspect: Aspect) -> ClipPrompt:
    """The prompt for ``aspect``: the format's framing sentence added (whichever writer wrote it), and the
    aspect recorded for the video model (models with an aspect input get it; the offline renderer lays out for it).
    The plan stays format-free, so one storyboard renders in every format."""
    sentence = FRAMING[aspect]
    text = prompt.prompt if aspect == "16:9" or sentence in prompt.prompt else f"{prompt.prompt} {sentence}"
    return prompt.model_copy(update={"prompt": text, "aspect": aspect})


def with_references(prompt: ClipPrompt, clip: ClipScript, reference: ReferenceImage) -> ClipPrompt:
    """The clip's characters and the reference images of those that have one (this job's copies), so a video
    model that takes reference images gets them; the style reference stays ``reference_uri``."""
    names = list(clip.characters)
    return prompt.model_copy(update={"characters": names, "character_uris": character_uris(reference, names),
                                     "reference_uri": reference.uri if prompt.reference_uri else None})  # fmt: skip


def build_prompt(plan: VideoPlan, clip: ClipScript, *, reference: ReferenceImage) -> ClipPrompt:
    """Script + style + motion + camera + transition hints (the slot's length and beats are the Timeline's)."""
    scene = next(s for s in plan.scenes if s.id == clip.scene_id)
    # The scene rotates the shared palette so scenes differ while the video keeps one colour story.
    k = scene.palette_shift % len(plan.style.palette)
    palette = plan.style.palette[k:] + plan.style.palette[:k]
    t_in = plan.transitions[clip.index - 1].kind if clip.index > 0 else "cut"
    t_out = plan.transitions[clip.index].kind if clip.index < len(plan.transitions) else "cut"
    cam = clip.camera
    parts = [
        f"{clip.visual_description}.",
        f"{plan.style.visual_style}, {plan.style.mood}, {plan.style.lighting}.",
        f"Colour palette {', '.join(palette)}.",
        f"{cam.shot}, {cam.angle}, {_pace(clip.motion_intensity)}{_CAMERA_WORDS[cam.movement]}; {clip.motion}.",
    ]
    if clip.lyrics_context:
        parts.append(f'Evoking the lyric "{clip.lyrics_context}".')
    if plan.style.keywords:
        parts.append("Keywords: " + ", ".join(plan.style.keywords) + ".")
    parts.append(f"{_hint(t_in, 'in')}, {_hint(t_out, 'out')}.")
    if reference.uri:
        parts.append("Match the look of the style reference image.")
    return ClipPrompt(
        index=clip.index,
        prompt=" ".join(parts),
        negative_prompt=", ".join([NEGATIVE, *plan.style.avoid]),
        palette=palette,
        visual_style=plan.style.visual_style,
        mood=plan.style.mood,
        lighting=plan.style.lighting,
        camera=cam,
        motion=clip.motion,
        motion_intensity=clip.motion_intensity,
        energy=clip.energy,
        scene_id=clip.scene_id,
        transition_in=t_in,
        transition_out=t_out,
        reference_uri=reference.uri,
        seed=seed_of(plan.summary, str(clip.index), clip.visual_description),
    )
