"""The user's lyrics (core.lyrics), the captions made from them (core.captions) and the transcriber's
hallucination guard, on hand-made inputs: no model, no ffmpeg, milliseconds each."""

from __future__ import annotations

import numpy as np
import pytest

from core import captions, lyrics
from core.contracts import Lyrics, LyricSegment, LyricWord
from core.errors import LyricsError
from core.limits import MAX_LYRICS_BYTES
from providers.offline.transcription import SAMPLE_RATE, Heard, guard


def heard_of(text: str, start: float = 1.0, step: float = 0.5) -> Lyrics:
    """A transcript whose words are ``step`` s apart from ``start``."""
    words = [
        LyricWord(text=w, start=start + i * step, end=start + i * step + step * 0.8, confidence=0.9)
        for i, w in enumerate(text.split())
    ]
    seg = LyricSegment(start=words[0].start, end=words[-1].end, text=text)
    return Lyrics(text=text, segments=[seg], words=words, instrumental=False, language="en")


# --------------------------------------------------------------------------- parsing and refusals


def test_plain_text_lines_and_words() -> None:
    """Two lines, blank lines and punctuation: two lines, words without punctuation, no times."""
    lines = lyrics.parse("Hello, world!\n\n  And so my fellow   \n")
    assert [ln.words for ln in lines] == [("Hello", "world"), ("And", "so", "my", "fellow")]
    assert all(ln.start is None for ln in lines)


def test_lrc_times_and_metadata() -> None:
    """LRC with a metadata tag, two times on one (repeated) line: three lines sorted by time."""
    lines = lyrics.parse("[ar:Someone]\n[00:12.50]first line\n[00:05.00][00:20.25]chorus here\n", duration=30)
    assert [(ln.start, ln.text) for ln in lines] == [(5.0, "chorus here"), (12.5, "first line"), (20.25, "chorus here")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\n \n\t\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (bytes(range(256)) * 4, "binary"),
        (b"la " * (MAX_LYRICS_BYTES // 3 + 10), "limit"),
        ("x" * 1_000_000, "limit"),  # 1 MB of text
        (b"[00:10.00]fine\n[03:10.00]after the end\n", "beyond the song"),
        (b"[00:10.00]timed\nuntimed line\n", "needs a \\[mm:ss"),
    ],
)
def test_bad_lyrics_are_refused(data: bytes | str, message: str) -> None:
    """Empty, whitespace-only, a PNG header, random bytes, > 20 kB, 1 MB, an LRC time past a 120 s song,
    mixed LRC: each a LyricsError whose message says which."""
    with pytest.raises(LyricsError, match=message):
        lyrics.parse(data, duration=120.0)


# --------------------------------------------------------------------------- alignment


def test_alignment_matches_and_interpolates() -> None:
    """Supplied 'ask not what your country can do for you' vs a transcript that misheard 'country' as 'county'
    and missed 'can': every supplied word timed, in order; 'county' pairs as a look-alike; 'can' interpolated
    between 'country' and 'do'."""
    heard = heard_of("ask not what your county do for you")
    out = lyrics.align(lyrics.parse("Ask not what your country\ncan do for you"), heard, duration=20)
    assert [w.text for w in out.words] == ["Ask", "not", "what", "your", "country", "can", "do", "for", "you"]
    timing = {w.text: w.timing for w in out.words}
    assert timing["country"] == "matched" and timing["can"] == "interpolated" and timing["do"] == "matched"
    country, can, do = out.words[4:7]
    assert country.end <= can.start < can.end <= do.start
    assert out.words[0].start == heard.words[0].start
    assert out.supplied and not out.instrumental and "8 matched, 1 interpolated" in (out.alignment or "")
    assert [s.text for s in out.segments] == ["Ask not what your country", "can do for you"]
    starts = [w.start for w in out.words]
    assert starts == sorted(starts)


def test_unknown_language_spreads_over_voiced_regions() -> None:
    """Spanish lyrics against English nonsense (nothing matches): recognition is skipped and the words are
    spread over the voiced regions only (10-20 s and 30-40 s), in order, and the result says so."""
    heard = heard_of("so you found us market here", start=10.0)
    text = "soy un fantasma que\nse asusta de si mismo\nun hueco dentro de otro hueco"
    out = lyrics.align(lyrics.parse(text), heard, duration=60, voiced=[(10.0, 20.0), (30.0, 40.0)])
    assert len(out.words) == 15 and all(w.timing == "spread" for w in out.words)
    assert all(10.0 <= w.start < 20.0 or 30.0 <= w.start < 40.0 for w in out.words)
    assert out.words[-1].start >= 30.0, "the second region is used too"
    assert "recognition skipped" in (out.alignment or "")


def test_unknown_language_with_lrc_uses_line_times() -> None:
    """LRC lyrics and no usable recognition: each line's words start at or after its own LRC time and
    before the next line's."""
    heard = Lyrics()
    out = lyrics.align(lyrics.parse("[00:05.00]uno dos tres\n[00:09.00]cuatro cinco\n", duration=20), heard,
                       duration=20)  # fmt: skip
    first = [w for w in out.words if w.line == 0]
    second = [w for w in out.words if w.line == 1]
    assert all(5.0 <= w.start < 9.0 for w in first) and all(9.0 <= w.start < 20.0 for w in second)
    assert "LRC line times" in (out.alignment or "")


# --------------------------------------------------------------------------- captions


def test_srt_vtt_and_karaoke_ass() -> None:
    """Two aligned lines: two cues with exact times in SRT and VTT; the ASS has one \\kf per word, the bundled
    font, the palette's saturated bright colour (#E0FF40 -> &H0040FFE0, not the cream #F9E0C1) as the sung
    colour."""
    out = lyrics.align(lyrics.parse("Ask not what\nyour country"), heard_of("ask not what your country"), duration=9)
    srt, vtt = captions.to_srt(out), captions.to_vtt(out)
    assert srt.startswith("1\n00:00:01,000 --> 00:00:02,500\nAsk not what\n\n2\n00:00:02,500 --> ")
    assert vtt.startswith("WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nAsk not what\n")
    ass = captions.to_ass(out, width=1920, height=1080, palette=["#101020", "#E0FF40", "#884422", "#F9E0C1"])
    assert ass.count("\\kf") == 5 and "Style: Karaoke,Roboto," in ass and ",&H0040FFE0," in ass
    assert (captions.font_dir() / "Roboto-Regular.ttf").is_file()


def test_no_cue_outlasts_the_song() -> None:
    """Tried: the last word ends 0.3 s before the song does; its cue would hold 1 s past the word, and the soft
    track made jfk.flac's MP4 11.5 s for 11.0 s of song."""
    out = lyrics.align(lyrics.parse("Ask not what\nyour country"), heard_of("ask not what your country"), duration=9)
    end = out.words[-1].end
    last = captions.cues(out, until=end + 0.3)[-1]
    assert last.end == pytest.approx(end + 0.3)
    assert captions.cues(out)[-1].end == pytest.approx(end + captions.HOLD)  # without a song end: the full hold
    assert captions.to_srt(out, until=end + 0.3).count(" --> ") == 2


def test_instrumental_gets_no_captions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An instrumental transcript: no cues, and no sidecar files are written."""
    assert captions.cues(Lyrics()) == []
    assert captions.write_sidecars(Lyrics(), tmp_path) is None and not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- hallucination guard


def _segment(text: str, start: float, *, prob: float = 0.9, **kw: float) -> dict[str, object]:
    words = text.split()
    seg: dict[str, object] = {"start": start, "end": start + len(words) * 0.4, "text": " " + text,
                              "avg_logprob": -0.3, "no_speech_prob": 0.05, "compression_ratio": 1.3,
                              "words": [(" " + w, start + i * 0.4, start + i * 0.4 + 0.3, prob)
                                        for i, w in enumerate(words)]}  # fmt: skip
    seg.update(kw)
    return seg


def test_guard_drops_stock_phrases_loops_unsure_and_silent_words() -> None:
    """10 s of noise with silence in 6-8 s. Segments: 'Thank you for watching' (stock), an unsure line
    (word probability 0.1), one line repeated 3 times (a loop) -> nothing at all; then a real line plus a word
    placed in the silent gap -> the line's words kept, the silent one dropped."""
    rng = np.random.default_rng(0)
    samples = (rng.standard_normal(10 * SAMPLE_RATE) * 0.1).astype(np.float32)
    samples[6 * SAMPLE_RATE : 8 * SAMPLE_RATE] = 0.0
    looped = Heard([_segment("Thank you for watching", 0.0), _segment("la la", 2.0, prob=0.1)]
                   + [_segment("I walk the line", 3.0 + i) for i in range(3)])  # fmt: skip
    assert guard(looped, samples) == ([], [])
    real = Heard([_segment("hold my hand", 1.0), _segment("ghost", 6.5)])
    segments, words = guard(real, samples)
    assert [w.text for w in words] == ["hold", "my", "hand"] and len(segments) == 1


def test_cuts_move_to_lyric_line_starts_on_beats() -> None:
    """Beats every 0.5 s, cuts at 0/4/8/12. Line starts at 4.5 (on a beat, one beat away) and 7.2 (off-beat):
    the 4 s cut moves to 4.5, the 8 s one stays; a line at 11.5 would leave a 0.5 s slot, so that cut stays."""
    from core.timeline import prefer_cuts_at

    beats = [k * 0.5 for k in range(25)]
    moved = prefer_cuts_at([0, 4, 8, 12], [4.5, 7.2, 11.5], beats, reach=1.0, min_len=3.0, max_len=5.0)
    assert moved == [0, 4.5, 8, 12]


def test_lyric_words_become_clip_motifs() -> None:
    """A clip whose sung line names 'rain' and 'guitar' gets the first one not already drawn; Spanish with no
    lexicon word gives none."""
    from providers.offline.planner import lyric_motif

    assert lyric_motif("walking in the rain / my old guitar", "a dancer in a neon city") == "rain"
    assert lyric_motif("walking in the rain / my old guitar", "a dancer in the rain") == "guitar"
    assert lyric_motif("soy un fantasma que", "a city") is None
