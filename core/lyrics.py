"""The user's lyrics: read (plain text, one line per lyric line, or LRC with line times), check, and time them.

Timing (:func:`align`) puts every supplied word at a start and an end in the song:

* with usable recognised words (``Lyrics.words`` from the transcriber), a sequence alignment (difflib's
  longest-matching-blocks, on normalised words; look-alike words in replaced runs pair up too) marks the
  supplied words that the recogniser heard as ``matched`` and takes their times; the others are ``interpolated``
  between their matched neighbours, over the voiced time in between;
* when too few words match (a language the model does not know, e.g. Spanish with ``tiny.en``) recognition is
  skipped: the words are ``spread`` over the LRC line times, or else over the song's voiced regions, and
  ``Lyrics.alignment`` says so.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from core.contracts import Lyrics, LyricSegment, LyricWord, WordTiming
from core.errors import LyricsError
from core.limits import MAX_LYRICS_BYTES

#: below this share of supplied words found by the recogniser, its words are not trusted for timing
MIN_MATCHED_SHARE = 0.3
#: a spread or interpolated word lasts at most this long (s)
MAX_WORD = 1.2

_LRC_TAG = re.compile(r"\[(\d{1,3}):(\d{1,2}(?:[.:]\d{1,3})?)\]")
_LRC_META = re.compile(r"^\[[a-z#]+:.*\]$", re.IGNORECASE)  # [ar:Artist], [offset:+200], [#:comment]
_WORD = re.compile(r"[\w']+(?:[-'][\w']+)*")


@dataclass(frozen=True)
class LyricLine:
    text: str
    words: tuple[str, ...]
    start: float | None = None  # LRC line time, seconds


def normalise(word: str) -> str:
    """Lower case, no accents, no punctuation: what two spellings of one word share."""
    folded = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in folded if c.isalnum())


def parse(data: bytes | str, *, duration: float | None = None, max_bytes: int = MAX_LYRICS_BYTES) -> list[LyricLine]:
    """The lyric lines of a plain-text or LRC file; :class:`LyricsError` (one clear sentence) when it is empty,
    binary, longer than ``max_bytes`` or (LRC) times a line past ``duration``."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise LyricsError(f"the lyrics are {len(raw):,} bytes; the limit is {max_bytes:,}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LyricsError("the lyrics are not UTF-8 text (binary data?)") from None
    if any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in text):
        raise LyricsError("the lyrics contain control characters (binary data?)")
    lines: list[LyricLine] = []
    lrc = False
    for row in text.splitlines():
        row = row.strip()
        if _LRC_META.match(row) and not _LRC_TAG.match(row):
            lrc = True
            continue
        times: list[float | None] = [int(m) * 60 + float(s.replace(":", ".")) for m, s in _LRC_TAG.findall(row)]
        lrc = lrc or bool(times)
        body = _LRC_TAG.sub("", row).strip()
        words = tuple(_WORD.findall(body))
        if not words:
            continue
        for t in times or [None]:  # one LRC line may carry several times (a repeated chorus)
            lines.append(LyricLine(body, words, t))
    if not lines:
        raise LyricsError("the lyrics are empty: no words found")
    if lrc:
        if any(line.start is None for line in lines):
            raise LyricsError("LRC lyrics: every lyric line needs a [mm:ss.xx] time")
        late = max(line.start or 0.0 for line in lines)
        if duration is not None and late >= duration:
            raise LyricsError(f"LRC time {_clock(late)} is beyond the song's end ({_clock(duration)})")
        lines.sort(key=lambda line: line.start or 0.0)
    return lines


def _clock(t: float) -> str:
    return f"{int(t // 60)}:{t % 60:05.2f}"


def align(
    lines: list[LyricLine], heard: Lyrics, *, duration: float, voiced: list[tuple[float, float]] | None = None
) -> Lyrics:
    """``heard`` (the transcriber's output) with its words replaced by the supplied ones, each timed.

    ``voiced``: where a voice is (seconds); defaults to the recogniser's segments, else the whole song.
    """
    supplied = [(w, i) for i, line in enumerate(lines) for w in line.words]
    regions = _merge(voiced or [(s.start, s.end) for s in heard.segments])
    if sum(e - s for s, e in regions) < 0.25 * len(supplied):  # no voice heard to speak of: the whole song
        regions = [(0.0, duration)]
    pairs = _match([normalise(w) for w, _ in supplied], [normalise(w.text) for w in heard.words])
    share = len(pairs) / len(supplied)
    timed: list[LyricWord]
    if share >= MIN_MATCHED_SHARE:
        timed = _interpolate(supplied, pairs, heard.words, regions, lines, duration)
        note = (f"aligned to {len(heard.words)} recognised words: {len(pairs)} matched, "
                f"{len(supplied) - len(pairs)} interpolated")  # fmt: skip
    else:
        why = (f"only {len(pairs)} of {len(supplied)} words recognised (language "
               f"{heard.language or 'unknown'} of the model; the lyrics' language is not one it knows?)")  # fmt: skip
        if lines[0].start is not None:
            timed = _spread_lrc(supplied, lines, regions, duration)
            note = f"recognition skipped, {why}: {len(supplied)} words spread over the LRC line times"
        else:
            timed = _spread(supplied, regions, confidence=0.0)
            span = sum(e - s for s, e in regions)
            note = f"recognition skipped, {why}: {len(supplied)} words spread over {span:.0f} s of voiced audio"
    segments = [
        LyricSegment(start=ws[0].start, end=ws[-1].end, text=line.text)
        for i, line in enumerate(lines)
        if (ws := [w for w in timed if w.line == i])
    ]
    for k, seg in enumerate(segments):  # a line ends where the next begins, at the latest (LRC repeats)
        if k + 1 < len(segments) and seg.end > segments[k + 1].start:
            segments[k] = seg.model_copy(update={"end": max(seg.start, segments[k + 1].start)})
    return heard.model_copy(
        update={
            "text": "\n".join(line.text for line in lines),
            "segments": segments,
            "words": timed,
            "instrumental": False,
            "supplied": True,
            "alignment": note,
        }
    )


def _match(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """(supplied index, recognised index) pairs: equal runs, plus look-alike words inside replaced runs."""
    pairs: list[tuple[int, int]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pairs.extend(zip(range(i1, i2), range(j1, j2), strict=True))
        elif op == "replace":
            j = j1
            for i in range(i1, i2):
                for jj in range(j, min(j2, j + 3)):  # a mishearing stays near its place
                    if difflib.SequenceMatcher(None, a[i], b[jj]).ratio() >= 0.6:
                        pairs.append((i, jj))
                        j = jj + 1
                        break
    return pairs


def _merge(regions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for s, e in sorted((s, e) for s, e in regions if e > s):
        if out and s <= out[-1][1] + 0.3:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _clip(regions: list[tuple[float, float]], start: float, end: float) -> list[tuple[float, float]]:
    return [(max(s, start), min(e, end)) for s, e in regions if min(e, end) > max(s, start)]


def _spread(
    words: list[tuple[str, int]],
    regions: list[tuple[float, float]],
    *,
    confidence: float,
    timing: WordTiming = "spread",
) -> list[LyricWord]:
    """Words placed one after another over ``regions``, each taking time in proportion to its letters."""
    if not words:
        return []
    if not regions:
        raise ValueError("no time to spread words over")
    weights = [len(w) + 1 for w, _ in words]
    total_time = sum(e - s for s, e in regions)
    scale = total_time / sum(weights)
    out: list[LyricWord] = []
    r, t = 0, regions[0][0]
    for (w, line), weight in zip(words, weights, strict=True):
        need = weight * scale
        while r < len(regions) - 1 and t >= regions[r][1] - 1e-6:  # next region when this one is used up
            r += 1
            t = regions[r][0]
        start = t
        end = min(regions[r][1], start + need)
        t = start + need if end - start >= need - 1e-6 else regions[r][1]
        end = min(end, start + MAX_WORD)
        out.append(LyricWord(text=w, start=round(start, 3), end=round(max(end, start + 0.05), 3),
                             confidence=confidence, line=line, timing=timing))  # fmt: skip
    return out


def _interpolate(
    supplied: list[tuple[str, int]],
    pairs: list[tuple[int, int]],
    heard: list[LyricWord],
    regions: list[tuple[float, float]],
    lines: list[LyricLine],
    duration: float,
) -> list[LyricWord]:
    matched = dict(pairs)
    out: list[LyricWord | None] = [None] * len(supplied)
    for i, j in matched.items():
        w = heard[j]
        text, line = supplied[i]
        out[i] = LyricWord(text=text, start=w.start, end=w.end, confidence=w.confidence, line=line, timing="matched")
    i = 0
    while i < len(supplied):
        if out[i] is not None:
            i += 1
            continue
        k = i
        while k < len(supplied) and out[k] is None:
            k += 1
        prev, nxt = out[i - 1] if i else None, out[k] if k < len(supplied) else None
        lo = prev.end if prev else (lines[supplied[i][1]].start or (regions[0][0] if regions else 0.0))
        hi = nxt.start if nxt else min(duration, lo + MAX_WORD * (k - i) + 0.5)
        if hi - lo < 0.05 * (k - i):  # no room: squeeze them in after the previous word
            hi = min(duration, lo + 0.05 * (k - i) + 0.05)
        voiced = _clip(regions, lo, hi) or [(lo, hi)]
        run = _spread(supplied[i:k], voiced, confidence=0.0, timing="interpolated")
        out[i:k] = run
        i = k
    return [w for w in out if w is not None]


def _spread_lrc(
    supplied: list[tuple[str, int]], lines: list[LyricLine], regions: list[tuple[float, float]], duration: float
) -> list[LyricWord]:
    """Each line's words over its own time (its start to the next line's), voiced parts first."""
    out: list[LyricWord] = []
    for i, line in enumerate(lines):
        start = line.start or 0.0
        end = min(duration, lines[i + 1].start or duration) if i + 1 < len(lines) else min(duration, start + 6.0)
        words = [(w, n) for w, n in supplied if n == i]
        span = _clip(regions, start, end)
        if sum(e - s for s, e in span) < 0.3 * len(words):
            span = [(start, max(end, start + 0.1))]
        out.extend(_spread(words, span, confidence=0.0))
    return out
