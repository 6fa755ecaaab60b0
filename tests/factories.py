"""Hand-built stage inputs, so planner/prompt tests need no audio decoding."""

from __future__ import annotations

from core.contracts import AudioAnalysis, AudioValidation, Boundary, JobRequest, Section


def make_analysis(
    *,
    duration: float = 30.0,
    tempo: float = 120.0,
    energy: list[float] | None = None,
    bar_beats: int = 8,
    sections: list[tuple[float, float, int]] | None = None,
) -> AudioAnalysis:
    """A steady beat grid, cuts every ``bar_beats`` beats, an energy curve sampled every 0.5 s."""
    period = 60.0 / tempo
    beats = [round(i * period, 4) for i in range(int(duration / period))]
    cuts = [b for i, b in enumerate(beats) if i and i % bar_beats == 0 and b < duration - 2]
    edges = [0.0, *cuts, duration]
    bounds = [
        Boundary(index=i, start=a, end=b, duration=round(b - a, 6))
        for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False))
    ]
    curve = energy or [0.5] * int(duration / 0.5)
    secs = [Section(start=a, end=b, label=lab, energy=0.5) for a, b, lab in (sections or [(0.0, duration, 0)])]
    return AudioAnalysis(
        source="file:///song.ogg",
        sha256="0" * 64,
        format="ogg",
        duration=duration,
        sample_rate=22050,
        tempo=tempo,
        beats=beats,
        downbeats=beats[::4],
        beat_strength=[0.8 if i % 4 == 0 else 0.4 for i in range(len(beats))],
        beat_confidence=0.9,
        energy=sum(curve) / len(curve),
        energy_curve=curve,
        energy_hop=0.5,
        sections=secs,
        boundaries=bounds,
        validation=AudioValidation(
            beats_detected=True,
            boundaries_valid=True,
            min_clip_duration=min(b.duration for b in bounds),
            max_clip_duration=max(b.duration for b in bounds),
            cuts_on_beats=True,
        ),
    )


def make_request(prompt: str = "a neon city at night, a dancer in the rain", **kw: object) -> JobRequest:
    return JobRequest(audio_uri="file:///song.ogg", prompt=prompt, **kw)  # type: ignore[arg-type]
