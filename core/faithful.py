"""Is a plan faithful to its request? One reading of the request and one set of rules, used by every planner.

``read_request`` takes from the prompt (and the style and mood fields) what a plan must keep: the subjects, places
and things it names (known words by class, unknown nouns verbatim), the actions, the times of day, the weather,
the mood class, the style words, and what it rules out ("no people"). ``check_faithful`` lists the plan's
violations of ``RULES`` (an empty list means faithful). The offline planner builds from the reading; the OpenAI
planner states the rules in its system prompt and sends the violations back in its repair turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from core import lexicon as lx
from core.contracts import JobRequest, VideoPlan

TermKind = Literal["subject", "place", "object"]

RULES = """Faithfulness rules (the plan is checked against them):
1. Every subject, place and thing the prompt names appears in the plan under its own name (characters for \
subjects, scenes for places, objects or characters for things), and in the clip scripts, spread across the clips; \
every clip script shows at least one of them. Unknown words are kept as written, never replaced by a generic \
subject such as "a lone figure".
2. The actions the prompt names appear in the clip scripts (visual_description or motion).
3. Times of day: when the prompt names one (night, dawn, sunset...), every scene's time_of_day is one of those, \
and no script speaks of another time. Sunny weather is daytime.
4. Weather named in the prompt (rain, snow, fog, storm, sunny) appears in the scenes or scripts; no script shows \
contradicting weather.
5. Places: when the prompt names places, every scene is set in one of them; no script moves to somewhere the \
prompt does not name (no sky, clouds or deep space for a rooftop).
6. Mood: an energetic mood means fast motion (motion_intensity >= 0.5, never "slow"/"gentle"/"drifting"); a calm \
mood means slow motion (motion_intensity <= 0.6, never "fast"/"punchy") and soft lighting (never high-contrast or \
stage lighting); a tense mood is never cheerful. style.mood keeps the requested mood. The music's energy modulates \
pacing, camera and transitions within the mood, never against it, and never changes the subject.
7. Style: style.visual_style keeps the requested style words.
8. What the prompt rules out ("no people", "without cars") appears nowhere in the plan; put it in style.avoid."""


@dataclass(frozen=True)
class Term:
    """One noun the prompt names: its canonical head word, the phrase as written, its class and action."""

    word: str
    phrase: str
    kind: TermKind
    action: str = ""
    known: bool = True


@dataclass(frozen=True)
class Reading:
    terms: tuple[Term, ...] = ()
    actions: tuple[str, ...] = ()
    times: tuple[str, ...] = ()  # canonical words as the prompt names them: "night", "sunset"
    weather: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()  # classes: energetic, calm, tense, melancholic, joyful
    mood_words: tuple[str, ...] = ()
    style_words: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    negated: tuple[str, ...] = ()  # canonical words ruled out
    no_people: bool = False
    words: tuple[str, ...] = field(default=())  # every canonical word of the request, for palettes and keywords

    def of(self, kind: TermKind) -> list[Term]:
        return [t for t in self.terms if t.kind == kind]

    @property
    def time_groups(self) -> set[str]:
        return {g for t in self.times if (g := lx.time_group(t))}

    @property
    def mood(self) -> str | None:
        return self.moods[0] if self.moods else None


_SUBJECT_KEYS = {lx.key(w) for w in lx.SUBJECT_WORDS}
_PEOPLE_KEYS = {lx.key(w) for w in lx.PEOPLE} | {lx.key("silhouette")}
_PLACE_KEYS = {lx.key(w) for w in lx.PLACE_WORDS}
_OBJECT_KEYS = {lx.key(w) for w in lx.OBJECT_WORDS}
_KNOWN_KEYS = _SUBJECT_KEYS | _PLACE_KEYS | _OBJECT_KEYS
_NOT_NOUNS = {lx.key(w) for w in lx.FILLER | lx.STYLE_WORDS | lx.COLOUR_NAMES | set(lx.MOODS) | set(lx.TIME_GROUPS)}
_NOT_NOUNS |= {lx.key(w) for w in lx.WEATHER} | {lx.key(w) for w in lx.NEGATORS}
_GRAMMAR_TEXT = (
    "a an the of de la le les el los las un una une des du der die das ein eine my your our their his her its "
    "some this that where while when then which who finally"
)
_GRAMMAR = frozenset(_GRAMMAR_TEXT.split())
_PEOPLE_WORDS = ("people", "person", "persons", "humans", "human", "gente", "personas", "menschen", "personnes",
                 "gens", "figures", "faces", "crowd", "crowds", "one", "humanity", "characters")  # fmt: skip
_NEG = re.compile(
    r"\b(?:" + "|".join(re.escape(n) for n in lx.NEGATORS) + r")\s+(?:(?:any|more|the|a|an|at|in|de|des)\s+)?"
    r"([^\W_]+(?:-[^\W_]+)*)"
)


def _negations(text: str) -> tuple[list[str], bool, str]:
    """Negated words, whether people are ruled out, and the text with the negated phrases removed."""
    negated: list[str] = []
    no_people = bool(re.search(r"\b(nobody|no-one|no one|unpeopled|deserted|人なし|無人)\b", text))
    for m in _NEG.finditer(text):
        word = m.group(1)
        if word in _PEOPLE_WORDS or lx.canon(word) in {"person", "man", "woman"}:
            no_people = True
        negated.append(lx.canon(word))
    stripped = _NEG.sub(" , ", text)
    return negated, no_people, stripped


def _classify(word: str, *, prep: str, first: bool, clause_has_place: bool) -> tuple[TermKind, bool]:
    k = lx.key(word)
    if k in _SUBJECT_KEYS:
        return "subject", True
    if k in _PLACE_KEYS:
        return "place", True
    if k in _OBJECT_KEYS:
        return ("subject" if first and not prep else "object"), True
    if prep in lx.LOCATIVE and not clause_has_place:
        return "place", False
    if first and not prep:
        return "subject", False
    return "object", False


def _article(phrase: str) -> str:
    return ("an " if phrase[:1] in "aeiou" else "a ") + phrase


def read_request(request: JobRequest) -> Reading:
    """What the plan must keep, read from the prompt, style and mood (see the module docstring)."""
    raw = lx.normalise(" ".join(filter(None, [request.prompt, request.style or "", request.mood or ""])))
    negated, no_people, text = _negations(raw)
    all_words = [lx.canon(t) for t in lx.tokens(text)]
    times = [w for w in all_words if w in lx.TIME_GROUPS]
    weather = [w for w in all_words if w in lx.WEATHER]
    mood_words = [w for w in all_words if w in lx.MOODS]
    styles = [w for w in all_words if w in lx.STYLE_WORDS]
    colours = [w for w in all_words if w in lx.COLOUR_NAMES]
    if request.style:
        styles += [lx.canon(t) for t in lx.tokens(request.style) if t not in lx.FILLER]

    terms: list[Term] = []
    actions: list[str] = []
    negated_keys = {lx.key(w) for w in negated}
    for clause in re.split(r"[,;.!?:/|()\[\]\n]+|\s+-\s+|\band\b|\by\b|\bet\b|\bund\b", lx.normalise(request.prompt)):
        _, _, clause = _negations(clause)
        words = lx.tokens(clause)
        segments: list[tuple[str, list[str]]] = [("", [])]
        for w in words:
            if w in lx.LOCATIVE or w in lx.TOWARD or w == "with":
                segments.append((w, []))
            else:
                segments[-1][1].append(w)
        clause_has_place = any(lx.key(w) in _PLACE_KEYS for w in words)
        first = True
        for prep, seg in segments:
            parts: list[list[str]] = [[]]
            verbs: list[str] = []
            for w in seg:
                if lx.is_verb(w):
                    verbs.append(w)
                    parts.append([])
                else:
                    parts[-1].append(w)
            for j, part in enumerate(parts):
                nouns = [w for w in part if lx.key(w) not in _NOT_NOUNS and not w.isdigit()]
                # every known noun is a term; of the unknown ones only the last (the phrase's head)
                heads = [w for w in nouns[:-1] if lx.key(w) in _KNOWN_KEYS] + nouns[-1:]
                start = 0
                for head in heads:
                    at = part.index(head, start)
                    mods, start = part[start : at + 1], at + 1
                    if lx.key(head) in negated_keys or any(t.word == lx.canon(head) for t in terms):
                        continue
                    phrase = " ".join(lx.canon(w) if w in lx.SYNONYMS else w for w in mods if w not in _GRAMMAR)
                    kind, known = _classify(
                        head, prep=prep if j == 0 else "with", first=first, clause_has_place=clause_has_place
                    )
                    action = " ".join(seg[seg.index(verbs[0]) :]) if j == 0 and verbs and head == heads[-1] else ""
                    terms.append(
                        Term(word=lx.canon(head), phrase=phrase or head, kind=kind, action=action, known=known)
                    )
            actions += verbs
            if seg:
                first = False
    classes = list(dict.fromkeys(lx.MOODS[w] for w in mood_words))
    return Reading(
        terms=tuple(terms),
        actions=tuple(dict.fromkeys(actions)),
        times=tuple(dict.fromkeys(times)),
        weather=tuple(dict.fromkeys(weather)),
        moods=tuple(classes),
        mood_words=tuple(dict.fromkeys(mood_words)),
        style_words=tuple(dict.fromkeys(styles)),
        colours=tuple(dict.fromkeys(colours)),
        negated=tuple(dict.fromkeys(negated)),
        no_people=no_people,
        words=tuple(w for w in all_words if lx.key(w) not in negated_keys),
    )


# --------------------------------------------------------------------------- the rules


def _has(text_keys: set[str], word: str) -> bool:
    """``word`` (possibly hyphenated or several words) is in the text: all its parts are."""
    parts = lx.tokens(word.replace("-", " ")) or [word]
    return lx.key(word) in text_keys or all(lx.key(p) in text_keys for p in parts)


def _strip_negations(text: str) -> str:
    return _NEG.sub(" ", lx.normalise(text))


def _time_words(text: str) -> set[str]:
    return {w for t in lx.tokens(text) if (w := lx.canon(t)) in lx.TIME_GROUPS}


def check_faithful(request: JobRequest, plan: VideoPlan, reading: Reading | None = None) -> list[str]:
    """The plan's violations of ``RULES`` for this request, one sentence each; empty when the plan is faithful."""
    r = reading or read_request(request)
    out: list[str] = []
    chars = " ".join(f"{c.name} {c.description}" for c in plan.characters)
    scenes = {s.id: f"{s.name} {s.environment}" for s in plan.scenes}
    objects = " ".join(o.name for o in plan.objects)
    clips = [_strip_negations(c.visual_description) for c in plan.clips]
    motions = [c.motion for c in plan.clips]
    k_chars, k_objects = lx.keys(_strip_negations(chars)), lx.keys(objects)
    k_scenes = {i: lx.keys(_strip_negations(t)) for i, t in scenes.items()}
    k_all_scenes = set().union(*k_scenes.values())
    k_env = {s.id: lx.keys(_strip_negations(s.environment)) for s in plan.scenes}
    k_clips = [lx.keys(c) for c in clips]
    k_all_clips = set().union(*k_clips)
    k_actions = k_all_clips | lx.keys(" ".join(motions))

    # 1. subjects, places, things: in their part of the plan and in the clip scripts
    for t in r.terms:
        if t.kind == "subject" and not (_has(k_chars, t.word) or _has(k_objects, t.word)):
            out.append(f"the subject '{t.phrase}' is not among the characters")
        elif t.kind == "place" and not _has(k_all_scenes, t.word):
            out.append(f"the place '{t.phrase}' is not a scene")
        elif t.kind == "object" and not (
            _has(k_objects, t.word) or _has(k_chars, t.word) or _has(k_all_scenes, t.word)
        ):
            out.append(f"'{t.phrase}' is not among the objects, characters or scenes")
        if not _has(k_all_clips, t.word):
            out.append(f"'{t.phrase}' appears in no clip script")
    if r.terms:
        for i, kc in enumerate(k_clips):
            if not any(_has(kc, t.word) for t in r.terms):
                out.append(f"clip {i} shows nothing the prompt names")
    if r.of("subject"):
        generic = [
            c.name for c in plan.characters if re.search(r"\b(protagonist|lone figure)\b", f"{c.name} {c.description}")
        ]
        if generic and not any(_has({lx.key("figure")}, t.word) for t in r.of("subject")):
            out.append(f"generic character {generic[0]!r} replaces the prompt's subjects")
    # 2. actions
    for a in r.actions:
        if lx.key(a) not in k_actions:
            out.append(f"the action '{a}' appears in no clip script")
    # 3. times of day
    allowed = r.time_groups
    if not allowed and "sunny" in r.weather:
        allowed = {"dawn", "day", "dusk"}
    if allowed:
        for s in plan.scenes:
            g = {lx.time_group(w) for w in _time_words(s.time_of_day)}
            if s.time_of_day.strip() and not g & allowed:
                out.append(f"scene {s.id} is at {s.time_of_day!r}, the prompt says {' / '.join(r.times) or 'sunny'}")
        for i, c in enumerate(clips):
            bad = sorted(w for w in _time_words(c) if lx.TIME_GROUPS[w] not in allowed)
            if bad:
                out.append(f"clip {i} speaks of {bad[0]!r}, the prompt says {' / '.join(r.times) or 'sunny'}")
        bad = sorted(w for w in _time_words(plan.style.lighting) if lx.TIME_GROUPS[w] not in allowed)
        if bad:
            out.append(f"the lighting speaks of {bad[0]!r}, the prompt says {' / '.join(r.times) or 'sunny'}")
    # 4. weather
    weather_text = k_all_scenes | k_all_clips | lx.keys(plan.style.lighting)
    for w in r.weather:
        if lx.key(w) not in weather_text:
            out.append(f"the weather '{w}' appears in no scene or clip script")
        for other in lx.WEATHER_CONFLICTS.get(w, frozenset()):
            if other not in r.weather and lx.key(other) in weather_text:
                out.append(f"the plan shows {other!r}, the prompt says {w!r}")
    # 5. places
    places = r.of("place")
    if places:
        ok = {lx.key(t.word) for t in places}
        for t in places:
            ok |= {lx.key(p) for p in lx.PLACE_PARTS.get(t.word, frozenset())}
        ok |= {lx.key(t.word) for t in r.terms}
        for s in plan.scenes:
            if not any(_has(k_env[s.id], t.word) for t in places):
                out.append(f"scene {s.id} ({s.environment!r}) is not set in {' / '.join(t.phrase for t in places)}")
            foreign = sorted((k_env[s.id] & _PLACE_KEYS) - ok)
            if foreign:
                out.append(f"scene {s.id} moves to {foreign[0]!r}, which the prompt does not name")
        for i, kc in enumerate(k_clips):
            foreign = sorted((kc & _PLACE_KEYS) - ok)
            if foreign:
                out.append(f"clip {i} moves to {foreign[0]!r}, which the prompt does not name")
    # 6. mood
    for mood in r.moods:
        for i, (script, m) in enumerate(zip(plan.clips, motions, strict=True)):
            bad = [w for w in lx.MOOD_CONFLICTS[mood] if re.search(rf"\b{re.escape(w)}", m.lower())]
            if bad:
                out.append(f"clip {i} motion {m!r} is {bad[0]!r}, the mood is {mood}")
            if mood == "energetic" and script.motion_intensity < 0.5:
                out.append(f"clip {i} motion_intensity {script.motion_intensity} is too low for an energetic mood")
            if mood == "calm" and script.motion_intensity > 0.6:
                out.append(f"clip {i} motion_intensity {script.motion_intensity} is too high for a calm mood")
        light = plan.style.lighting.lower()
        bad = [w for w in lx.MOOD_CONFLICTS[mood] if w in light]
        if bad:
            out.append(f"the lighting {plan.style.lighting!r} is {bad[0]!r}, the mood is {mood}")
        plan_moods = {lx.MOODS[w] for t in lx.tokens(plan.style.mood) if (w := lx.canon(t)) in lx.MOODS}
        if clash := plan_moods & lx.OPPOSITE_MOOD[mood] - set(r.moods):
            out.append(f"style.mood {plan.style.mood!r} is {sorted(clash)[0]}, the prompt's mood is {mood}")
    if request.mood:
        k_mood = lx.keys(plan.style.mood)
        missing = [t for t in lx.tokens(request.mood) if t not in lx.FILLER and lx.key(t) not in k_mood]
        if missing:
            out.append(f"style.mood {plan.style.mood!r} drops the requested mood {request.mood!r}")
    # 7. style
    k_style = lx.keys(plan.style.visual_style)
    for w in r.style_words:
        if not _has(k_style, w):
            out.append(f"style.visual_style {plan.style.visual_style!r} drops the style word '{w}'")
    # 8. what the prompt rules out
    k_everything = k_chars | k_objects | k_all_scenes | k_all_clips
    for w in r.negated:
        if lx.key(w) in k_everything and w not in _PEOPLE_WORDS and lx.canon(w) != "person":
            out.append(f"the plan shows '{w}', which the prompt rules out")
    if r.no_people:
        people = sorted((k_chars | k_all_clips) & _PEOPLE_KEYS)
        if people:
            out.append(f"the plan shows people ({people[0]!r}), the prompt rules them out")
    return list(dict.fromkeys(out))
