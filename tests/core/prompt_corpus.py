"""Prompts with what every plan for them must keep, written by hand (not by the reader under test).

``keep``: words the plan must show (in characters/scenes/objects and clip scripts; compared with
``core.lexicon.key``, so plurals and synonyms meet). ``times``: the only time-of-day groups allowed.
``forbid``: words that must appear nowhere in the scripts. ``mood``: the mood class motion must follow.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    prompt: str
    keep: tuple[str, ...] = ()
    style: str | None = None
    mood: str | None = None
    times: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    motion: str | None = None  # "energetic" | "calm"


CORPUS: tuple[Case, ...] = (
    # the five renders
    Case("a neon city at night, a dancer in the rain", ("city", "dancer", "rain"), style="synthwave",
         times=("night",), forbid=("dawn", "clouds")),
    Case("paper boat on a river under willows, an old woman on a bridge",
         ("boat", "river", "willow", "woman", "bridge"),
         style="watercolor", mood="calm", forbid=("stage lighting", "fast"), motion="calm"),
    Case("a motorbike racing toward a giant sun", ("motorbike", "racing", "sun"), style="synthwave",
         mood="energetic", forbid=("slow", "clouds"), motion="energetic"),
    Case("rival violinists on a rooftop, a detective", ("violinist", "rooftop", "detective"), style="film noir",
         mood="tense", forbid=("nebulae", "clouds", "space")),
    Case("a cat running an ice-cream cart on a sunny boardwalk", ("cat", "cart", "boardwalk", "sunny"),
         style="pixel art", forbid=("night", "rain")),
    # plain English, varied
    Case("a fox in a misty forest at sunrise", ("fox", "forest", "fog"), times=("dawn",), forbid=("night",)),
    Case("two astronauts dancing on the moon", ("astronaut", "dancing", "moon")),
    Case("a lighthouse keeper on a stormy coast at dusk", ("keeper", "coast", "storm"), times=("dusk",),
         forbid=("sunny", "dawn")),
    Case("robots playing chess in an abandoned factory", ("robot", "chess", "factory")),
    Case("a skater gliding down an empty street at midnight", ("skater", "street"), times=("night",),
         forbid=("dawn", "midday")),
    Case("a whale swimming through clouds above a sleeping village", ("whale", "cloud", "village")),
    Case("a samurai walking through a bamboo grove in the snow", ("samurai", "bamboo", "snow")),
    Case("a girl with a red umbrella at a train station, calm", ("girl", "umbrella", "station"), motion="calm",
         forbid=("fast", "punchy", "stage lighting")),
    Case("an energetic street party with drummers and fireworks", ("street", "drummer", "firework"),
         motion="energetic", forbid=("slow", "gentle")),
    Case("a sad clown in an empty circus tent", ("clown", "tent")),
    Case("grandmother baking bread in a cozy kitchen in the morning", ("grandmother", "bread", "kitchen"),
         times=("dawn",), forbid=("night",)),
    Case("a dragon flying over a volcano", ("dragon", "volcano")),
    Case("jellyfish drifting in a dark ocean, peaceful", ("jellyfish", "ocean"), motion="calm"),
    Case("a boxer training in a gym before dawn, intense", ("boxer", "gym"), motion="energetic",
         forbid=("slow",)),
    Case("surfers riding huge waves at sunset", ("surfer", "wave"), times=("dusk",), forbid=("night", "dawn")),
    Case("a detective following a stranger through foggy alleys", ("detective", "stranger", "alley", "fog"),
         forbid=("sunny",)),
    Case("a couple slow dancing in a kitchen", ("couple", "kitchen")),
    # negations
    Case("an empty city at night, no people", ("city",), times=("night",), forbid=("dancer", "woman", "man", "figure")),
    Case("a forest without animals, only trees and fog", ("forest", "tree", "fog"), forbid=("fox", "wolf", "bird")),
    Case("a beach at noon with no boats", ("beach",), times=("day",), forbid=("boat",)),
    # multilingual
    Case("una bailarina en la playa de noche", ("dancer", "beach"), times=("night",), forbid=("dawn",)),
    Case("un gato en una ciudad bajo la lluvia", ("cat", "city", "rain"), forbid=("sunny",)),
    Case("une danseuse sur les toits de Paris la nuit", ("dancer", "rooftop", "paris"), times=("night",)),
    Case("un chien sur la plage au coucher du soleil, calme", ("dog", "beach"), motion="calm"),
    Case("eine Katze im Wald bei Nacht", ("cat", "forest"), times=("night",), forbid=("dawn", "midday")),
    Case("ein Zug fährt durch die Berge im Schnee", ("train", "mountain", "snow")),
    Case("夜の東京で猫が踊る 🌙", ("night", "tokyo", "cat"), times=("night",), forbid=("dawn",)),
    Case("🐱🌧️🏙️", ("cat", "rain", "city")),
    Case("桜と侍", ("cherry", "samurai")),
    # odd shapes
    Case("A NEON CITY AT NIGHT WITH A ROBOT", ("city", "robot"), times=("night",), forbid=("dawn",)),
    Case("ocean", ("ocean",)),
    Case("kitty", ("cat",)),
    Case("moto", ("motorbike",)),
    Case("?!... ---", ()),
    Case("!!! rain ???", ("rain",)),
    Case("a lone lighthouse", ("lighthouse",)),
    Case(
        "a long journey: a young girl leaves her village at dawn, crosses a desert with a camel, sails across an "
        "ocean on a small boat, climbs a snowy mountain, and finally reaches a glowing city where a band plays on a "
        "rooftop while fireworks burst and her dog waits for her by the gate",
        ("girl", "village", "desert", "camel", "ocean", "boat", "mountain", "city", "band", "rooftop", "firework",
         "dog", "gate", "snow"),
    ),
    Case("a zorblax eating glimmerfruit in a quaxian marsh", ("zorblax", "glimmerfruit", "marsh")),
    Case("motorcycles and kittens at the seaside, energetic", ("motorbike", "cat", "beach"), motion="energetic",
         forbid=("slow",)),
)  # fmt: skip
