"""The input song: its type from the bytes, then one decoding pass that measures it.

:func:`inspect_audio` is the one input check: the API's upload, the CLI's pre-check and the analysis
(:func:`read_audio`, the same check keeping the samples) all refuse a file for the same reasons, in the same words.
Messages say "the file" / "the song", never a path: they reach web users from a server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import AudioError
from core.settings import AudioSettings

SUPPORTED = "MP3, WAV, OGG, FLAC, M4A"

# ISO base-media brands that carry (or may carry) plain audio; video-only brands are still decoded if they
# hold an audio stream, but sniffing only vouches for these.
_M4A_BRANDS = {
    b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ", b"mp41", b"mp42", b"isom", b"iso2", b"iso4", b"iso5",
    b"iso6", b"dash", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"MSNV", b"avc1", b"qt  ", b"M4V ", b"mp71",
}  # fmt: skip

SILENCE_DBFS = -60.0  # every 0.5 s window quieter than this -> the song is "silent"
_WINDOW = 0.5  # seconds
_MIN_DECODED = 0.5  # seconds; less than this is "no audio" (e.g. the first few KB of an MP3)
_HEAD = 4096  # bytes read for sniffing (an ID3 tag before FLAC needs a few hundred)


@dataclass(frozen=True)
class AudioFacts:
    format: str  # container, sniffed from the bytes: mp3, wav, ogg, flac, m4a
    codec: str
    duration: float  # seconds that decode, not what the header announces
    sample_rate: int  # of the file's audio stream
    channels: int


def sniff_format(head: bytes) -> str:
    """Container of an audio file from its first bytes (at least 12, ideally a few hundred).

    Returns one of ``"mp3"``, ``"wav"``, ``"ogg"``, ``"flac"``, ``"m4a"``; raises :class:`AudioError`
    otherwise.
    """
    if not head:
        raise AudioError("the file is empty")
    if head[:3] == b"ID3":
        # An ID3v2 tag may precede FLAC as well as MP3: look past it when the bytes are there.
        if len(head) >= 10:
            size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
            after = head[10 + size : 14 + size]
            if after == b"fLaC":
                return "flac"
        return "mp3"
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[4:8] == b"ftyp" and head[8:12] in _M4A_BRANDS:
        return "m4a"
    # Bare MPEG audio frame: 11-bit sync, a valid version, layer != reserved (ADTS AAC has layer 00).
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 and head[1] & 0x18 != 0x08:
        return "mp3"
    raise AudioError(f"the file is not a supported audio file ({SUPPORTED})")


def inspect_audio(path: Path | str, *, settings: AudioSettings | None = None) -> AudioFacts:
    """The one input check: the format from the bytes, then the whole song decoded (not the header trusted).

    Raises :class:`AudioError` for a missing, empty, unsupported, undecodable or silent file, or a song outside
    ``settings.shortest_song .. max_duration``. Decoding stops at the first loud half second for the silence
    check and past ``max_duration`` for the length, so a 10-minute MP3 costs about a second of CPU.
    """
    return _read(Path(path), settings or AudioSettings(), keep=False)[0]


def read_audio(path: Path | str, *, settings: AudioSettings | None = None) -> tuple[AudioFacts, np.ndarray]:
    """:func:`inspect_audio` plus the samples, mono float32 at ``settings.sample_rate``, from the same pass."""
    facts, y = _read(Path(path), settings or AudioSettings(), keep=True)
    assert y is not None
    return facts, y


def load_audio(path: Path | str, *, sr: int = 22050) -> tuple[np.ndarray, int]:
    """Decode to mono float32 at ``sr`` without the song limits (short test clips, benchmarks)."""
    unlimited = AudioSettings(sample_rate=sr, min_duration=0.0, max_duration=math.inf)
    y = _decode(Path(path), sniff_file(Path(path)), unlimited, keep=True)[1]
    assert y is not None
    return y, sr


def _read(path: Path, s: AudioSettings, *, keep: bool) -> tuple[AudioFacts, np.ndarray | None]:
    facts, y, loudest = _decode(path, sniff_file(path), s, keep=keep)
    if facts.duration > s.max_duration:
        raise AudioError(f"the song is too long (the maximum is {s.max_duration:g} s)")
    if facts.duration < s.shortest_song:
        raise AudioError(f"the song is too short ({facts.duration:.1f} s; the minimum is {s.shortest_song:g} s)")
    if loudest < SILENCE_DBFS:
        raise AudioError(f"the song is silent (its loudest half second is {loudest:.0f} dBFS)")
    return facts, y


def sniff_file(path: Path) -> str:
    """:func:`sniff_format` of a file's first bytes; :class:`AudioError` if it is missing or not a file."""
    if not path.exists():
        raise AudioError("file not found")
    if not path.is_file():
        raise AudioError("not a regular file")
    with open(path, "rb") as fh:
        return sniff_format(fh.read(_HEAD))


class _Loudest:
    """Level (dBFS RMS) of the loudest 0.5 s window of a mono stream, fed chunk by chunk; it stops measuring
    once a window passes the silence threshold, so a normal song costs a few windows."""

    def __init__(self, rate: int) -> None:
        self.size = max(1, round(_WINDOW * rate))
        self.sum, self.n, self.db = 0.0, 0, -math.inf

    @property
    def loud(self) -> bool:
        return self.db >= SILENCE_DBFS

    def add(self, mono: np.ndarray) -> None:
        i = 0
        while i < mono.size and not self.loud:
            part = mono[i : i + self.size - self.n].astype(np.float64)
            self.sum, self.n, i = self.sum + float(np.dot(part, part)), self.n + part.size, i + part.size
            if self.n == self.size:
                self.close()

    def close(self) -> None:
        if self.n:
            self.db = max(self.db, 10.0 * math.log10(max(self.sum / self.n, 1e-12)))
            self.sum, self.n = 0.0, 0


def _decode(path: Path, fmt: str, s: AudioSettings, *, keep: bool) -> tuple[AudioFacts, np.ndarray | None, float]:
    """One pass over the packets: seconds decoded, the loudest half second and, if ``keep``, the samples.

    Levels are measured on what the analysis hears, the mono mix at ``s.sample_rate``; without ``keep`` nothing is
    resampled once the song proved loud, frames are only counted. Corrupt packets are skipped; a truncated file
    keeps whatever decodes, but a file that yields (almost) no audio raises.
    """
    import av  # local: keeps `import core.audio_input` cheap for processes that never decode

    chunks: list[np.ndarray] = []
    decoded, bad_packets = 0.0, 0
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError("the file contains no audio stream")
            stream = container.streams.audio[0]
            announced = float(container.duration / av.time_base) if container.duration else 0.0
            resampler = av.AudioResampler(format="fltp", rate=s.sample_rate)
            level = _Loudest(s.sample_rate)

            def take(frame: av.AudioFrame | None) -> None:  # None flushes the resampler
                if keep:
                    chunks.extend(out.to_ndarray() for out in resampler.resample(frame))
                elif not level.loud:
                    for out in resampler.resample(frame):
                        level.add(out.to_ndarray().mean(axis=0))

            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    bad_packets += 1  # a damaged packet: skip it, keep the rest of the song
                    if bad_packets > 200 and decoded == 0.0:
                        break
                    continue
                for frame in frames:
                    decoded += frame.samples / frame.sample_rate
                    take(frame)
                if decoded > s.max_duration:
                    break  # too long: no need to decode the rest
            take(None)
            codec, channels, native = stream.codec_context.name, stream.codec_context.channels, stream.sample_rate
    except AudioError:
        raise
    except (av.error.FFmpegError, OSError, ValueError, IndexError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise AudioError(f"the file cannot be decoded - truncated or corrupt ({reason})") from exc
    y = None
    if keep:  # channels averaged, like librosa
        y = np.concatenate(chunks, axis=-1).mean(axis=0, dtype=np.float32) if chunks else np.zeros(0, np.float32)
        decoded = y.size / s.sample_rate  # the analysis's clock: its own samples
        level.add(y)
    level.close()
    if decoded < _MIN_DECODED:
        detail = f" of the {announced:.1f} s its header announces" if announced > 2 * _MIN_DECODED else ""
        raise AudioError(f"no audio could be decoded ({decoded:.2f} s{detail}) - truncated or corrupt file")
    facts = AudioFacts(format=fmt, codec=codec, duration=round(decoded, 3), sample_rate=native, channels=channels)
    return facts, y, level.db
