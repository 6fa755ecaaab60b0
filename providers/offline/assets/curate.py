"""Build ``icons.json`` from the two npm icon sets (dev tool; run by hand, not imported).

    cd /tmp && npm pack @iconify-json/noto @iconify-json/game-icons
    mkdir noto gi && tar xzf iconify-json-noto-*.tgz -C noto && tar xzf iconify-json-game-icons-*.tgz -C gi
    python providers/offline/assets/curate.py /tmp/noto/package /tmp/gi/package

Each entry: ``id: [source, place, height, aliases]``. ``source`` is ``noto:<name>`` (colour emoji, Apache-2.0) or
``gi:<name>`` (game-icons silhouette, CC BY 3.0); ``place`` where the scene stands it (``ground``, ``water``,
``sky``); ``height`` its height as a fraction of the frame; ``aliases`` the words that call it up besides its id and
the words of its source name.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ASSETS: dict[str, tuple[str, str, float, str]] = {
    # people
    "person": ("noto:person-standing", "ground", 0.42, "figure someone human people stranger crowd"),
    "man": ("noto:man-standing", "ground", 0.44, "guy boy gentleman father husband he him"),
    "woman": ("noto:woman-standing", "ground", 0.42, "girl lady mother wife she her"),
    "walker": ("noto:person-walking-facing-right", "ground", 0.42, "walk walking stroll wander wanderer strolling"),
    "runner": ("noto:person-running-facing-right", "ground", 0.42, "run running runs jog sprint chase flee racing"),
    "dancer": ("noto:woman-dancing", "ground", 0.44, "dance dancing dances dancers twirl spin salsa tango"),
    "man_dancer": ("noto:man-dancing", "ground", 0.44, "disco groove"),
    "ballerina": ("noto:ballet-dancer", "ground", 0.44, "ballet pirouette"),
    # white-haired walkers (recoloured below): the white-cane emoji read as a blind person, not an old one
    "old_woman": ("noto:woman-walking-facing-right", "ground", 0.4, "grandmother granny elderly old-woman"),
    "old_man": ("noto:man-walking-facing-right", "ground", 0.42, "grandfather grandpa elder old-man"),
    "singer": ("noto:singer", "ground", 0.42, "sing singing sings vocalist crooner"),
    "detective": ("noto:detective", "ground", 0.42, "investigator spy sleuth inspector agent private-eye"),
    "police": ("noto:police-officer", "ground", 0.42, "cop officer policeman"),
    "surfer": ("noto:person-surfing", "water", 0.38, "surf surfing"),
    "swimmer": ("noto:person-swimming", "water", 0.25, "swim swimming"),
    "cyclist": ("noto:person-biking", "ground", 0.38, "cycling biking"),
    "climber": ("noto:person-climbing", "ground", 0.42, "climb climbing"),
    "lovers": ("noto:couple-with-heart", "ground", 0.42, "couple romance love lovers kiss"),
    "astronaut": ("noto:astronaut", "ground", 0.42, "cosmonaut spaceman"),
    "superhero": ("noto:superhero", "ground", 0.42, "hero heroine"),
    "mage": ("noto:mage", "ground", 0.44, "wizard witch sorcerer magic"),
    "zombie": ("noto:zombie", "ground", 0.42, "undead"),
    "vampire": ("noto:vampire", "ground", 0.42, "dracula"),
    "fairy": ("noto:fairy", "sky", 0.3, "pixie sprite"),
    "merperson": ("noto:merperson", "water", 0.35, "mermaid merman"),
    "ninja": ("noto:ninja", "ground", 0.42, "assassin"),
    "cook": ("noto:cook", "ground", 0.42, "chef baker"),
    "farmer": ("noto:farmer", "ground", 0.42, "gardener"),
    "artist": ("noto:artist", "ground", 0.42, "painter"),
    "guard": ("noto:guard", "ground", 0.42, "soldier"),
    "skier": ("noto:skier", "ground", 0.38, "ski skiing"),
    "snowboarder": ("noto:snowboarder", "ground", 0.38, "snowboard"),
    "skateboarder": ("noto:skateboard", "ground", 0.12, "skate skateboard skating"),
    "horse_rider": ("noto:horse-racing", "ground", 0.42, "jockey horseback equestrian"),
    "rower": ("noto:person-rowing-boat", "water", 0.3, "row rowing rower"),
    "meditator": ("noto:person-in-lotus-position", "ground", 0.35, "meditate meditation yoga"),
    # animals
    "cat": ("noto:cat", "ground", 0.2, "kitten kitty cats feline kittens"),
    "black_cat": ("noto:black-cat", "ground", 0.2, ""),
    "dog": ("noto:dog", "ground", 0.22, "puppy hound dogs doggy"),
    "horse": ("noto:horse", "ground", 0.35, "horses pony stallion mare"),
    "bird": ("noto:bird", "sky", 0.1, "birds sparrow songbird"),
    "dove": ("noto:dove", "sky", 0.12, "doves peace pigeon"),
    "eagle": ("noto:eagle", "sky", 0.16, "hawk falcon"),
    "owl": ("noto:owl", "sky", 0.14, "owls"),
    "crow": ("noto:black-bird", "sky", 0.12, "raven crows ravens blackbird"),
    "butterfly": ("noto:butterfly", "sky", 0.1, "butterflies moth"),
    "fish": ("noto:tropical-fish", "water", 0.1, "fishes"),
    "whale": ("noto:spouting-whale", "water", 0.25, "whales"),
    "dolphin": ("noto:dolphin", "water", 0.18, "dolphins"),
    "shark": ("noto:shark", "water", 0.2, "sharks"),
    "swan": ("noto:swan", "water", 0.16, "swans"),
    "duck": ("noto:duck", "water", 0.12, "ducks"),
    "wolf": ("noto:wolf", "ground", 0.22, "wolves"),
    "fox": ("noto:fox", "ground", 0.2, "foxes"),
    "deer": ("noto:deer", "ground", 0.3, "stag doe"),
    "rabbit": ("noto:rabbit", "ground", 0.14, "bunny hare rabbits"),
    "bear": ("noto:bear", "ground", 0.3, "bears"),
    "lion": ("noto:lion", "ground", 0.28, "lions"),
    "tiger": ("noto:tiger", "ground", 0.26, "tigers"),
    "elephant": ("noto:elephant", "ground", 0.36, "elephants"),
    "camel": ("noto:camel", "ground", 0.32, "camels caravan"),
    "cow": ("noto:cow", "ground", 0.26, "cows cattle"),
    "frog": ("noto:frog", "ground", 0.1, "frogs toad"),
    "snake": ("noto:snake", "ground", 0.14, "serpent"),
    "dragon": ("noto:dragon", "sky", 0.3, "dragons wyvern"),
    "unicorn": ("noto:unicorn", "ground", 0.3, "unicorns"),
    "bat": ("noto:bat", "sky", 0.1, "bats"),
    "bee": ("noto:honeybee", "sky", 0.06, "bees"),
    "monkey": ("noto:monkey", "ground", 0.22, "ape monkeys"),
    "penguin": ("noto:penguin", "ground", 0.2, "penguins"),
    "octopus": ("noto:octopus", "water", 0.2, "kraken squid"),
    # vehicles
    "motorbike": ("noto:motorcycle", "ground", 0.26, "motorcycle motorbikes motorcycles bike biker chopper"),
    "scooter": ("noto:motor-scooter", "ground", 0.22, "vespa moped"),
    "bicycle": ("noto:bicycle", "ground", 0.22, "bike bikes"),
    "car": ("noto:automobile", "ground", 0.2, "cars auto sedan drive driving"),
    "race_car": ("noto:racing-car", "ground", 0.18, "racecar formula"),
    "taxi": ("noto:taxi", "ground", 0.2, "cab"),
    "police_car": ("noto:police-car", "ground", 0.2, "patrol"),
    "bus": ("noto:bus", "ground", 0.26, "coach"),
    "truck": ("noto:delivery-truck", "ground", 0.24, "lorry van"),
    "train": ("noto:high-speed-train", "ground", 0.24, "railway locomotive subway metro"),
    "boat": ("noto:sailboat", "water", 0.3, "sail sailing yacht sailboat boats"),
    "paper_boat": ("gi:paper-boat", "water", 0.16, "origami"),
    "rowboat": ("noto:canoe", "water", 0.16, "canoe kayak rowboat raft"),
    "motorboat": ("noto:speedboat", "water", 0.18, "speedboat"),
    "ship": ("noto:passenger-ship", "water", 0.32, "liner cruise ferry steamer"),
    "airplane": ("noto:airplane", "sky", 0.16, "plane jet flight aeroplane"),
    "helicopter": ("noto:helicopter", "sky", 0.16, "chopper"),
    "rocket": ("noto:rocket", "sky", 0.24, "spaceship launch"),
    "ufo": ("noto:flying-saucer", "sky", 0.16, "alien saucer aliens"),
    "balloon": ("noto:balloon", "sky", 0.14, "balloons"),
    "hot_air_balloon": ("gi:air-balloon", "sky", 0.24, "airship"),
    "kite": ("noto:kite", "sky", 0.14, "kites"),
    "cart": ("gi:shopping-cart", "ground", 0.2, "carts trolley wagon stall barrow"),
    # music
    "violin": ("noto:violin", "ground", 0.24, "fiddle viola cello strings"),
    "guitar": ("noto:guitar", "ground", 0.28, "guitars"),
    "saxophone": ("noto:saxophone", "ground", 0.24, "sax jazz"),
    "trumpet": ("noto:trumpet", "ground", 0.2, "horn brass"),
    "drum": ("noto:drum", "ground", 0.18, "drums drummer percussion"),
    "piano": ("noto:musical-keyboard", "ground", 0.16, "pianist keyboard synth synthesizer"),
    "microphone": ("noto:studio-microphone", "ground", 0.24, "mic karaoke"),
    "headphones": ("noto:headphone", "ground", 0.16, "headphone dj"),
    "notes": ("noto:musical-notes", "sky", 0.14, "music melody song tune"),
    "radio": ("noto:radio", "ground", 0.16, "boombox stereo"),
    "mirror_ball": ("noto:mirror-ball", "sky", 0.16, "discoball club"),
    # objects and food
    "ice_cream": ("noto:soft-ice-cream", "ground", 0.18, "icecream ice-cream gelato sundae cone"),
    "umbrella": ("noto:umbrella", "ground", 0.22, "umbrellas parasol"),
    "lantern": ("noto:red-paper-lantern", "sky", 0.12, "lanterns"),
    "candle": ("noto:candle", "ground", 0.14, "candles candlelight"),
    "heart": ("noto:red-heart", "sky", 0.1, "hearts love"),
    "rose": ("noto:rose", "ground", 0.14, "roses"),
    "flower": ("noto:sunflower", "ground", 0.16, "flowers sunflower bloom garden"),
    "tulip": ("noto:tulip", "ground", 0.12, "tulips"),
    "cherry_blossom": ("noto:cherry-blossom", "sky", 0.08, "blossom sakura petals"),
    "wine": ("noto:wine-glass", "ground", 0.14, "glass drink"),
    "cocktail": ("noto:cocktail-glass", "ground", 0.14, "martini bar"),
    "coffee": ("noto:hot-beverage", "ground", 0.12, "cafe tea"),
    "pizza": ("noto:pizza", "ground", 0.12, ""),
    "cake": ("noto:birthday-cake", "ground", 0.14, "birthday"),
    "gift": ("noto:wrapped-gift", "ground", 0.14, "present"),
    "book": ("noto:open-book", "ground", 0.12, "books reading"),
    "crown": ("noto:crown", "ground", 0.12, "king queen royal"),
    "key": ("noto:old-key", "ground", 0.1, "keys"),
    "clock": ("noto:mantelpiece-clock", "ground", 0.14, "time"),
    "phone": ("noto:mobile-phone", "ground", 0.12, "smartphone"),
    "camera": ("noto:camera", "ground", 0.12, "photo photograph"),
    "tv": ("noto:television", "ground", 0.18, "television screen"),
    "gem": ("noto:gem-stone", "ground", 0.1, "diamond jewel"),
    "skull": ("noto:skull", "ground", 0.14, "death"),
    "ghost": ("noto:ghost", "sky", 0.2, "ghosts spirit haunted"),
    "fire": ("noto:fire", "ground", 0.16, "flame flames burning blaze"),
    "campfire": ("gi:campfire", "ground", 0.16, "bonfire"),
    "fireworks": ("noto:fireworks", "sky", 0.22, "firework celebration"),
    "lightning": ("noto:high-voltage", "sky", 0.16, "thunder storm"),
    "star": ("noto:glowing-star", "sky", 0.1, "stars"),
    "shooting_star": ("noto:shooting-star", "sky", 0.12, "comet meteor"),
    "planet": ("noto:ringed-planet", "sky", 0.2, "saturn planets"),
    "cloud": ("noto:cloud", "sky", 0.16, "clouds"),
    "rainbow": ("noto:rainbow", "sky", 0.24, "rainbows"),
    "snowman": ("noto:snowman", "ground", 0.26, ""),
    "sandcastle": ("gi:sand-castle", "ground", 0.18, "sand"),
    "hourglass": ("noto:hourglass-done", "ground", 0.14, ""),
    "sword": ("noto:crossed-swords", "ground", 0.16, "swords battle duel fight"),
    "magnifier": ("noto:magnifying-glass-tilted-left", "ground", 0.12, "clue clues mystery"),
    "hat": ("noto:top-hat", "ground", 0.1, "tophat"),
    "bench": ("gi:park-bench", "ground", 0.16, "park"),
    "streetlight": ("gi:street-light", "ground", 0.5, "lamppost streetlamp lamp streetlights"),
    "neon_sign": ("gi:shop", "ground", 0.3, "shop store diner"),
    # scenery pieces (the backdrop draws its own skyline, hills and water; these stand in front of it)
    "willow": ("gi:willow-tree", "ground", 0.5, "willows weeping"),
    "tree": ("noto:deciduous-tree", "ground", 0.45, "trees oak woods woodland"),
    "pine": ("noto:evergreen-tree", "ground", 0.45, "pines fir spruce conifer"),
    "palm": ("noto:palm-tree", "ground", 0.5, "palms tropical"),
    "cactus": ("noto:cactus", "ground", 0.3, "cacti"),
    "bridge": ("gi:japanese-bridge", "ground", 0.3, "bridges footbridge"),
    "stone_bridge": ("gi:stone-bridge", "ground", 0.3, "viaduct aqueduct"),
    "house": ("noto:house", "ground", 0.3, "home cottage houses"),
    "castle": ("noto:castle", "ground", 0.45, "palace fortress"),
    "tower": ("noto:tokyo-tower", "ground", 0.55, "tokyo"),
    "lighthouse": ("gi:lighthouse", "ground", 0.45, "beacon"),
    "ferris_wheel": ("noto:ferris-wheel", "ground", 0.45, "fair funfair carnival"),
    "carousel": ("noto:carousel-horse", "ground", 0.3, "merry-go-round"),
    "tent": ("noto:tent", "ground", 0.26, "camping camp"),
    "church": ("noto:church", "ground", 0.4, "chapel wedding"),
    "windmill": ("gi:windmill", "ground", 0.45, "windmills"),
    "volcano": ("noto:volcano", "ground", 0.4, "eruption lava"),
    "pyramid": ("gi:egyptian-pyramids", "ground", 0.35, "pyramids egypt"),
    "island": ("gi:island", "water", 0.3, "islands"),
}


# Fill colours swapped in an icon's paths: hair turned white (the walkers' browns) for the old.
RECOLOUR: dict[str, dict[str, str]] = {
    "old_woman": {"#543930": "#dcdcdc", "#6d4c41": "#bdbdbd", "#3615af": "#7a5c8e", "#4568ad": "#8c6f9e"},
    "old_man": {"#543930": "#dcdcdc", "#6d4c41": "#bdbdbd"},
}

# Players drawn as a person holding their instrument: ``id: (person, instrument, x, y, scale, aliases)``, the
# instrument placed at (x, y) in the person's 128-unit box. Both come from Noto, so the composite stays Apache-2.0.
PLAYERS: dict[str, tuple[str, str, float, float, float, str]] = {
    "violinist": ("man-standing", "violin", 44, 22, 0.5, "violinists fiddler fiddlers"),
    "guitarist": ("person-standing", "guitar", 36, 46, 0.55, "guitarists"),
    "saxophonist": ("man-standing", "saxophone", 40, 36, 0.5, "saxophonists"),
    "trumpeter": ("woman-standing", "trumpet", 50, 20, 0.45, "trumpeters"),
}


def main(noto: Path, gi: Path) -> None:
    sets = {
        "noto": json.loads((noto / "icons.json").read_text()),
        "gi": json.loads((gi / "icons.json").read_text()),
    }
    out: dict[str, object] = {}
    for key, (source, place, height, aliases) in ASSETS.items():
        prefix, name = source.split(":")
        data = sets[prefix]
        icon = data["icons"][name]
        size = int(icon.get("width", data.get("width", 16)))
        words = sorted({key.replace("_", " "), *aliases.split()})
        out[key] = {
            "set": {"noto": "noto", "gi": "game-icons"}[prefix],
            "icon": name,
            "size": size,
            "place": place,
            "height": height,
            "colour": prefix == "noto",
            "tags": words,
            "body": icon["body"],
        }
    for key, swaps in RECOLOUR.items():
        body = str(out[key]["body"])  # type: ignore[index]
        for old, new in swaps.items():
            body = body.replace(f'fill="{old}"', f'fill="{new}"')
        out[key]["body"] = body  # type: ignore[index]
    icons = sets["noto"]["icons"]
    for key, (person, instrument, x, y, scale, aliases) in PLAYERS.items():
        out[key] = {
            "set": "noto",
            "icon": f"{person}+{instrument}",
            "size": 128,
            "place": "ground",
            "height": 0.44,
            "colour": True,
            "tags": sorted({key, *aliases.split()}),
            "body": f'{icons[person]["body"]}<g transform="translate({x} {y}) scale({scale})">'
            f"{icons[instrument]['body']}</g>",
        }
    path = Path(__file__).with_name("icons.json")
    path.write_text(json.dumps(out, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"{len(out)} assets, {path.stat().st_size / 1e6:.2f} MB -> {path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
