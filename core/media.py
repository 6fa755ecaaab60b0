"""Thin helpers around the ffmpeg binary (from imageio-ffmpeg) and PyAV for probing."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import IO

import av
from av.stream import Disposition

from core.errors import AudioError, CompositionError


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def run_ffmpeg(
    args: list[str],
    *,
    what: str = "ffmpeg",
    input: bytes | None = None,
    stdin_files: Sequence[Path] = (),
    writer: Callable[[IO[bytes]], None] | None = None,
) -> None:
    """Run ffmpeg quietly; raise CompositionError with the tail of stderr on failure. ``stdin_files`` are streamed,
    one after the other, to ffmpeg's stdin (``-i pipe:0``): a byte-wise join that, unlike the ``concat:`` protocol,
    works whatever characters the paths hold, without a joined copy on disk. ``writer`` instead writes stdin itself
    (raw frames from a renderer), on a thread while stderr is drained; what it raises is raised here."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    if not stdin_files and writer is None:
        proc = subprocess.run(cmd, input=input, capture_output=True, check=False)
        _check(proc.returncode, proc.stderr, what)
        return
    failure: list[BaseException] = []

    def copy_files(sink: IO[bytes]) -> None:
        for path in stdin_files:
            with open(path, "rb") as src:
                shutil.copyfileobj(src, sink, 1 << 20)

    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as popen:
        assert popen.stdin is not None and popen.stderr is not None

        def feed(sink: IO[bytes]) -> None:
            try:
                (writer or copy_files)(sink)
            except BrokenPipeError:  # ffmpeg stopped reading: its stderr says why
                pass
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
                failure.append(exc)
                popen.kill()
            finally:
                with contextlib.suppress(BrokenPipeError):
                    sink.close()

        feeder = threading.Thread(target=feed, args=(popen.stdin,), daemon=True)
        feeder.start()
        stderr = popen.stderr.read()
        returncode = popen.wait()
        feeder.join()
    if failure:
        raise failure[0]
    _check(returncode, stderr, what)


def _check(returncode: int, stderr: bytes, what: str) -> None:
    if returncode != 0:
        tail = stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise CompositionError(f"{what} failed: {' | '.join(tail) or f'exit {returncode}'}")


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    video_codec: str | None = None
    width: int = 0
    height: int = 0
    fps: float = 0.0
    frames: int = 0
    audio_codec: str | None = None
    audio_duration: float = 0.0
    pix_fmt: str | None = None
    video_duration: float = 0.0


def probe(path: Path | str, *, error: type[AudioError | CompositionError] = CompositionError) -> MediaInfo:
    """Container/stream facts of a media file (like ffprobe); ``error`` if it is unreadable: CompositionError for
    the composer's clips and outputs, AudioError for callers probing the input song (which is the user's mistake).
    The message names the file, not its directory (it may reach a web user).

    Cover art (an mjpeg "video" stream with the attached_pic disposition, as in many .ogg/.mp3 files) is not
    video and is ignored.
    """
    try:
        with av.open(str(path)) as c:
            duration = float(c.duration / av.time_base) if c.duration else 0.0
            info: dict[str, object] = {"duration": duration}
            videos = [s for s in c.streams.video if not s.disposition & Disposition.attached_pic]
            if videos:
                v = videos[0]
                rate = v.average_rate or v.guessed_rate or Fraction(0)
                frames = v.frames
                vdur = float(v.duration * v.time_base) if v.duration and v.time_base else duration
                info.update(
                    video_codec=v.codec_context.name,
                    width=v.codec_context.width,
                    height=v.codec_context.height,
                    fps=float(rate),
                    frames=frames or round(vdur * float(rate)),
                    pix_fmt=v.codec_context.pix_fmt,
                    video_duration=vdur,
                )
            if c.streams.audio:
                a = c.streams.audio[0]
                adur = float(a.duration * a.time_base) if a.duration and a.time_base else duration
                info.update(audio_codec=a.codec_context.name, audio_duration=adur)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise error(f"cannot read {Path(path).name}: {getattr(exc, 'strerror', None) or exc}") from exc
    return MediaInfo(**info)  # type: ignore[arg-type]


def cut_audio(src: Path, out: Path, *, seconds: float, start: float = 0.0, quality: int = 5) -> Path:
    """``seconds`` of ``src``'s audio from ``start`` as an MP3 (VBR ``quality`` 0-9); kept when ``out`` exists.
    Tests and benchmarks use it to make short songs from real ones."""
    if not out.exists():
        tmp = out.with_name(f".{out.name}.part.mp3")
        run_ffmpeg(["-ss", f"{start:g}", "-t", f"{seconds:g}", "-i", str(src), "-map", "0:a", "-c:a", "libmp3lame",
                    "-q:a", str(quality), str(tmp)], what="audio excerpt")  # fmt: skip
        tmp.replace(out)
    return out
