"""The offline scene planner (PRD module 4): a deterministic heuristic over the prompt and the music.

It reads the words of the prompt/style/mood against small lexicons (colours, places, subjects, styles) and the
audio features (energy per clip, tempo, sections, beat strength at each cut), and writes a complete
``VideoPlan``. Same inputs, same plan; different prompt or song, visibly different plan.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass

from core.contracts import (
    AudioAnalysis,
    Boundary,
    Camera,
    CameraMovement,
    Character,
    ClipScript,
    JobRequest,
    Scene,
    SceneObject,
    StyleInfo,
    Transition,
    VideoPlan,
)
from core.errors import PlanningError
from core.hashing import seed_of
from core.settings import get_settings
from core.timeline import TransitionKind
from providers.base import ScenePlanner
from providers.offline.vocab import (
    ANGLES,
    CAMERA_MOVES_CALM,
    CAMERA_MOVES_ENERGETIC,
    COLOUR_WORDS,
    OBJECTS,
    PLACES,
    SHOTS,
    STYLES,
    SUBJECTS,
    words,
)


# Hue (0-1) and saturation/value hints for words people use in prompts.
@dataclass(frozen=True)
class _Reading:
    """What the heuristic took from the request, before it builds the plan."""

    tokens: list[str]
    energy: float
    tempo: float
    mood: str
    visual_style: str


def _hex(h: float, s: float, v: float) -> str:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def build_palette(tokens: list[str], *, energy: float, seed: int, n: int = 5) -> list[str]:
    """Five hex colours: hues from colour words in the prompt (else from its hash), saturation from energy."""
    hits = [COLOUR_WORDS[t] for t in tokens if t in COLOUR_WORDS]
    if not hits:
        hits = [((seed % 360) / 360.0, 0.65, 0.85)]
    base_h, base_s, base_v = hits[0]
    second = hits[1] if len(hits) > 1 else ((base_h + 0.5) % 1.0, base_s, base_v)
    s_boost = 0.15 * (energy - 0.5)
    palette = [
        _hex(base_h, base_s + s_boost, base_v * 0.35),  # deep shadow tone
        _hex(base_h, base_s + s_boost, base_v),
        _hex(base_h + 0.06, base_s * 0.8 + s_boost, min(1.0, base_v * 1.1)),
        _hex(second[0], second[1] + s_boost, second[2]),
        _hex(second[0] + 0.04, second[1] * 0.35, min(1.0, second[2] * 1.15)),  # highlight
    ]
    return palette[:n]


def _mood(request: JobRequest, energy: float, tempo: float) -> str:
    if request.mood:
        return request.mood.strip()
    if energy > 0.62 and tempo >= 115:
        return "euphoric and driving"
    if energy > 0.5:
        return "confident and upbeat"
    if energy > 0.32:
        return "warm and nostalgic"
    return "dreamy and melancholic"


def _visual_style(request: JobRequest, tokens: list[str]) -> str:
    if request.style:
        return request.style.strip()
    for t in tokens:
        if t in STYLES:
            return STYLES[t]
    return "cinematic"


def _lighting(tokens: list[str], energy: float) -> str:
    if any(t in tokens for t in ("neon", "cyberpunk", "club", "synthwave", "night")):
        return "neon glow with deep shadows"
    if any(t in tokens for t in ("sunset", "sunrise", "golden", "autumn", "desert")):
        return "warm golden-hour backlight"
    if any(t in tokens for t in ("noir", "storm", "rain")):
        return "hard low-key light with rim highlights"
    return "high-contrast stage lighting" if energy > 0.55 else "soft diffused light"


def _read(request: JobRequest, audio: AudioAnalysis) -> _Reading:
    tokens = words(" ".join(filter(None, [request.prompt, request.style or "", request.mood or ""])))
    return _Reading(
        tokens=tokens,
        energy=audio.energy,
        tempo=audio.tempo,
        mood=_mood(request, audio.energy, audio.tempo),
        visual_style=_visual_style(request, tokens),
    )


def _characters(tokens: list[str], palette: list[str], style: str) -> list[Character]:
    found = [t for t in dict.fromkeys(tokens) if t in SUBJECTS][:3]
    if not found:
        return [
            Character(
                name="protagonist",
                description="a lone figure seen mostly in silhouette",
                attributes={"outfit": f"dark clothes catching {palette[3]} light", "style": style},
            )
        ]
    return [
        Character(
            name=t,
            description=SUBJECTS[t],
            attributes={"accent_colour": palette[(i + 1) % len(palette)], "style": style},
        )
        for i, t in enumerate(found)
    ]


def _scenes(tokens: list[str], audio: AudioAnalysis, seed: int) -> list[Scene]:
    places = [PLACES[t] for t in dict.fromkeys(tokens) if t in PLACES]
    n_labels = max(1, len({s.label for s in audio.sections}) if audio.sections else 1)
    n = min(4, max(n_labels, len(places), 1))
    fallback = sorted(PLACES.values())
    times = ("night", "dusk", "dawn", "midday")
    scenes = []
    for i in range(n):
        env = places[i] if i < len(places) else fallback[(seed + 7 * i) % len(fallback)]
        scenes.append(
            Scene(
                id=f"s{i + 1}",
                name=env.split(" with ")[0].split(" under ")[0],
                environment=env,
                time_of_day=times[(seed + i) % len(times)],
                palette_shift=i,
            )
        )
    return scenes


def _objects(tokens: list[str], palette: list[str]) -> list[SceneObject]:
    text = " ".join(tokens)
    found = [o for o in OBJECTS if re.search(rf"\b{re.escape(o)}s?\b", text)][:4]
    return [SceneObject(name=o, attributes={"colour": palette[2 + i % 3]}) for i, o in enumerate(found)]


def _scene_for(audio: AudioAnalysis, b: Boundary, scenes: list[Scene]) -> Scene:
    """Clips in the same musical section share a scene; equal section labels map to the same scene."""
    mid = (b.start + b.end) / 2
    label = next((s.label for s in audio.sections if s.start <= mid < s.end), b.index // 3)
    return scenes[label % len(scenes)]


def _lyrics_for(audio: AudioAnalysis, b: Boundary) -> str:
    parts = [s.text.strip() for s in audio.lyrics.segments if s.end > b.start and s.start < b.end]
    return " ".join(p for p in parts if p)


def _motion_text(energy: float, tempo: float) -> str:
    if energy > 0.65:
        return f"fast, punchy movement hitting every beat at {tempo:.0f} BPM"
    if energy > 0.45:
        return "steady rhythmic movement with the groove"
    if energy > 0.25:
        return "slow, flowing movement"
    return "almost still, gentle drifting"


def _strength_at(audio: AudioAnalysis, t: float) -> float:
    """Onset strength (0-1) of the beat nearest to ``t``."""
    if not audio.beats or not audio.beat_strength:
        return 0.5
    i = min(range(len(audio.beats)), key=lambda k: abs(audio.beats[k] - t))
    return audio.beat_strength[i] if i < len(audio.beat_strength) else 0.5


def _is_section_change(audio: AudioAnalysis, t: float, *, tol: float = 0.75) -> bool:
    return any(abs(s.start - t) <= tol for s in audio.sections[1:])


def relative_levels(energies: list[float]) -> list[float]:
    """Per-clip intensity 0-1: half absolute loudness, half its rank among this song's clips.

    Mastered songs sit in a narrow loud band; ranking makes their calmer and busier stretches differ, and unlike
    min-max scaling one quiet outro does not squash every other clip to "loud".
    """
    n = len(energies)
    if n < 2:
        return list(energies)
    order = sorted(range(n), key=lambda i: energies[i])
    rank = [0.0] * n
    for r, i in enumerate(order):
        rank[i] = r / (n - 1)
    return [0.5 * e + 0.5 * q for e, q in zip(energies, rank, strict=True)]


def choose_transition(
    audio: AudioAnalysis, at: float, *, level_before: float, level_after: float, crossfade: float, fade: float
) -> tuple[TransitionKind, float]:
    """Cut on strong beats in driving parts; crossfade where it is calm; fade through black on a big drop."""
    if _is_section_change(audio, at) and level_after < level_before - 0.2:
        return "fade", fade
    level = (level_before + level_after) / 2
    if level >= 0.5 or (level >= 0.4 and _strength_at(audio, at) >= 0.85):
        return "cut", 0.0
    return "crossfade", crossfade


def plan_video(request: JobRequest, audio: AudioAnalysis, *, crossfade: float = 0.5, fade: float = 0.5) -> VideoPlan:
    """Build a complete, validated plan; one clip script per audio boundary."""
    if len(audio.boundaries) < 2:
        raise PlanningError("audio analysis has fewer than 2 clip boundaries")
    r = _read(request, audio)
    seed = seed_of(request.prompt, request.style or "", request.mood or "")
    palette = build_palette(r.tokens, energy=r.energy, seed=seed)
    style = StyleInfo(
        palette=palette,
        visual_style=r.visual_style,
        mood=r.mood,
        lighting=_lighting(r.tokens, r.energy),
        keywords=list(dict.fromkeys(t for t in r.tokens if len(t) > 3))[:8],
    )
    characters = _characters(r.tokens, palette, style.visual_style)
    scenes = _scenes(r.tokens, audio, seed)
    objects = _objects(r.tokens, palette)

    clips: list[ClipScript] = []
    n = len(audio.boundaries)
    energies = [audio.energy_between(b.start, b.end) for b in audio.boundaries]
    levels = relative_levels(energies)
    for b, energy, level in zip(audio.boundaries, energies, levels, strict=True):
        scene = _scene_for(audio, b, scenes)
        moves = CAMERA_MOVES_ENERGETIC if level > 0.5 else CAMERA_MOVES_CALM
        movement: CameraMovement = moves[(seed + b.index) % len(moves)]
        if b.index == 0:
            movement = "zoom_in"  # open by moving into the world
        elif b.index == n - 1:
            movement = "zoom_out"  # and leave it at the end
        who = [characters[(b.index + k) % len(characters)].name for k in range(1 + int(level > 0.6))]
        who = list(dict.fromkeys(who))
        subject = " and ".join(next(c.description for c in characters if c.name == w) for w in who)
        lyric = _lyrics_for(audio, b)
        prop = f", with {objects[b.index % len(objects)].name} in frame" if objects else ""
        clips.append(
            ClipScript(
                index=b.index,
                scene_id=scene.id,
                characters=who,
                visual_description=f"{subject} in {scene.environment} at {scene.time_of_day}{prop}",
                motion=_motion_text(level, r.tempo),
                motion_intensity=round(min(1.0, 0.1 + level * 0.9), 3),
                camera=Camera(
                    shot=SHOTS[(seed + 2 * b.index) % len(SHOTS)],
                    movement=movement,
                    angle=ANGLES[(seed + b.index) % len(ANGLES)],
                ),
                lyrics_context=lyric,
                energy=round(energy, 3),
            )
        )

    transitions = []
    for i, (prev, nxt) in enumerate(zip(clips, clips[1:], strict=False)):
        cut = audio.boundaries[nxt.index].start
        kind, duration = choose_transition(
            audio, cut, level_before=levels[i], level_after=levels[i + 1], crossfade=crossfade, fade=fade
        )
        transitions.append(Transition(from_index=prev.index, to_index=nxt.index, kind=kind, duration=duration))

    subjects = " and ".join(c.description for c in characters)
    summary = (
        f"A {style.visual_style} music video, {style.mood}: {subjects} moving through "
        f"{', '.join(s.name for s in scenes)}, cut to the {audio.tempo:.0f} BPM beat "
        f"across {len(clips)} shots. Prompt: {request.prompt.strip()}"
    )
    last = audio.boundaries[-1]
    plan = VideoPlan(
        summary=summary,
        characters=characters,
        scenes=scenes,
        objects=objects,
        style=style,
        clips=clips,
        transitions=transitions,
        fade_in=0.5 if audio.energy_between(0, 2) < 0.35 else 0.0,
        fade_out=round(min(2.0, last.duration / 2), 3),
        planner="offline",
    )
    try:
        plan.check_against(audio.boundaries)
    except ValueError as exc:  # pragma: no cover - construction above follows the boundaries
        raise PlanningError(str(exc)) from exc
    return plan


class HeuristicPlanner(ScenePlanner):
    provider_id = "offline"
    model = "heuristic-v1"
    code_modules = ("providers.offline.planner", "providers.offline.vocab")

    def plan(self, request: JobRequest, audio: AudioAnalysis) -> VideoPlan:
        render = get_settings().render
        return plan_video(request, audio, crossfade=render.crossfade, fade=render.fade)
