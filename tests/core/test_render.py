"""Offline renderer: real, moving, plan-driven pictures, with a look per visual style.

Inputs: the default look in 2 s clips at 1280x720/24; every look (one representative style string each) in 0.5 s
clips at 640x360 or 320x180, which keeps the whole module to a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from PIL import Image

from core.contracts import Camera, ClipPrompt
from core.media import probe
from providers.offline.looks import DEFAULT, LOOKS, look_for
from providers.offline.render import render_clip
from providers.offline.vocab import STYLES

slow = pytest.mark.slow

# One representative visual_style per look, as the offline planner writes them (providers.offline.vocab.STYLES).
STYLE_OF = {
    "default": "glossy 3D render",
    "noir": "black-and-white film noir",
    "pixel": "pixel art",
    "toon": "cel-shaded anime",
    "watercolor": "soft watercolor painting",
    "psychedelic": "psychedelic kaleidoscope",
    "synthwave": "80s synthwave",
    "minimal": "minimalist graphic",
    "vintage": "grainy vintage film",
    "dreamy": "surreal dreamscape",
    "cinematic": "cinematic",
}
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def make_prompt(**kw: object) -> ClipPrompt:
    base: dict[str, object] = {
        "index": 0,
        "prompt": "neon city at night",
        "palette": ["#ff006e", "#8338ec", "#3a86ff", "#ffbe0b"],
        "visual_style": "glossy 3D render",  # no look family: the default look
        "mood": "upbeat",
        "lighting": "studio",
        "camera": Camera(movement="zoom_in"),
        "motion": "drift",
        "motion_intensity": 0.6,
        "energy": 0.6,
        "scene_id": "city",
        "seed": 7,
    }
    base.update(kw)
    return ClipPrompt.model_validate(base)


def frames_of(path: Path, size: tuple[int, int] | None = (160, 90)) -> NDArray[np.float32]:
    """Decoded RGB frames, (n, h, w, 3) float 0-255; ``size=None`` keeps the encoded size."""
    with av.open(str(path)) as c:
        return np.stack(
            [
                f.to_ndarray(format="rgb24")
                if size is None
                else f.reformat(width=size[0], height=size[1], format="rgb24").to_ndarray()
                for f in c.decode(video=0)
            ]
        ).astype(np.float32)


def middle_frame(path: Path) -> NDArray[np.float32]:
    f = frames_of(path, size=None)
    return f[len(f) // 2]


# --------------------------------------------------------------------------- the default look


@pytest.fixture(scope="module")
def clip_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render") / "a.mp4"
    render_clip(make_prompt(), out, duration=2.0)
    return out


@slow
def test_output_format_and_frame_count(clip_a: Path) -> None:
    info = probe(clip_a)
    assert (info.video_codec, info.width, info.height, info.pix_fmt) == ("h264", 1280, 720, "yuv420p")
    assert info.fps == pytest.approx(24.0)
    assert info.frames == 48


@slow
def test_moves_and_is_not_flat(clip_a: Path) -> None:
    f = frames_of(clip_a)
    assert np.abs(f[24] - f[0]).mean() > 8.0, "picture does not move"
    assert np.abs(f[1:] - f[:-1]).mean(axis=(1, 2, 3)).min() > 0.3, "some frame is a repeat"
    assert f.std(axis=(1, 2)).mean(axis=1).min() > 15.0, "a frame is (nearly) a solid colour"


@slow
def test_prompts_differ_visibly(clip_a: Path, tmp_path: Path) -> None:
    other = tmp_path / "b.mp4"
    render_clip(
        make_prompt(palette=["#0b3d20", "#2a9d8f", "#e9c46a"], camera=Camera(movement="pan_left"), seed=99),
        other,
        duration=2.0,
    )
    a, b = frames_of(clip_a), frames_of(other)
    # Same words, so the same scene (a night city); palette, camera and seed still recolour and reframe it.
    assert np.abs(a - b).mean() > 20.0


@slow
def test_same_prompt_is_deterministic(clip_a: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.mp4"
    render_clip(make_prompt(), again, duration=2.0)
    assert np.abs(frames_of(clip_a) - frames_of(again)).max() < 1.0


@slow
def test_beat_pulse_brightens_after_the_beat(clip_a: Path, tmp_path: Path) -> None:
    pulsed = tmp_path / "pulse.mp4"
    render_clip(make_prompt(), pulsed, duration=2.0, beats=[1.0])
    f = frames_of(pulsed).mean(axis=(1, 2, 3))
    plain = frames_of(clip_a).mean(axis=(1, 2, 3))
    # Frame 24 is t = 1.0 s: the beat. The accent rises over a few frames (never a flash: see test_scene.py's
    # strobe test), peaks just after the beat and has faded ~0.6 s later.
    lift = f - plain
    assert lift[24:30].max() > 2.0 and lift[24:30].max() > 3 * abs(lift[:20]).max()
    assert f[40] == pytest.approx(plain[40], rel=0.02)


def stripes_png(path: Path) -> Path:
    stripes = np.zeros((90, 160, 3), np.uint8)
    stripes[:, ::20] = 255
    Image.fromarray(stripes).resize((640, 360), Image.Resampling.NEAREST).save(path)
    return path


@slow
def test_reference_image_is_blended_in(clip_a: Path, tmp_path: Path) -> None:
    textured = tmp_path / "ref.mp4"
    render_clip(make_prompt(), textured, duration=2.0, reference=stripes_png(tmp_path / "ref.png"))
    assert np.abs(frames_of(textured) - frames_of(clip_a)).mean() > 10.0


# --------------------------------------------------------------------------- choosing a look


@pytest.mark.parametrize(
    ("visual_style", "lighting", "mood", "expected"),
    [
        # The demo prompt "a neon city at night, a dancer in the rain, synthwave" plans to these words.
        ("80s synthwave", "neon glow with deep shadows", "euphoric and driving", "synthwave"),
        ("neon cyberpunk", "neon glow with deep shadows", "confident and upbeat", "synthwave"),
        ("vaporwave collage", "soft diffused light", "warm and nostalgic", "synthwave"),
        ("black-and-white film noir", "hard low-key light with rim highlights", "dreamy and melancholic", "noir"),
        ("pixel art", "high-contrast stage lighting", "confident and upbeat", "pixel"),
        ("8-bit retro game", "", "", "pixel"),  # "retro game" is pixel art, not a retro film
        ("cel-shaded anime", "soft diffused light", "dreamy and melancholic", "toon"),
        ("bold comic-book ink", "", "", "toon"),
        ("soft watercolor painting", "warm golden-hour backlight", "warm and nostalgic", "watercolor"),
        ("impressionist oil painting", "", "", "watercolor"),
        ("psychedelic kaleidoscope", "", "", "psychedelic"),
        ("minimalist graphic", "", "", "minimal"),
        ("minimal geometric", "", "", "minimal"),
        ("retro 70s film", "", "", "vintage"),  # neither synthwave ("retro") nor cinematic ("film")
        ("grainy vintage film", "", "", "vintage"),
        ("surreal dreamscape", "", "", "dreamy"),
        ("Dreamy, ethereal", "", "", "dreamy"),
        ("cinematic", "neon glow with deep shadows", "dreamy and melancholic", "cinematic"),  # style beats lighting
        ("cinematic watercolor", "", "", "watercolor"),  # a distinctive family beats the generic one
        ("handheld documentary", "", "", "cinematic"),
        ("moody", "neon glow with deep shadows", "", "synthwave"),  # no family in the style: the lighting's
        ("moody", "high-contrast stage lighting", "dreamy and melancholic", "dreamy"),  # then the mood's
        ("glossy 3D render", "high-contrast stage lighting", "confident and upbeat", "default"),
        ("", "", "", "default"),
    ],
)
def test_look_for_style_words(visual_style: str, lighting: str, mood: str, expected: str) -> None:
    assert look_for(visual_style, lighting, mood).name == expected


def test_planner_styles_map_to_many_looks() -> None:
    looks = {style: look_for(style).name for style in STYLES.values()}
    assert [s for s, name in looks.items() if name == DEFAULT.name] == ["glossy 3D render"]
    assert len(set(looks.values())) == len(LOOKS), looks  # every look is reachable from a planner style


# --------------------------------------------------------------------------- every look


@pytest.fixture(scope="module")
def look_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same prompt in each look (only visual_style differs): 0.5 s at 640x360."""
    root = tmp_path_factory.mktemp("looks")
    clips = {}
    for name, style in STYLE_OF.items():
        clips[name] = root / f"{name}.mp4"
        render_clip(make_prompt(visual_style=style), clips[name], duration=0.5, width=640, height=360)
    return clips


def test_representative_styles_reach_every_look() -> None:
    assert {look_for(style).name for style in STYLE_OF.values()} == set(LOOKS)
    assert all(look_for(style).name == name for name, style in STYLE_OF.items())


@slow
def test_styles_differ_strongly(look_clips: dict[str, Path]) -> None:
    # Mean absolute difference (0-255) of the middle frames of every pair of looks. Re-rendering the same prompt
    # gives 0 (see below) and a 5 % brightness change about 5; 12 asks for a different picture, not a grade tweak.
    # The closest pair measured, pixel art vs cel-shaded anime (same stepped palette field), is about 20.
    mids = {name: middle_frame(path) for name, path in look_clips.items()}
    names = sorted(mids)
    diffs = {(a, b): float(np.abs(mids[a] - mids[b]).mean()) for i, a in enumerate(names) for b in names[i + 1 :]}
    close = {pair: round(d, 1) for pair, d in diffs.items() if d < 12.0}
    assert not close, f"looks too alike: {close}"


@slow
@pytest.mark.parametrize("name", sorted(STYLE_OF))
def test_each_look_is_deterministic(name: str, look_clips: dict[str, Path], tmp_path: Path) -> None:
    again = tmp_path / "again.mp4"
    render_clip(make_prompt(visual_style=STYLE_OF[name]), again, duration=0.5, width=640, height=360)
    assert np.abs(frames_of(look_clips[name]) - frames_of(again)).max() < 1.0


@slow
def test_noir_is_greyscale(look_clips: dict[str, Path]) -> None:
    noir, colour = middle_frame(look_clips["noir"]), middle_frame(look_clips["default"])
    assert np.abs(noir[..., 0] - noir[..., 1]).max() <= 2 and np.abs(noir[..., 1] - noir[..., 2]).max() <= 2
    assert noir.std() > 20.0, "noir frame is flat"
    assert np.abs(colour[..., 0] - colour[..., 1]).mean() > 20.0  # the check can fail: the default look is colour


def blockiness(frame: NDArray[np.float32], block: int) -> tuple[float, float]:
    """(share of block x block tiles that are flat to within 4 levels, mean step across tile edges / within)."""
    h, w, _ = frame.shape
    tiles = frame.reshape(h // block, block, w // block, block, 3)
    spread = (tiles.max(axis=(1, 3)) - tiles.min(axis=(1, 3))).max(axis=-1)
    steps = np.abs(np.diff(frame.mean(axis=2), axis=1))  # steps[:, x] is between columns x and x + 1
    across = steps[:, block - 1 :: block].mean()
    within = np.delete(steps, np.s_[block - 1 :: block], axis=1).mean()
    return float((spread <= 4).mean()), float(across / max(within, 1e-6))


@slow
def test_pixel_art_is_blocky(look_clips: dict[str, Path]) -> None:
    # The pixel look draws 160x90 (sprites stay legible) and upscales with nearest-neighbour: 4x4 runs of one
    # colour at 640x360.
    flat, ratio = blockiness(middle_frame(look_clips["pixel"]), 4)
    assert flat > 0.75 and ratio > 20.0, (flat, ratio)  # measured 0.84 and 75 (4:2:0 chroma blurs some edges)
    flat, ratio = blockiness(middle_frame(look_clips["default"]), 4)
    assert ratio < 3.0, (
        flat,
        ratio,
    )  # the check can fail (a scene's flat sky makes some 4x4 blocks flat): a smooth picture is not blocky


@slow
def test_cinematic_has_letterbox_bars(look_clips: dict[str, Path]) -> None:
    # 2.39:1 inside 16:9: bars of 23/180 of the height, 46 rows at 360; the outer 40 rows must be black.
    f = middle_frame(look_clips["cinematic"])
    assert f[:40].max() <= 8 and f[-40:].max() <= 8
    assert f[60:300].mean() > 25.0, "the picture between the bars is black"  # a night city: dark, not black
    assert middle_frame(look_clips["default"])[:40].max() > 40.0  # the check can fail: no bars by default (stars)


def peaks(values: NDArray[np.float32], prominence: float, half: int = 6) -> NDArray[np.intp]:
    """Indices of local maxima standing ``prominence`` above the lowest value within ``half`` either side."""
    window = sliding_window_view(np.pad(values, half, mode="edge"), 2 * half + 1)
    return np.flatnonzero((values >= window.max(axis=1)) & (values - window.min(axis=1) > prominence))


def grid_lines(frame: NDArray[np.float32]) -> tuple[float, float, int]:
    """In the bottom quarter: (median bright vertical lines per row, share of rows where they are evenly spaced,
    bright horizontal lines)."""
    floor = (frame @ LUMA)[frame.shape[0] * 3 // 4 :]
    counts, even = [], []
    for row in floor:
        at = peaks(row, 40.0)
        counts.append(len(at))
        if len(at) >= 4:
            gaps = np.diff(at)
            even.append(np.mean(np.abs(gaps - np.median(gaps)) <= 0.15 * np.median(gaps)) >= 0.7)
    return float(np.median(counts)), float(np.mean(even)) if even else 0.0, len(peaks(floor.mean(axis=1), 10.0))


@slow
def test_synthwave_shows_the_grid(look_clips: dict[str, Path]) -> None:
    vertical, evenly, horizontal = grid_lines(middle_frame(look_clips["synthwave"]))
    # Under a city street (the prompt's scene) the grid shows between the road's edges: fewer vertical lines.
    assert vertical >= 3 and horizontal >= 3, (vertical, evenly, horizontal)
    vertical, evenly, horizontal = grid_lines(middle_frame(look_clips["default"]))
    assert vertical < 3 and horizontal < 2, (vertical, horizontal)  # the check can fail: no grid by default


@slow
@pytest.mark.parametrize("name", sorted(STYLE_OF))
def test_each_look_follows_the_prompt(name: str, tmp_path: Path) -> None:
    """Palette, camera, energy, seed, beats and the reference image all change the picture in every look.

    Thresholds are mean absolute differences (0-255) over all frames of 0.5 s clips at 320x180, about half the
    smallest value measured across the looks. Greyscale noir sees a palette only as brightness (measured 9)."""
    style = STYLE_OF[name]

    def render(
        tag: str, reference: Path | None = None, beats: tuple[float, ...] = (), **kw: object
    ) -> NDArray[np.float32]:
        out = tmp_path / f"{tag}.mp4"
        prompt = make_prompt(visual_style=style, **kw)
        render_clip(prompt, out, duration=0.5, beats=beats, width=320, height=180, reference=reference)
        return frames_of(out, size=None)

    base = render("base")
    assert np.abs(base[11] - base[0]).mean() > 5.0, "picture does not move"
    assert base.std(axis=(1, 2)).mean(axis=1).min() > 15.0, "a frame is (nearly) a solid colour"

    def moved(frames: NDArray[np.float32]) -> float:
        return float(np.abs(frames - base).mean())

    palette = ["#0b3d20", "#2a9d8f", "#e9c46a"]
    # The same words draw the same scene: palette and camera recolour and reframe it (noir sees hue only as grey).
    assert moved(render("palette", palette=palette)) > (1.5 if LOOKS[name].grey else 12.0)
    assert moved(render("camera", camera=Camera(movement="pan_left"))) > 4.0
    assert moved(render("energy", energy=0.1)) > 3.0  # slower motion, a smaller hop (noir measured 4.7)
    assert moved(render("seed", seed=99)) > 3.0  # the same scene laid out anew (noir measured 4.7)
    assert moved(render("reference", reference=stripes_png(tmp_path / "ref.png"))) > 3.0
    # A beat at 0.25 s (frame 6) lifts the picture gently (energy 0.6): a zoom punch, a hop, a little light.
    pulsed = render("beat", beats=(0.25,))
    assert np.abs(pulsed[6:9] - base[6:9]).mean() > 1.0
    assert np.abs(pulsed[:3] - base[:3]).mean() < np.abs(pulsed[6:9] - base[6:9]).mean()
