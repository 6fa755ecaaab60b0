"""The offline scene planner (PRD module 4): a deterministic heuristic over the prompt and the music.

It builds from ``core.faithful.read_request`` (the subjects, places, things, actions, time of day, weather, mood and
style the prompt names; unknown nouns verbatim), describes them with ``providers.offline.vocab``, and takes the
audio features (energy per clip, tempo, sections, beat strength at each cut), and writes a complete
``VideoPlan``. Same inputs, same plan; different prompt or song, visibly different plan.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass

from core import lexicon as lx
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
from core.faithful import Reading, Term, read_request
from core.hashing import seed_of
from core.settings import get_settings
from core.timeline import TransitionKind
from providers.base import ScenePlanner
from providers.offline.vocab import (
    ANGLES,
    CAMERA_MOVES_CALM,
    CAMERA_MOVES_ENERGETIC,
    COLOUR_WORDS,
    IMPLIED_PLACES,
    NEUTRAL_PLACES,
    PLACES,
    SHOTS,
    STYLES,
    SUBJECTS,
)


@dataclass(frozen=True)
class _Music:
    energy: float
    tempo: float


def _article(phrase: str) -> str:
    if phrase.endswith("s") and not phrase.endswith("ss"):
        return phrase  # a plural: "rival violinists"
    return ("an " if phrase[:1] in "aeiou" else "a ") + phrase


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


def _mood(request: JobRequest, reading: Reading, energy: float, tempo: float) -> str:
    """The request's mood words win; the music decides only when the request names no mood."""
    if request.mood:
        return request.mood.strip()
    if reading.mood_words:
        return " and ".join(reading.mood_words[:2])
    if energy > 0.62 and tempo >= 115:
        return "euphoric and driving"
    if energy > 0.5:
        return "confident and upbeat"
    if energy > 0.32:
        return "warm and nostalgic"
    return "dreamy and melancholic"


def _visual_style(request: JobRequest, reading: Reading) -> str:
    if request.style:
        return request.style.strip()
    for w in reading.style_words:
        if w in STYLES:
            return STYLES[w]
    return "cinematic"


def _time_of_day(reading: Reading, seed: int) -> list[str]:
    """The prompt's times, in order; else one time implied by its words (sunny: midday; neon, stars: night)."""
    if reading.times:
        return list(reading.times)
    words = set(reading.words)
    if "sunny" in reading.weather:
        return ["midday"]
    if "sun" in words:
        return ["dusk"]  # a low sun on the horizon
    if words & {"neon", "stars", "moon", "club", "nightclub", "cyberpunk", "synthwave", "firework", "noir"}:
        return ["night"]
    return [("dusk", "midday", "night", "dawn")[seed % 4]]


def _lighting(reading: Reading, style: str, time: str, energy: float) -> str:
    """From the prompt's time, weather, style and mood; the music's energy only where the mood leaves room."""
    words, mood = set(reading.words) | set(lx.tokens(style)), reading.mood
    group = lx.time_group(time)
    if "noir" in words:
        return "hard low-key light with venetian-blind shadows"
    if mood == "calm":
        base = {"night": "soft moonlight", "dusk": "soft warm evening light", "dawn": "pale early-morning light"}
        return base.get(group or "", "soft diffused light")
    if group == "night" and words & {"neon", "cyberpunk", "synthwave", "club", "city"}:
        light = "neon glow with deep shadows"
    elif group == "night":
        light = "moonlight and pools of lamplight"
    elif group == "dusk":
        light = "warm golden-hour backlight"
    elif group == "dawn":
        light = "pale early-morning light"
    elif "sunny" in reading.weather:
        light = "bright sunshine with crisp shadows"
    elif mood == "tense":
        light = "hard low-key light with rim highlights"
    else:
        light = "high-contrast stage lighting" if energy > 0.55 and mood != "melancholic" else "soft diffused light"
    if "rain" in reading.weather or "storm" in reading.weather:
        light += ", wet reflections"
    if "fog" in reading.weather:
        light += ", hazy through the fog"
    return light


def _read(request: JobRequest, audio: AudioAnalysis) -> tuple[Reading, _Music]:
    reading = read_request(request)
    return reading, _Music(energy=audio.energy, tempo=audio.tempo)


def _described(term: Term, table: dict[str, str]) -> str:
    """The prompt's own phrase when it says more than the bare word ("old woman"), else the vocabulary's."""
    if term.phrase != term.word or term.word not in table:
        return _article(term.phrase)
    return table[term.word]


def _characters(reading: Reading, palette: list[str], style: str) -> list[Character]:
    found = reading.of("subject")[:5]
    if not found:
        if reading.terms or reading.no_people:
            return []  # the places and things carry the video; nothing invented in their place
        return [
            Character(
                name="protagonist",
                description="a lone figure seen mostly in silhouette",
                attributes={"outfit": f"dark clothes catching {palette[3]} light", "style": style},
            )
        ]
    chars = []
    for i, t in enumerate(found):
        attributes = {"accent_colour": palette[(i + 1) % len(palette)], "style": style}
        if t.action:
            attributes["action"] = t.action
        chars.append(Character(name=t.word, description=_described(t, SUBJECTS), attributes=attributes))
    return chars


_WEATHER_PHRASES = {
    "rain": "in the rain",
    "snow": "under falling snow",
    "fog": "in thick fog",
    "storm": "in a storm",
    "sunny": "in bright sunshine",
    "wind": "in a strong wind",
}


def _scenes(reading: Reading, audio: AudioAnalysis, seed: int) -> list[Scene]:
    """One scene per place the prompt names (else one implied by its subjects, else a neutral set); the music's
    sections add scenes only as other moments of the same places."""
    places = [_described(t, PLACES) for t in reading.of("place")][:8]
    if not places:
        implied = [IMPLIED_PLACES[t.word] for t in reading.of("subject") if t.word in IMPLIED_PLACES]
        if implied:
            places = [PLACES[implied[0]]]
        elif reading.terms:
            places = [NEUTRAL_PLACES[seed % len(NEUTRAL_PLACES)]]
    n_labels = max(1, len({s.label for s in audio.sections}) if audio.sections else 1)
    n = max(len(places), min(4, n_labels))
    fallback = NEUTRAL_PLACES
    times = _time_of_day(reading, seed)
    weather = [_WEATHER_PHRASES[w] for w in reading.weather if w not in " ".join(places)]
    scenes = []
    for i in range(n):
        env = places[i % len(places)] if places else fallback[(seed + i) % len(fallback)]
        if weather:
            env = f"{env}, {' and '.join(weather)}"
        scenes.append(
            Scene(
                id=f"s{i + 1}",
                name=env.split(" with ")[0].split(",")[0],
                environment=env,
                time_of_day=times[i % len(times)],
                palette_shift=i,
            )
        )
    return scenes


def _objects(reading: Reading, palette: list[str]) -> list[SceneObject]:
    found = [t.phrase for t in reading.of("object")][:6]
    return [SceneObject(name=o, attributes={"colour": palette[2 + i % 3]}) for i, o in enumerate(found)]


def _scene_index(audio: AudioAnalysis, b: Boundary, n_clips: int, n_scenes: int) -> int:
    """Clips in the same musical section share a scene; equal section labels map to the same scene. When the
    prompt names more places than the song has kinds of section, the places follow each other in blocks."""
    labels = {s.label for s in audio.sections} or {0}
    if n_scenes > len(labels):
        return min(n_scenes - 1, b.index * n_scenes // n_clips)
    mid = (b.start + b.end) / 2
    label = next((s.label for s in audio.sections if s.start <= mid < s.end), b.index // 3)
    return label % n_scenes


def _lyrics_for(audio: AudioAnalysis, b: Boundary) -> str:
    """The lyric lines sung during the clip, " / " between lines."""
    parts = [s.text.strip() for s in audio.lyrics.segments if s.end > b.start and s.start < b.end]
    return " / ".join(p for p in parts if p)


#: what a lyric word may add to its clip's picture (the prompt's own lexicons)
_MOTIF_WORDS = lx.OBJECT_WORDS | lx.PLACE_WORDS | lx.ANIMALS | lx.WEATHER


def lyric_motif(lyrics: str, description: str) -> str | None:
    """The first sung word that names something drawable and is not in the picture yet."""
    present = {lx.canon(t) for t in lx.tokens(description)}
    for token in lx.tokens(lyrics):
        word = lx.canon(token)
        if word in _MOTIF_WORDS and word not in present:
            return word
    return None


def _motion(mood: str | None, level: float, tempo: float) -> tuple[str, float]:
    """Motion text and intensity: the mood sets the range, the music's level moves within it."""
    if mood == "energetic":
        text = f"fast, punchy movement hitting every beat at {tempo:.0f} BPM" if level > 0.5 else (
            "quick, driving movement with the beat")  # fmt: skip
        return text, 0.55 + 0.45 * level
    if mood == "calm":
        return ("slow, flowing movement" if level > 0.5 else "almost still, gentle drifting"), 0.05 + 0.45 * level
    if mood == "tense":
        return ("sharp, sudden movement" if level > 0.6 else "slow, creeping movement"), 0.2 + 0.7 * level
    if level > 0.65:
        text = f"fast, punchy movement hitting every beat at {tempo:.0f} BPM"
    elif level > 0.45:
        text = "steady rhythmic movement with the groove"
    elif level > 0.25:
        text = "slow, flowing movement"
    else:
        text = "almost still, gentle drifting"
    return text, 0.1 + level * 0.9


# Places one stands on rather than in ("on a rooftop", "on an old stone bridge").
_SURFACES = frozenset(
    ["rooftop", "roof", "bridge", "boardwalk", "pier", "stage", "deck", "road", "highway", "beach", "shore", "ice"]
)


def _preposition(environment: str) -> str:
    words = re.findall(r"[a-z]+", environment.lower())
    head = next((w for w in words if w in _SURFACES), None)
    # the first noun decides: "a rooftop above the skyline" is on; "a city with a bridge" is in
    return "on" if head is not None and words.index(head) <= 3 else "in"


def _at(time: str) -> str:
    return {"morning": "in the morning", "afternoon": "in the afternoon", "evening": "in the evening"}.get(
        time, f"at {time}"
    )


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


def _coverage(clips: list[ClipScript], reading: Reading) -> list[ClipScript]:
    """Every term the prompt names lands in some clip script: the missing ones join the shortest scripts."""
    out = list(clips)
    for t in reading.terms:
        if any(t.word in lx.keys(c.visual_description) or lx.key(t.word) in lx.keys(c.visual_description)
               for c in out):  # fmt: skip
            continue
        i = min(range(len(out)), key=lambda k: len(out[k].visual_description))
        out[i] = out[i].model_copy(update={"visual_description": f"{out[i].visual_description}, with {t.phrase}"})
    return out


def plan_video(request: JobRequest, audio: AudioAnalysis, *, crossfade: float = 0.5, fade: float = 0.5) -> VideoPlan:
    """Build a complete, validated plan faithful to the request (``core.faithful``); one clip script per boundary.

    The prompt decides what is shown (subjects, places, time of day, weather, actions, style, mood); the music
    decides pacing, camera and transitions, within the prompt's mood.
    """
    if len(audio.boundaries) < 2:
        raise PlanningError("audio analysis has fewer than 2 clip boundaries")
    reading, music = _read(request, audio)
    seed = seed_of(request.prompt, request.style or "", request.mood or "")
    palette = build_palette(list(reading.words), energy=music.energy, seed=seed)
    visual_style = _visual_style(request, reading)
    scenes = _scenes(reading, audio, seed)
    keywords = [t.word for t in reading.terms] + list(reading.weather) + list(reading.style_words)
    style = StyleInfo(
        palette=palette,
        visual_style=visual_style,
        mood=_mood(request, reading, music.energy, music.tempo),
        lighting=_lighting(reading, visual_style, scenes[0].time_of_day, music.energy),
        keywords=list(dict.fromkeys(w for w in keywords if len(w) > 2))[:8],
        avoid=(["people", "human figures"] if reading.no_people else [])
        + [w for w in reading.negated if w != "person"],
    )
    characters = _characters(reading, palette, style.visual_style)
    objects = _objects(reading, palette)
    carried = " ".join(c.attributes.get("action", "") for c in characters).split()
    loose_actions = [a for a in reading.actions if a not in carried]

    clips: list[ClipScript] = []
    n = len(audio.boundaries)
    energies = [audio.energy_between(b.start, b.end) for b in audio.boundaries]
    levels = relative_levels(energies)
    mood = reading.mood
    for b, energy, level in zip(audio.boundaries, energies, levels, strict=True):
        scene = scenes[_scene_index(audio, b, n, len(scenes))]
        lively = level > 0.5 if mood not in ("energetic", "calm") else mood == "energetic"
        moves = CAMERA_MOVES_ENERGETIC if lively else CAMERA_MOVES_CALM
        movement: CameraMovement = moves[(seed + b.index) % len(moves)]
        if b.index == 0:
            movement = "zoom_in"  # open by moving into the world
        elif b.index == n - 1:
            movement = "zoom_out"  # and leave it at the end
        who: list[str] = []
        if characters:
            who = [characters[(b.index + k) % len(characters)].name for k in range(1 + int(level > 0.6))]
            who = list(dict.fromkeys(who))
        doing = []
        for w in who:
            c = next(c for c in characters if c.name == w)
            act = c.attributes.get("action") or (loose_actions[0] if loose_actions else "")
            doing.append(f"{c.description} {act}".strip())
        prop = f", with {objects[b.index % len(objects)].name} in frame" if objects else ""
        place = (
            f"{' and '.join(doing)} {_preposition(scene.environment)} {scene.environment}"
            if doing
            else scene.environment
        )
        text, intensity = _motion(mood, level, music.tempo)
        own = [next(c for c in characters if c.name == w).attributes.get("action", "") for w in who]
        acts = list(dict.fromkeys(a.split()[0] for a in own if a))
        sung = _lyrics_for(audio, b)
        motif = lyric_motif(sung, f"{place} {prop}") if sung else None
        prop += f", {motif} from the lyrics" if motif else ""
        clips.append(
            ClipScript(
                index=b.index,
                scene_id=scene.id,
                characters=who,
                visual_description=f"{place} {_at(scene.time_of_day)}{prop}",
                motion=", ".join([*acts, *loose_actions[:1], text]) if acts or loose_actions else text,
                motion_intensity=round(min(1.0, max(0.0, intensity)), 3),
                camera=Camera(
                    shot=SHOTS[(seed + 2 * b.index) % len(SHOTS)],
                    movement=movement,
                    angle=ANGLES[(seed + b.index) % len(ANGLES)],
                ),
                lyrics_context=sung,
                energy=round(energy, 3),
            )
        )
    clips = _coverage(clips, reading)
    for k, a in enumerate(loose_actions):  # every action the prompt names moves some clip
        script = clips[k % len(clips)]
        if lx.key(a) not in lx.keys(f"{script.visual_description} {script.motion}"):
            clips[k % len(clips)] = script.model_copy(update={"motion": f"{a}, {script.motion}"})

    transitions = []
    for i, (prev, nxt) in enumerate(zip(clips, clips[1:], strict=False)):
        cut = audio.boundaries[nxt.index].start
        kind, duration = choose_transition(
            audio, cut, level_before=levels[i], level_after=levels[i + 1], crossfade=crossfade, fade=fade
        )
        transitions.append(Transition(from_index=prev.index, to_index=nxt.index, kind=kind, duration=duration))

    subjects = " and ".join(c.description for c in characters) or "the scenery"
    summary = (
        f"A {style.visual_style} music video, {style.mood}: {subjects} in "
        f"{', '.join(dict.fromkeys(s.name for s in scenes))}, cut to the {audio.tempo:.0f} BPM beat "
        f"across {len(clips)} shots."
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
