"""Captions from timed lyrics: SubRip and WebVTT cues (one per lyric line), and karaoke ASS (one ``\\k`` per word).

The ASS is in song time, for ffmpeg's ``subtitles`` filter (libass, in imageio-ffmpeg's ffmpeg) with the bundled
Roboto (``font_roboto``, Apache-2.0, licence in ``assets/fonts/``) as its only font directory, so the look never
depends on the machine's fonts. The text sits in the lower title-safe area (10 % margins of EBU R 95), in white
with the plan's most saturated bright palette colour for the sung words and its darkest for the outline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.contracts import Lyrics, LyricWord

FONT_NAME = "Roboto"
#: a cue never stays longer than this after its last word (s)
HOLD = 1.0
MAX_CUE_CHARS = 84


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    words: tuple[LyricWord, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def cues(lyrics: Lyrics, *, until: float | None = None) -> list[Cue]:
    """One cue per lyric line (long lines split), ending at the next cue's start at the latest, and at ``until``
    (the song's end: a soft track that outlasts it makes the MP4 longer than the song)."""
    if lyrics.instrumental or not lyrics.words:
        return []
    out: list[Cue] = []
    group: list[LyricWord] = []
    for w in sorted(lyrics.words, key=lambda w: w.start):
        if group and (w.line != group[-1].line or len(" ".join(x.text for x in group)) + len(w.text) > MAX_CUE_CHARS):
            out.append(Cue(group[0].start, group[-1].end, tuple(group)))
            group = []
        group.append(w)
    if group:
        out.append(Cue(group[0].start, group[-1].end, tuple(group)))
    fixed = []
    for i, c in enumerate(out):
        nxt = out[i + 1].start if i + 1 < len(out) else c.end + HOLD
        end = max(c.start + 0.3, min(c.end + HOLD, nxt))
        if until is not None:
            end = min(end, until)  # words end inside the song, so every cue still starts before it ends
        fixed.append(Cue(c.start, end, c.words))
    return fixed


def _ts(t: float, sep: str) -> str:
    ms = max(0, round(t * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _srt(cs: list[Cue]) -> str:
    return "".join(f"{i}\n{_ts(c.start, ',')} --> {_ts(c.end, ',')}\n{c.text}\n\n" for i, c in enumerate(cs, 1))


def _vtt(cs: list[Cue]) -> str:
    return "WEBVTT\n\n" + "".join(f"{_ts(c.start, '.')} --> {_ts(c.end, '.')}\n{c.text}\n\n" for c in cs)


def to_srt(lyrics: Lyrics, *, until: float | None = None) -> str:
    return _srt(cues(lyrics, until=until))


def to_vtt(lyrics: Lyrics, *, until: float | None = None) -> str:
    return _vtt(cues(lyrics, until=until))


def _ass_colour(hex_colour: str) -> str:
    """``#RRGGBB`` -> ASS ``&H00BBGGRR`` (opaque)."""
    h = hex_colour.lstrip("#")
    return f"&H00{h[4:6]}{h[2:4]}{h[0:2]}".upper()


def _luma(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _saturation(hex_colour: str) -> int:
    h = hex_colour.lstrip("#")
    rgb = [int(h[i : i + 2], 16) for i in (0, 2, 4)]
    return max(rgb) - min(rgb)


def _ass_time(t: float) -> str:
    cs = max(0, round(t * 100))
    h, rest = divmod(cs, 360_000)
    m, rest = divmod(rest, 6000)
    s, cs = divmod(rest, 100)
    return f"{h:d}:{m:02d}:{s:02d}.{cs:02d}"


def to_ass(lyrics: Lyrics, *, width: int, height: int, palette: list[str] | None = None) -> str:
    """Karaoke: each line appears as it starts; each word fills with the highlight colour over its own time."""
    colours = sorted(palette or ["#FFD166", "#1B1B2F", "#FFFFFF"], key=_luma)
    bright = [c for c in colours if _luma(c) >= 110 and _saturation(c) >= 60]  # visible against white text
    highlight = _ass_colour(max(bright, key=_saturation) if bright else "#FFD166")
    outline = _ass_colour(colours[0] if _luma(colours[0]) < 90 else "#101010")
    size = round(height * 0.055)
    margin_v, margin_h = round(height * 0.10), round(width * 0.10)
    head = (
        "[Script Info]\nScriptType: v4.00+\nWrapStyle: 0\nScaledBorderAndShadow: yes\n"
        f"PlayResX: {width}\nPlayResY: {height}\n\n[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding\n"
        f"Style: Karaoke,{FONT_NAME},{size},{highlight},&H00FFFFFF,{outline},&H80000000,-1,0,0,0,100,100,0,0,1,"
        f"{max(2, size // 14)},{max(1, size // 28)},2,{margin_h},{margin_h},{margin_v},1\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    events = []
    for c in cues(lyrics):
        parts, t = [], c.start
        for w in c.words:
            gap = round((w.start - t) * 100)
            if gap > 0:
                parts.append(f"{{\\k{gap}}}")
            parts.append(f"{{\\kf{max(1, round((w.end - w.start) * 100))}}}{_ass_escape(w.text)} ")
            t = max(t, w.end)
        events.append(f"Dialogue: 0,{_ass_time(c.start)},{_ass_time(c.end)},Karaoke,,0,0,0,,{''.join(parts).rstrip()}")
    return head + "\n".join(events) + "\n"


def _ass_escape(text: str) -> str:
    return text.replace("\\", "/").replace("{", "(").replace("}", ")")


def font_dir() -> Path:
    """The bundled font's folder (libass ``fontsdir``)."""
    import font_roboto

    return Path(font_roboto.__file__).parent / "files"


def write_sidecars(
    lyrics: Lyrics, folder: Path, stem: str = "captions", *, until: float | None = None
) -> tuple[Path, Path] | None:
    """``stem.srt`` and ``stem.vtt`` in ``folder``, no cue past ``until``; None (nothing written) without words."""
    cs = cues(lyrics, until=until)
    if not cs:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    srt, vtt = folder / f"{stem}.srt", folder / f"{stem}.vtt"
    srt.write_text(_srt(cs), encoding="utf-8")
    vtt.write_text(_vtt(cs), encoding="utf-8")
    return srt, vtt
