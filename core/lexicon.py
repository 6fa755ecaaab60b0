"""The words a request is read with: word classes (subjects, places, objects, times of day, weather, moods, styles),
synonyms (including a few Spanish, French, German, Japanese and emoji ones) and the one way to compare words.

Plain data and small functions, shared by the faithfulness rules (``core.faithful``) and the offline planner
(``providers.offline.planner``), whose descriptive phrases (``providers.offline.vocab``) are keyed by these words.

``key(word)`` is the comparison: lower case, synonym to canonical word, plural to singular, and a light stem
("racing" ~ "races" ~ "race"), so the plan may say "cats" where the prompt says "kitty".
"""

from __future__ import annotations

import re

# Multilingual and informal words -> the canonical English word the vocabularies use.
SYNONYMS: dict[str, str] = {
    # informal / variants
    "kitty": "cat",
    "kitten": "cat",
    "kitties": "cat",
    "puppy": "dog",
    "doggo": "dog",
    "pup": "dog",
    "moto": "motorbike",
    "motorcycle": "motorbike",
    "motorbikes": "motorbike",
    "motos": "motorbike",
    "bike": "bicycle",
    "automobile": "car",
    "auto": "car",
    "ballerina": "dancer",
    "lady": "woman",
    "guy": "man",
    "kid": "child",
    "kids": "child",
    "children": "child",
    "people": "person",
    "persons": "person",
    "humans": "person",
    "human": "person",
    "men": "man",
    "women": "woman",
    "watercolour": "watercolor",
    "nighttime": "night",
    "tonight": "night",
    "midnight": "night",
    "sundown": "sunset",
    "daybreak": "dawn",
    "noon": "midday",
    "daytime": "day",
    "rainy": "rain",
    "raining": "rain",
    "drizzle": "rain",
    "snowy": "snow",
    "snowing": "snow",
    "foggy": "fog",
    "mist": "fog",
    "misty": "fog",
    "stormy": "storm",
    "thunderstorm": "storm",
    "sunshine": "sunny",
    "sunlit": "sunny",
    "windy": "wind",
    "skyscrapers": "city",
    "downtown": "city",
    "metropolis": "city",
    "seaside": "beach",
    "shore": "beach",
    "woods": "forest",
    "sea": "ocean",
    "roof": "rooftop",
    "highway": "road",
    "freeway": "road",
    "violinist": "violinist",
    "fiddler": "violinist",
    "cop": "detective",
    "sleuth": "detective",
    "robots": "robot",
    "android": "robot",
    "boardwalks": "boardwalk",
    "pier": "boardwalk",
    "icecream": "ice-cream",
    # Spanish
    "noche": "night",
    "ciudad": "city",
    "lluvia": "rain",
    "playa": "beach",
    "mar": "ocean",
    "bosque": "forest",
    "gato": "cat",
    "perro": "dog",
    "bailarina": "dancer",
    "bailarín": "dancer",
    "luna": "moon",
    "sol": "sun",
    "nieve": "snow",
    "río": "river",
    "montaña": "mountain",
    "amanecer": "dawn",
    "atardecer": "sunset",
    "mujer": "woman",
    "hombre": "man",
    "calle": "street",
    "tranquilo": "calm",
    "tranquila": "calm",
    "gente": "person",
    "personas": "person",
    "niña": "girl",
    "niño": "boy",
    "barco": "boat",
    "puente": "bridge",
    "lento": "calm",
    "enérgico": "energetic",
    "estrellas": "stars",
    "desierto": "desert",
    "bailando": "dancing",
    # French
    "nuit": "night",
    "ville": "city",
    "pluie": "rain",
    "plage": "beach",
    "mer": "ocean",
    "forêt": "forest",
    "chat": "cat",
    "chien": "dog",
    "danseuse": "dancer",
    "danseur": "dancer",
    "lune": "moon",
    "soleil": "sun",
    "neige": "snow",
    "rivière": "river",
    "fleuve": "river",
    "montagne": "mountain",
    "aube": "dawn",
    "femme": "woman",
    "homme": "man",
    "rue": "street",
    "calme": "calm",
    "toit": "rooftop",
    "toits": "rooftop",
    "pont": "bridge",
    "bateau": "boat",
    "vélo": "bicycle",
    "brouillard": "fog",
    "orage": "storm",
    "personnes": "person",
    "gens": "person",
    "crépuscule": "dusk",
    "matin": "morning",
    "jardin": "garden",
    # German
    "nacht": "night",
    "stadt": "city",
    "regen": "rain",
    "strand": "beach",
    "meer": "ocean",
    "wald": "forest",
    "katze": "cat",
    "hund": "dog",
    "tänzerin": "dancer",
    "tänzer": "dancer",
    "mond": "moon",
    "sonne": "sun",
    "schnee": "snow",
    "fluss": "river",
    "berg": "mountain",
    "berge": "mountain",
    "morgengrauen": "dawn",
    "frau": "woman",
    "mann": "man",
    "straße": "street",
    "ruhig": "calm",
    "dach": "rooftop",
    "brücke": "bridge",
    "nebel": "fog",
    "gewitter": "storm",
    "menschen": "person",
    "abend": "evening",
    "morgen": "morning",
    "zug": "train",
    "wüste": "desert",
    "sterne": "stars",
    "energisch": "energetic",
}
# Scripts without spaces and emoji: substrings replaced by the canonical word before tokenising.
GLYPHS: dict[str, str] = {
    "夜": "night",
    "東京": "tokyo",
    "猫": "cat",
    "ねこ": "cat",
    "雨": "rain",
    "海": "ocean",
    "街": "city",
    "都市": "city",
    "桜": "cherry blossoms",
    "犬": "dog",
    "月": "moon",
    "雪": "snow",
    "山": "mountain",
    "川": "river",
    "森": "forest",
    "朝": "morning",
    "夕日": "sunset",
    "踊る": "dancing",
    "ダンサー": "dancer",
    "静か": "calm",
    "屋上": "rooftop",
    "侍": "samurai",
    "少女": "girl",
    "電車": "train",
    "星": "stars",
    "🌙": " moon night ",
    "🌃": " city night ",
    "🏙": " city ",
    "🐱": " cat ",
    "🐈": " cat ",
    "🐶": " dog ",
    "🌧": " rain ",
    "☔": " rain ",
    "🌊": " ocean ",
    "🔥": " fire ",
    "🚀": " rocket ",
    "☀": " sunny ",
    "❄": " snow ",
    "🌸": " cherry blossoms ",
    "💃": " dancer dancing ",
    "🏍": " motorbike ",
    "🌅": " sunset ",
    "⭐": " stars ",
    "✨": " sparkles ",
    "🎸": " guitar ",
    "🌲": " forest ",
    "🏖": " beach ",
    "🤖": " robot ",
}

# --------------------------------------------------------------------------- word classes (canonical words)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PEOPLE = _words(
    "person man woman girl boy child dancer singer band couple skater drummer king queen guitarist runner surfer "
    "astronaut detective violinist musician pianist rapper dj figure protagonist crowd knight samurai witch "
    "wizard soldier pilot sailor cowboy ninja princess prince bride groom lover lovers friend stranger rider "
    "racer biker driver boxer fighter student teacher grandmother grandfather mother father sister brother monk "
    "priest hero heroine villain thief spy actor clown mermaid vampire"
)
ANIMALS = _words(
    "cat dog fox wolf bird whale horse deer owl bear lion tiger rabbit fish jellyfish butterfly dragon unicorn "
    "elephant monkey shark dolphin snake frog duck swan crow raven eagle koala panda penguin octopus"
)
BEINGS = frozenset(["robot", "ghost", "alien", "android", "cyborg", "zombie", "monster", "angel", "demon", "puppet"])
SUBJECT_WORDS = PEOPLE | ANIMALS | BEINGS
PLACE_WORDS = _words(
    "city street beach ocean forest jungle desert space club rooftop mountain road garden underwater snowfield "
    "studio stage room bedroom train-carriage sky river castle lake valley field meadow park bridge boardwalk "
    "alley market station subway harbour harbor island cave temple church library kitchen diner bar cafe highway "
    "skyline village town tokyo paris london berlin countryside canyon volcano glacier arctic planet galaxy "
    "nebula cloud clouds spaceship warehouse factory school hallway stadium arena carnival fairground mall "
    "parking-lot swamp waterfall cliff hill hills prairie plain farm orchard greenhouse"
)
OBJECT_WORDS = _words(
    "car guitar umbrella lantern balloon mirror phone flower bicycle piano candle clock sign microphone kite boat "
    "train moon stars butterflies sun cart motorbike violin saxophone drum drums sword book letter rose ship bus "
    "truck skateboard surfboard rocket fire firework fireworks lamp streetlight window door chair table tree "
    "trees willow leaf leaves petals blossom blossoms crown mask hat coat dress camera radio record vinyl jukebox "
    "neon wave waves"
)
# Things a rooftop or a city may show without the prompt naming them: no contradiction.
PLACE_PARTS: dict[str, frozenset[str]] = {
    "city": frozenset({"street", "skyline", "alley", "rooftop", "road", "bridge", "station"}),
    "street": frozenset({"city", "alley", "road"}),
    "rooftop": frozenset({"skyline", "city"}),
    "river": frozenset({"valley", "bridge", "boat"}),
    "bridge": frozenset({"river", "city", "street"}),
    "beach": frozenset({"ocean", "boardwalk"}),
    "boardwalk": frozenset({"beach", "ocean"}),
    "ocean": frozenset({"beach", "underwater"}),
    "road": frozenset({"highway", "desert"}),
    "mountain": frozenset({"valley", "cliff"}),
    "space": frozenset({"galaxy", "nebula", "planet"}),
    "club": frozenset({"stage"}),
    "stage": frozenset({"club", "studio"}),
    "tokyo": frozenset({"city", "street", "skyline", "rooftop", "alley", "station"}),
    "paris": frozenset({"city", "street", "skyline", "rooftop", "bridge", "river"}),
    "london": frozenset({"city", "street", "skyline", "rooftop", "bridge", "river"}),
    "berlin": frozenset({"city", "street", "skyline", "rooftop"}),
}
# Times of day, each in its group; two words of one group never contradict each other.
TIME_GROUPS: dict[str, str] = {
    "night": "night",
    "evening": "night",
    "dawn": "dawn",
    "sunrise": "dawn",
    "morning": "dawn",
    "dusk": "dusk",
    "sunset": "dusk",
    "twilight": "dusk",
    "midday": "day",
    "day": "day",
    "afternoon": "day",
}
WEATHER = frozenset({"rain", "snow", "fog", "storm", "sunny", "wind"})
WEATHER_CONFLICTS: dict[str, frozenset[str]] = {
    "sunny": frozenset({"rain", "storm", "fog"}),
    "rain": frozenset({"sunny"}),
    "storm": frozenset({"sunny"}),
    "fog": frozenset({"sunny"}),
}
_MOOD_CLASSES = {
    "energetic": "energetic energy upbeat hype hyped intense frantic driving euphoric aggressive fast wild explosive "
    "party furious powerful pumping frenetic",
    "calm": "calm peaceful serene gentle quiet relaxed relaxing tranquil mellow meditative soothing slow lazy chill "
    "dreamy",
    "tense": "tense ominous suspense suspenseful anxious eerie menacing brooding sinister creepy",
    "melancholic": "sad melancholic melancholy lonely wistful somber sombre mournful",
    "joyful": "happy joyful cheerful playful fun whimsical",
}
MOODS: dict[str, str] = {w: mood for mood, text in _MOOD_CLASSES.items() for w in text.split()}
# Words in motion / lighting text that contradict a mood class.
MOOD_CONFLICTS: dict[str, tuple[str, ...]] = {
    "energetic": ("slow", "still", "gentle", "drift", "languid", "lazy", "flowing"),
    "calm": ("fast", "punchy", "frantic", "frenetic", "strobe", "high-contrast", "stage lighting", "explosive",
             "aggressive", "jerky"),
    "tense": ("cheerful", "playful", "bouncy", "sunny", "pastel"),
    "melancholic": ("euphoric", "cheerful", "party"),
    "joyful": ("ominous", "menacing", "sinister"),
}  # fmt: skip
OPPOSITE_MOOD: dict[str, frozenset[str]] = {
    "energetic": frozenset({"calm"}),
    "calm": frozenset({"energetic"}),
    "tense": frozenset({"joyful"}),
    "melancholic": frozenset({"joyful", "energetic"}),
    "joyful": frozenset({"tense", "melancholic"}),
}
STYLE_WORDS = _words(
    "anime watercolor cyberpunk synthwave noir retro vintage pixel cinematic documentary surreal minimal "
    "minimalist psychedelic claymation oil 3d comic vaporwave ghibli cartoon sketch pastel lofi lo-fi"
)
COLOUR_NAMES = _words(
    "red orange yellow green blue purple pink teal gold golden silver black white grey gray neon pastel violet "
    "crimson turquoise magenta"
)
# Words that are never what a plan must show: grammar, the request's own vocabulary, music genres, adjectives.
FILLER = _words(
    "a an the and or of in on at to with for from by into over under through about as is are be it its this that "
    "my your our their his her music video song clip some very de la le les el los las un una une des du et y en "
    "der die das ein eine und im am mit von zu del al con por para sur avec dans sous ist sind style art painting "
    "aesthetic render film look vibe vibes mood feel feeling shot scene scenes drum-and-bass dnb techno house "
    "jazz hip-hop rock pop edm trap beat beats bpm track big small giant huge tiny old young little beautiful "
    "lonely lone dark bright empty new glowing finally suddenly rival two three many lots lot few every all any "
    "something someone "
    "somewhere there here just only really so too also then while when where who what how like more most much "
    "please make create want i me we you they he she them us"
)
NEGATORS = ("no", "without", "not", "never", "sin", "sans", "ohne", "kein", "keine", "keinen", "pas de", "nor",
            "zero", "avoid")  # fmt: skip
LOCATIVE = _words(
    "in on at under over above below across through inside near by along beside behind around atop among within "
    "outside en sur dans sous auf im am unter über en bajo sobre"
)
TOWARD = frozenset(["toward", "towards", "to", "into", "onto", "past"])
VERBS = _words(
    "dance dances run runs race races fly flies walk walks jump jumps swim swims sing sings play plays ride rides "
    "drive drives float floats sail sails chase chases fight fights duel duels kiss kisses hold holds wander "
    "wanders spin spins glide glides fall falls climb climbs skate skates surf surfs sleep sleeps cry cries rise "
    "rises burn burns drift drifts leaves crosses reaches waits bursts eats bakes follows climbs burst"
)
NOT_VERBS = _words(
    "morning evening ring king string building painting ceiling wing thing something nothing spring swing "
    "lightning clothing ping sing anything everything during ceiling sibling viking pudding wedding glowing "
    "sleeping shining sparkling blazing"
)


# --------------------------------------------------------------------------- comparing words


def normalise(text: str) -> str:
    """Lower case, glyphs and emoji replaced by words (``"夜の東京" -> " night の tokyo"``)."""
    out = text
    for glyph, word in GLYPHS.items():
        out = out.replace(glyph, f" {word} ")
    for particle in "のでがをにはとへも、。！？":
        out = out.replace(particle, " , ")
    return out.lower()


def tokens(text: str) -> list[str]:
    """Words of ``text`` in order (hyphenated words stay whole): ``"Ice-cream cart!" -> ["ice-cream", "cart"]``."""
    return re.findall(r"[^\W_]+(?:[-'][^\W_]+)*", normalise(text))


def canon(word: str) -> str:
    """The canonical word: synonym first, then the singular, then the synonym of the singular."""
    w = word.lower().strip("'")
    if w in SYNONYMS:
        return SYNONYMS[w]
    for suffix, repl in (("ies", "y"), ("ves", "f"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"), ("sses", "ss")):
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            w = w[: -len(suffix)] + repl
            break
    else:
        if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
            w = w[:-1]
    return SYNONYMS.get(w, w)


def stem(word: str) -> str:
    """A light stem so inflections meet: racing/races/race -> "rac", running/runs -> "run"."""
    w = word
    for suffix in ("ing", "ed", "es", "er", "s", "e"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":
        w = w[:-1]
    return w


def key(word: str) -> str:
    """The comparison form of one word (see the module docstring)."""
    return stem(canon(word))


def keys(text: str) -> set[str]:
    """Comparison forms of every word of ``text``, and of each part of its hyphenated words."""
    out: set[str] = set()
    for t in tokens(text):
        out.add(key(t))
        if "-" in t:
            out.update(key(p) for p in t.split("-"))
    return out


def is_verb(word: str) -> bool:
    w = word.lower()
    return w in VERBS or (w.endswith("ing") and len(w) > 5 and w not in NOT_VERBS)


def time_group(word: str) -> str | None:
    return TIME_GROUPS.get(canon(word))
