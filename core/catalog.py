"""What each hosted model can do and how to ask it for a clip, read from the one dated data file.

The data lives in ``core/data/catalog.toml`` (shipped in the wheel): per video model its vendor, real Replicate input
names, lengths, resolutions, which inputs it takes (first frame, last frame, reference images, audio), whether it
makes its own soundtrack, aspect ratios, prices, source and the date it was checked. ``core.pricing`` reads the prices
from the same file. ``VIDEOGEN_CATALOG_PATH`` names a user file merged over it (entry by entry, field by field).

``VIDEO_MODELS`` is a live view of the current catalogue (it follows the settings' override file).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

ImageUse = Literal["required", "optional", "none"]
Billing = Literal["second", "run", "gpu_second"]

SHIPPED = Path(__file__).with_name("data") / "catalog.toml"
#: a price table older than this is reported stale (``videogen models`` warns)
STALE_DAYS = 90

#: frame height of the usual resolution names; width follows the aspect ratio (16:9 unless asked)
HEIGHTS: dict[str, int] = {"480p": 480, "512p": 512, "720p": 720, "768p": 768, "1080p": 1080, "1440p": 1440}
#: output frame size of the resolution names at 16:9
SIZES: dict[str, tuple[int, int]] = {"480p": (854, 480), "512p": (912, 512), "720p": (1280, 720), "768p": (1366, 768),
                                     "1080p": (1920, 1080), "1440p": (2560, 1440)}  # fmt: skip


def frame_size(resolution: str, aspect: str = "16:9") -> tuple[int, int]:
    """The frame a model renders at ``resolution`` (its short side) in ``aspect`` ("16:9", "9:16", "1:1")."""
    if aspect == "16:9":
        return SIZES[resolution]
    short = HEIGHTS[resolution]
    w, h = (int(x) for x in aspect.split(":"))
    long = round(short * max(w, h) / min(w, h) / 2) * 2
    return (long, short) if w >= h else (short, long)


@dataclass(frozen=True)
class VideoModel:
    name: str
    image: ImageUse  # "required": image-to-video only; "optional": both; "none": text-to-video only
    image_param: str
    durations: tuple[float, ...]
    resolutions: tuple[str, ...]
    default_resolution: str
    fps: int
    #: how the model is told the length: a "duration" integer, or a frame count at a fixed fps
    length_param: Literal["duration", "num_frames", "length"] = "duration"
    resolution_param: str | None = "resolution"
    resolution_values: dict[str, Any] = field(default_factory=dict)  # our name -> the model's value
    extra: dict[str, Any] = field(default_factory=dict)
    negative_prompt: bool = True
    last_frame_param: str | None = None
    reference_images_param: str | None = None
    max_reference_images: int = 0
    audio_param: str | None = None
    generates_audio: bool = False
    #: inputs that turn the model's own soundtrack off; empty for a model that always makes one (the composer
    #: maps only the song's audio, so a clip's own track never reaches the video)
    audio_off: dict[str, Any] = field(default_factory=dict)
    aspect_param: str | None = None
    aspect_ratios: tuple[str, ...] = ()
    vendor: str = ""
    source: str = ""
    checked: date | None = None
    note: str = ""

    def closest_duration(self, target: float) -> float:
        """Nearest supported length; ties go to the longer one (the composer trims, looping is worse)."""
        return min(self.durations, key=lambda d: (abs(d - target), -d))

    def size(self, resolution: str, aspect: str = "16:9") -> tuple[int, int]:
        return frame_size(resolution, aspect)

    @property
    def takes_references(self) -> bool:
        return self.reference_images_param is not None and self.max_reference_images > 0

    def inputs(self) -> frozenset[str]:
        """Every input name this model accepts (the fake rejects any other, as the real API does)."""
        names = {"prompt", "seed", self.length_param, *self.extra, *self.audio_off}
        if self.length_param != "duration":
            names.discard("duration")
        if self.negative_prompt:
            names.add("negative_prompt")
        optional = (self.resolution_param, self.last_frame_param, self.reference_images_param, self.audio_param,
                    self.aspect_param, None if self.image == "none" else self.image_param)  # fmt: skip
        names.update(n for n in optional if n)
        return frozenset(names)

    def build_input(
        self,
        *,
        prompt: str,
        negative_prompt: str,
        duration: float,
        resolution: str,
        image: str | None,
        seed: int,
        aspect: str = "16:9",
        references: list[str] | None = None,
        last_frame: str | None = None,
    ) -> dict[str, Any]:
        """The prediction input for one clip; images are URLs or data URIs, sent only to models that take them.

        ``references`` (character / style references) go to models with a reference-images input, at most their
        maximum; ``aspect`` to models that frame for it (others follow their first frame's shape).
        """
        if resolution not in self.resolutions:
            raise ValueError(f"{self.name} offers {self.resolutions}, not {resolution}")
        data: dict[str, Any] = {"prompt": prompt, "seed": seed, **self.extra, **self.audio_off}
        if self.length_param == "duration":
            data["duration"] = round(duration)
        else:  # frame counts: the model's length is frames / fps
            data[self.length_param] = round(duration * self.fps)
        if self.resolution_param:
            data[self.resolution_param] = self.resolution_values.get(resolution, resolution)
        if negative_prompt and self.negative_prompt:
            data["negative_prompt"] = negative_prompt
        if image is not None and self.image != "none":
            data[self.image_param] = image
        if self.aspect_param and aspect in self.aspect_ratios:
            data[self.aspect_param] = aspect
        if references and self.takes_references:
            data[self.reference_images_param or ""] = references[: self.max_reference_images]
        if last_frame is not None and self.last_frame_param:
            data[self.last_frame_param] = last_frame
        return data

    def parse_input(self, data: dict[str, Any]) -> tuple[float, str]:
        """Inverse of ``build_input``: (duration, resolution) a request asks for (used by the fake server)."""
        if self.length_param == "duration":
            duration = float(data.get("duration", self.durations[0]))
        else:
            duration = int(data.get(self.length_param, round(self.durations[0] * self.fps))) / self.fps
        resolution = self.default_resolution
        if self.resolution_param and self.resolution_param in data:
            wanted = data[self.resolution_param]
            resolution = next((k for k, v in self.resolution_values.items() if v == wanted), str(wanted))
        return duration, resolution


@dataclass(frozen=True)
class Catalog:
    """The parsed data file: capabilities (``video``) and the raw price tables ``core.pricing`` reads."""

    checked: date
    path: Path
    video: dict[str, VideoModel]
    raw: dict[str, Any]

    def age_days(self, today: date | None = None) -> int:
        return ((today or date.today()) - self.checked).days

    def stale(self, today: date | None = None) -> bool:
        return self.age_days(today) > STALE_DAYS


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _video_model(name: str, e: dict[str, Any]) -> VideoModel:
    fps = int(e["fps"])
    length = e.get("length_param", "duration")
    durations = tuple(f / fps for f in e["frames"]) if "frames" in e else tuple(float(d) for d in e["durations"])
    return VideoModel(
        name=name, image=e["image"], image_param=e["image_param"], durations=durations,
        resolutions=tuple(e["resolutions"]), default_resolution=e["default_resolution"], fps=fps,
        length_param=length, resolution_param=e.get("resolution_param", "resolution") or None,
        resolution_values=dict(e.get("resolution_values", {})), extra=dict(e.get("extra", {})),
        negative_prompt=bool(e.get("negative_prompt", True)), last_frame_param=e.get("last_frame_param"),
        reference_images_param=e.get("reference_images_param"),
        max_reference_images=int(e.get("max_reference_images", 0)), audio_param=e.get("audio_param"),
        generates_audio=bool(e.get("generates_audio", False)), audio_off=dict(e.get("audio_off", {})),
        aspect_param=e.get("aspect_param"), aspect_ratios=tuple(e.get("aspect_ratios", ())),
        vendor=e.get("vendor", ""), source=e.get("source", ""), checked=e.get("checked"), note=e.get("note", ""),
    )  # fmt: skip


@lru_cache(maxsize=8)
def _load(override: str | None, mtime: float | None) -> Catalog:
    with SHIPPED.open("rb") as f:
        raw = tomllib.load(f)
    path = SHIPPED
    if override is not None:
        path = Path(override)
        try:
            with path.open("rb") as f:
                raw = _merge(raw, tomllib.load(f))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            from core.errors import ConfigError

            raise ConfigError(f"catalogue {path.name}: {exc}", variable="VIDEOGEN_CATALOG_PATH") from exc
    checked = raw["checked"]
    video = {name: _video_model(name, entry) for name, entry in raw.get("video", {}).items()}
    return Catalog(checked=checked, path=path, video=video, raw=raw)


def current() -> Catalog:
    """The catalogue in force: the shipped file, merged with ``settings.catalog_path`` when that is set."""
    from core.settings import get_settings

    override = get_settings().catalog_path
    if override is None:
        return _load(None, None)
    try:
        mtime = override.stat().st_mtime
    except OSError:
        mtime = None
    return _load(str(override), mtime)


class _Models(Mapping[str, VideoModel]):
    """``VIDEO_MODELS``: a read-only view of the current catalogue's video models."""

    def __getitem__(self, name: str) -> VideoModel:
        return current().video[name]

    def __iter__(self) -> Iterator[str]:
        return iter(current().video)

    def __len__(self) -> int:
        return len(current().video)


VIDEO_MODELS: Mapping[str, VideoModel] = _Models()


def video_model(name: str) -> VideoModel:
    try:
        return VIDEO_MODELS[name]
    except KeyError:
        raise KeyError(f"unknown video model {name!r} (known: {', '.join(VIDEO_MODELS)})") from None
