"""What each hosted video model can do, and how to ask it for a clip (its real input names and options).

Prices live in ``core.pricing``; this module only knows capabilities. Option sets are from the models' Replicate
pages as remembered in 2025-08 (no internet here): re-check them with ``replicate.models.get(name).latest_version``
before relying on an exotic option.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ImageUse = Literal["required", "optional", "none"]

#: output frame size of the usual 16:9 resolution names
SIZES: dict[str, tuple[int, int]] = {
    "480p": (854, 480),
    "512p": (912, 512),
    "720p": (1280, 720),
    "768p": (1366, 768),
    "1080p": (1920, 1080),
}


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

    def closest_duration(self, target: float) -> float:
        """Nearest supported length; ties go to the longer one (the composer trims, looping is worse)."""
        return min(self.durations, key=lambda d: (abs(d - target), -d))

    def size(self, resolution: str) -> tuple[int, int]:
        return SIZES[resolution]

    def build_input(
        self, *, prompt: str, negative_prompt: str, duration: float, resolution: str, image: str | None, seed: int
    ) -> dict[str, Any]:
        """The prediction input for one clip; ``image`` is a URL or data URI, sent only when the model takes one."""
        if resolution not in self.resolutions:
            raise ValueError(f"{self.name} offers {self.resolutions}, not {resolution}")
        data: dict[str, Any] = {"prompt": prompt, "seed": seed, **self.extra}
        if self.length_param == "duration":
            data["duration"] = round(duration)
        else:  # frame counts: the model's length is frames / fps
            data[self.length_param] = round(duration * self.fps)
        if self.resolution_param:
            data[self.resolution_param] = self.resolution_values.get(resolution, resolution)
        if negative_prompt and self.name != "minimax/hailuo-02-fast":  # hailuo has no negative prompt
            data["negative_prompt"] = negative_prompt
        if image is not None and self.image != "none":
            data[self.image_param] = image
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


VIDEO_MODELS: dict[str, VideoModel] = {
    m.name: m
    for m in (
        VideoModel(
            name="wan-video/wan-2.2-i2v-fast",
            image="required",
            image_param="image",
            durations=(81 / 16, 97 / 16, 113 / 16, 121 / 16),  # num_frames 81..121 at 16 fps
            resolutions=("480p", "720p"),
            default_resolution="480p",
            fps=16,
            length_param="num_frames",
            extra={"frames_per_second": 16, "go_fast": True},
        ),
        VideoModel(
            name="bytedance/seedance-1-lite",
            image="optional",
            image_param="image",
            durations=tuple(float(d) for d in range(2, 13)),
            resolutions=("480p", "720p", "1080p"),
            default_resolution="720p",
            fps=24,
            extra={"fps": 24, "aspect_ratio": "16:9", "camera_fixed": False},
        ),
        VideoModel(
            name="minimax/hailuo-02-fast",
            image="required",
            image_param="first_frame_image",
            durations=(6.0, 10.0),
            resolutions=("512p",),
            default_resolution="512p",
            fps=25,
            resolution_values={"512p": "512P"},
            extra={"prompt_optimizer": False},
        ),
        VideoModel(
            name="kwaivgi/kling-v2.1",
            image="required",
            image_param="start_image",
            durations=(5.0, 10.0),
            resolutions=("720p", "1080p"),
            default_resolution="720p",
            fps=24,
            resolution_param="mode",
            resolution_values={"720p": "standard", "1080p": "pro"},
        ),
        VideoModel(  # billed by GPU time, not by output: the estimate uses a typical predict_time
            name="lightricks/ltx-video",
            image="optional",
            image_param="image",
            durations=(97 / 24, 129 / 24, 161 / 24),
            resolutions=("512p", "768p"),
            default_resolution="512p",
            fps=24,
            length_param="length",
            resolution_param="target_size",
            resolution_values={"512p": 512, "768p": 768},
            extra={"aspect_ratio": "16:9"},
        ),
    )
}


def video_model(name: str) -> VideoModel:
    try:
        return VIDEO_MODELS[name]
    except KeyError:
        raise KeyError(f"unknown video model {name!r} (known: {', '.join(VIDEO_MODELS)})") from None
