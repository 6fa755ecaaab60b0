"""Offline scenes depict the prompt: matched assets, backdrops, and beat accents that never strobe.

Inputs: short clips at 320x180 (a few tenths of a second each) and prepared setups drawn without encoding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from core.contracts import Camera, ClipPrompt
from providers.offline.assets import catalogue, match
from providers.offline.render import MAX_PULSE_STEP, accent_strength, frame_planes, prepare, render_clip
from providers.offline.scene import build, read_scene

slow = pytest.mark.slow


def make_prompt(**kw: object) -> ClipPrompt:
    base: dict[str, object] = {
        "index": 0,
        "prompt": "a cat on a boardwalk",
        "palette": ["#ffadad", "#ffd6a5", "#fdffb6", "#9bf6ff"],
        "visual_style": "glossy 3D render",
        "mood": "playful",
        "lighting": "daylight",
        "camera": Camera(movement="static"),
        "motion": "drift",
        "motion_intensity": 0.5,
        "energy": 0.5,
        "scene_id": "s1",
        "seed": 3,
    }
    base.update(kw)
    return ClipPrompt.model_validate(base)


def frames(prompt: ClipPrompt, seconds: float, beats: list[float] | tuple[float, ...] = ()) -> NDArray[np.float32]:
    """Rendered (not encoded) RGB frames at 24 fps, (n, 3, H, W) in 0-1."""
    n = round(seconds * 24)
    s = prepare(prompt, beats=beats, frames=n)
    out = [frame_planes(s, i, i / 24).astype(np.float32) / 255 for i in range(n)]
    return np.stack([np.repeat(f, 3, axis=0) if len(f) == 1 else f for f in out])


def mean_luminance(f: NDArray[np.float32]) -> NDArray[np.float32]:
    """WCAG relative luminance (sRGB linearised, Rec. 709 weights) averaged over each frame."""
    lin = np.where(f <= 0.04045, f / 12.92, ((f + 0.055) / 1.055) ** 2.4)
    lum: NDArray[np.float32] = np.tensordot(np.array([0.2126, 0.7152, 0.0722]), lin, axes=([0], [1])).mean(axis=(1, 2))
    return lum


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a cat on a boardwalk", ["cat"]),
        (
            "paper boat on a river under willows, an old woman on a bridge",
            ["paper_boat", "willow", "willow", "old_woman"],  # willows: a plural draws two; limit 4
        ),
        ("a motorbike racing toward a giant sun", ["motorbike"]),
        ("rival violinists on a rooftop, a detective", ["violinist", "violinist", "detective"]),  # players
        ("a cat running an ice-cream cart on a sunny boardwalk", ["cat", "ice_cream", "cart"]),
        ("two kittens and a puppy", ["cat", "cat", "dog"]),  # aliases and plurals
        ("dancing in the rain", ["dancer"]),  # a verb names a subject when nothing else does
    ],
)
def test_prompt_words_match_assets(text: str, expected: list[str]) -> None:
    assert list(read_scene(make_prompt(prompt=text)).assets) == expected
    assert match(text)[0] == expected[0]  # without the scene's verbs, "running" would also call a runner


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("a paper boat on a river, the boat drifts", "boat"),  # the compound's head word is the same boat
        ("a motorbike with a rider in a visor helmet", "horse_rider"),  # a rider is not a jockey
        ("paper boat under willows. watercolor, calm", "meditator"),  # a mood word is no yoga pose
        ("rival violinists, a violin duel", "violin"),  # the players hold theirs
    ],
)
def test_words_that_name_no_new_subject(text: str, absent: str) -> None:
    """Inputs: the wrong subjects the issue's renders drew (a sailboat beside the paper boat, a horse for a
    motorbike's rider, a meditating figure for "calm", a lone violin for violinists)."""
    assert absent not in read_scene(make_prompt(prompt=text)).assets


def test_old_woman_is_white_haired_not_a_cane_user() -> None:
    """Input: "an old woman"; drawn as a white-haired walker (recoloured Noto), no white-cane emoji anywhere."""
    old = catalogue()["old_woman"]
    assert "cane" not in old.icon and 'fill="#dcdcdc"' in old.body
    assert not [a.id for a in catalogue().values() if "cane" in a.icon]


def test_subject_on_a_bridge_stands_on_its_deck() -> None:
    """Input: "an old woman on an old stone bridge": a river scene, the bridge across the middle, and the woman's
    feet on the bridge's top edge (above the water), not on the bank."""
    prompt = make_prompt(prompt="an old woman on an old stone bridge at dusk", camera=Camera(movement="static"))
    scene = read_scene(prompt)
    assert (scene.place, scene.on_bridge) == ("river", True)
    built = build(scene, prompt, np.linspace(0.1, 0.9, 15, dtype=np.float32).reshape(5, 3), 320, 180,
                  np.random.default_rng(0))  # fmt: skip
    bridge = next(s for s in built.sprites if s.asset.id == "stone_bridge")
    woman = next(s for s in built.sprites if s.asset.id == "old_woman")
    assert built.water is not None and woman.base < built.water[0] + 4 < bridge.base
    row = int(woman.base - (bridge.base - bridge.rgba.shape[1]))  # her feet, in the bridge's own pixels
    centre = bridge.rgba[3, :, bridge.rgba.shape[2] // 2]
    assert centre[row + 1] > 0.5 and centre[: max(row - 2, 0)].max() < 0.5  # stone under her feet, air above
    assert abs(woman.x - bridge.x) < 0.1 * 320
    assert not read_scene(make_prompt(prompt="a bridge in the distance, a man by the river")).on_bridge


def test_rooftop_is_a_roof_not_a_street() -> None:
    """Input: the same night city as a street and as "on a rooftop": the street's foreground is a road in
    perspective (asphalt in the middle, ground at the sides); the roof's is one flat deck across the frame."""
    tones = np.linspace(0.1, 0.9, 15, dtype=np.float32).reshape(5, 3)
    rows = {}
    for text in ("a detective in a city street at night", "a detective on a rooftop above the city at night"):
        scene = read_scene(make_prompt(prompt=text))
        built = build(scene, make_prompt(prompt=text), tones, 320, 180, np.random.default_rng(0))
        rows[scene.rooftop] = built.near[:3, 170, :320].mean(axis=0)  # one row near the bottom, across the frame
    assert set(rows) == {False, True}
    assert np.std(rows[False]) > 3 * np.std(rows[True])


def test_camera_directions_call_up_no_asset() -> None:
    """Input: a template prompt whose camera sentence says "camera pans left": the subject is drawn, not a camera;
    a camera named in the script itself still is."""
    text = "A cat on a boardwalk. Synthwave, playful. Medium shot, eye level, camera pans left; drift."
    assert read_scene(make_prompt(prompt=text, camera=Camera(movement="pan_left"))).assets == ("cat",)
    named = "A photographer with a camera on a boardwalk. Medium shot, eye level, camera pans left; drift."
    assert "camera" in read_scene(make_prompt(prompt=named, camera=Camera(movement="pan_left"))).assets


def test_scene_reads_place_time_weather_action() -> None:
    scene = read_scene(make_prompt(prompt="a neon city at night, a dancer in the rain"))
    assert (scene.place, scene.time, scene.weather, scene.action) == ("city", "night", "rain", "dance")
    assert read_scene(make_prompt(prompt="a motorbike racing toward a giant sun")).big_sun
    assert read_scene(make_prompt(prompt="a cat running an ice-cream cart on a sunny boardwalk")).place == "beach"


def test_catalogue_is_attributed() -> None:
    assets = catalogue()
    assert len(assets) > 150
    assert {a.set for a in assets.values()} == {"noto", "game-icons"}
    folder = Path("providers/offline/assets")
    text = (folder / "ATTRIBUTION.md").read_text()
    assert "Apache" in text and "CC BY 3.0" in text
    for a in assets.values():
        if a.set == "game-icons":
            assert a.icon in text, a.icon  # each CC BY icon is named in the attribution


@slow
def test_clip_records_its_assets_and_prompts_differ_visibly(tmp_path: Path) -> None:
    cat = render_clip(make_prompt(), tmp_path / "cat.mp4", duration=0.25, width=320, height=180)
    assert cat == ["cat"]
    boat = make_prompt(prompt="a boat on a river")
    assert render_clip(boat, tmp_path / "boat.mp4", duration=0.25, width=320, height=180) == ["boat"]
    a, b = frames(make_prompt(), 0.25), frames(boat, 0.25)
    assert np.abs(a - b).mean() > 0.05  # 5 % of full scale on average (measured 7 %): other place and subject


def test_subject_is_drawn() -> None:
    """The cat's pixels are there: the same scene without a subject differs where the cat stands."""
    with_cat = frames(make_prompt(), 1 / 24)[0]
    without = frames(make_prompt(prompt="a boardwalk"), 1 / 24)[0]
    diff = np.abs(with_cat - without).max(axis=0)
    assert (diff > 0.2).mean() > 0.01  # over 1 % of the frame


def test_calm_clip_never_flashes() -> None:
    """WCAG 2.3.1: a flash is a pair of opposing changes of >= 10 % relative luminance; more than three a second
    fail. Beat accents here change the mean relative luminance by < 3 % of full scale from one frame to the next
    (the gain's step is capped at MAX_PULSE_STEP = 2 %), so no beat can make a flash at any tempo."""
    calm = make_prompt(
        prompt="a couple waltzing in a ballroom", mood="calm, romantic", energy=0.25, motion_intensity=0.3
    )
    assert accent_strength(calm) == 0.0
    beats = [0.4 * k for k in range(13)]
    lum = mean_luminance(frames(calm, 5.0, beats))
    assert np.abs(np.diff(lum)).max() < 0.03


def test_energetic_clip_pulses_on_the_beat_within_the_cap() -> None:
    loud = make_prompt(prompt="a dancer in a neon club", mood="euphoric", energy=0.95, motion_intensity=0.8)
    beats = [0.5 * k for k in range(6)]
    pulsed = mean_luminance(frames(loud, 3.0, beats))
    plain = mean_luminance(frames(loud, 3.0))
    lift = pulsed - plain
    assert lift.max() > 0.01, "no visible accent"  # the downbeat (beat 0, 2.0 s) is the strongest
    assert lift[48:54].max() > lift[12:18].max()
    assert np.abs(np.diff(pulsed)).max() < 0.03
    assert MAX_PULSE_STEP <= 0.02
