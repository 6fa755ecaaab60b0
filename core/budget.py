"""Cost before spending: estimate a job, fit it into the budget, and never pass the hard cap while it runs.

``estimate`` prices a configuration from the audio length alone (no paid call); ``fit`` returns the best
configuration within budget (same model at a lower resolution, longer clips, then cheaper models) or raises
BudgetError; ``Ledger`` tracks one job's spend and reserves each paid call's worst case before it is made.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic import BaseModel, ConfigDict, Field

from core import pricing
from core.catalog import VIDEO_MODELS, video_model
from core.errors import BudgetError
from core.settings import Settings

# Typical token counts of our prompts (measured on the fake LLM's replies; real models are within ~2x).
PLAN_TOKENS_IN, PLAN_TOKENS_IN_PER_CLIP, PLAN_TOKENS_OUT_PER_CLIP = 900, 60, 160
PROMPT_TOKENS_IN_PER_PLAN_CLIP, PROMPT_TOKENS_IN, PROMPT_TOKENS_OUT = 160, 500, 180


class VideoChoice(BaseModel):
    """The video model and resolution a job uses (the configured one, or a cheaper one the budget chose)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    resolution: str


class CostLine(BaseModel):
    stage: str
    provider: str
    model: str
    calls: int
    unit: str
    cost: float


class Estimate(BaseModel):
    audio_duration: float
    clips: int
    clip_seconds: float = Field(description="length each clip is requested at (the model's closest duration)")
    duration_hint: float | None
    video: VideoChoice | None
    lines: list[CostLine]
    budget: float
    hard_cap: float
    notes: list[str] = Field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(line.cost for line in self.lines)

    @property
    def fits(self) -> bool:
        return self.total <= self.budget + 1e-9


def budget_for(duration: float, settings: Settings) -> tuple[float, float]:
    """(budget, hard cap) in USD for a song of ``duration`` seconds."""
    budget = settings.budget.per_minute * duration / 60
    cap = settings.budget.hard_cap if settings.budget.hard_cap is not None else budget
    return budget, cap


def clip_count(duration: float, settings: Settings, duration_hint: float | None = None) -> int:
    """How many beat-aligned clips the audio analysis will cut (it targets this length, within min/max)."""
    a = settings.audio
    target = min(a.max_clip, max(a.min_clip, duration_hint or a.target_clip))
    return max(a.min_clips, round(duration / target))


def configured_video(settings: Settings) -> VideoChoice | None:
    if settings.providers.video != "replicate":
        return None
    model = video_model(settings.replicate.video_model)
    return VideoChoice(model=model.name, resolution=settings.replicate.video_resolution or model.default_resolution)


def estimate(
    duration: float,
    settings: Settings,
    *,
    video: VideoChoice | None = None,
    duration_hint: float | None = None,
) -> Estimate:
    """Price a job from the audio duration and the selected providers/models, without calling anything."""
    p = settings.providers
    video = video or configured_video(settings)
    n = clip_count(duration, settings, duration_hint)
    slot = duration / n
    lines: list[CostLine] = []
    notes: list[str] = []

    def add(stage: str, provider: str, model: str, calls: int, unit: str, cost: float) -> None:
        if provider != "offline" and not pricing.is_priced(model.split()[0]):
            notes.append(f"{model}: not in the price table (self-hosted?), counted as free")
        lines.append(CostLine(stage=stage, provider=provider, model=model, calls=calls, unit=unit, cost=cost))

    if p.transcription == "replicate":
        m = settings.replicate.whisper_model
        add("audio", "replicate", pricing.base_name(m), 1, "GPU-seconds",
            pricing.run_cost(pricing.TRANSCRIPTION, m, audio=duration))  # fmt: skip
    if p.planner == "openai":
        m = settings.openai.planner_model
        tin, tout = PLAN_TOKENS_IN + PLAN_TOKENS_IN_PER_CLIP * n, PLAN_TOKENS_OUT_PER_CLIP * n
        add("plan", "openai", m, 1, f"{tin + tout} tokens", pricing.token_cost(m, tin, tout))
    if p.reference == "replicate":
        m = settings.replicate.image_model
        add("reference", "replicate", pricing.base_name(m), 1, "image", pricing.run_cost(pricing.IMAGE, m))
    if p.prompts == "openai":
        m = settings.openai.prompt_model
        tin, tout = PROMPT_TOKENS_IN + PROMPT_TOKENS_IN_PER_PLAN_CLIP * n, PROMPT_TOKENS_OUT
        add("prompts", "openai", m, n, f"{n * (tin + tout)} tokens", n * pricing.token_cost(m, tin, tout))
    clip_seconds = slot
    if video is not None:
        vm = video_model(video.model)
        clip_seconds = vm.closest_duration(slot)
        per_clip = pricing.video_cost(vm, resolution=video.resolution, duration=clip_seconds)
        add("video", "replicate", f"{vm.name} {video.resolution}", n, f"{n} x {clip_seconds:.2f} s", n * per_clip)
    budget, cap = budget_for(duration, settings)
    return Estimate(
        audio_duration=duration,
        clips=n,
        clip_seconds=round(clip_seconds, 3),
        duration_hint=duration_hint,
        video=video,
        lines=lines,
        budget=budget,
        hard_cap=cap,
        notes=sorted(set(notes)),
    )


def _candidates(
    duration: float, settings: Settings, configured: VideoChoice
) -> list[tuple[tuple[float, ...], Estimate]]:
    """Every configuration we may fall back to, with a preference rank (smaller is better)."""
    height = {"480p": 480, "512p": 512, "720p": 720, "768p": 768, "1080p": 1080}
    options = []
    for name, model in VIDEO_MODELS.items():
        for res in model.resolutions:
            for hint in (None, settings.audio.max_clip):
                est = estimate(duration, settings, video=VideoChoice(model=name, resolution=res), duration_hint=hint)
                rank = (float(name != configured.model), -height.get(res, 0), float(hint is not None), -est.total)
                options.append((rank, est))
    return sorted(options, key=lambda o: o[0])


def fit(duration: float, settings: Settings, *, duration_hint: float | None = None) -> Estimate:
    """The configured job if it fits the budget, else the best cheaper configuration; BudgetError if none fits."""
    est = estimate(duration, settings, duration_hint=duration_hint)
    if est.fits:
        return est
    per_min = settings.budget.per_minute
    over = (
        f"estimated ${est.total:.2f} for {duration / 60:.2f} min of audio exceeds the budget ${est.budget:.2f} "
        f"(${per_min:.2f}/min)"
    )
    if est.video is None or not settings.budget.downgrade:
        raise BudgetError(f"{over}; raise VIDEOGEN_BUDGET__PER_MINUTE or select cheaper providers")
    for _, candidate in _candidates(duration, settings, est.video):
        if candidate.fits and candidate.video is not None:
            v = candidate.video
            candidate.notes.append(
                f"{over}: using {v.model} at {v.resolution}"
                + (f" with {candidate.clips} longer clips" if candidate.duration_hint else "")
                + f" (${candidate.total:.2f})"
            )
            return candidate
    cheapest = min((c for _, c in _candidates(duration, settings, est.video)), key=lambda c: c.total)
    raise BudgetError(
        f"{over}; even the cheapest configuration ({cheapest.video.model if cheapest.video else '?'} at "
        f"{cheapest.video.resolution if cheapest.video else '?'}) costs ${cheapest.total:.2f}; "
        "raise VIDEOGEN_BUDGET__PER_MINUTE or select cheaper providers"
    )


# --------------------------------------------------------------------------- spend during a run


class Ledger:
    """One job's spend. Thread-safe: parallel clip tasks reserve and settle concurrently."""

    def __init__(self, job_id: str, cap: float) -> None:
        self.job_id = job_id
        self.cap = cap
        self.spent = 0.0
        self.reserved = 0.0
        self.calls = 0
        self._lock = threading.Lock()

    def reserve(self, amount: float, what: str) -> None:
        with self._lock:
            if self.spent + self.reserved + amount > self.cap + 1e-9:
                raise BudgetError(
                    f"{what} (up to ${amount:.4f}) would pass the job's hard cap ${self.cap:.2f} "
                    f"(spent ${self.spent:.4f}, ${self.reserved:.4f} in flight)"
                )
            self.reserved += amount

    def settle(self, reserved: float, actual: float) -> None:
        with self._lock:
            self.reserved = max(0.0, self.reserved - reserved)
            self.spent += actual
            self.calls += 1


class Charge:
    """Handed to a provider around one paid call; it sets ``actual`` from the usage the vendor reports."""

    def __init__(self, reserved: float) -> None:
        self.reserved = reserved
        self.actual = 0.0


_LEDGERS: dict[str, Ledger] = {}
_current: ContextVar[Ledger | None] = ContextVar("videogen_ledger", default=None)


def open_job(job_id: str, cap: float) -> Ledger:
    while len(_LEDGERS) >= 256:  # jobs that failed before closing theirs: forget the oldest
        _LEDGERS.pop(next(iter(_LEDGERS)))
    ledger = _LEDGERS[job_id] = Ledger(job_id, cap)
    return ledger


def ledger(job_id: str) -> Ledger | None:
    return _LEDGERS.get(job_id)


def close_job(job_id: str) -> Ledger | None:
    return _LEDGERS.pop(job_id, None)


@contextmanager
def job_scope(job_id: str) -> Iterator[Ledger | None]:
    """Make ``job_id``'s ledger the one paid calls in this thread charge (tasks wrap their provider call)."""
    token = _current.set(_LEDGERS.get(job_id))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


@contextmanager
def paid_call(worst_case: float, what: str) -> Iterator[Charge]:
    """Reserve ``worst_case`` USD before the call (BudgetError if it could pass the cap), settle the actual cost.

    Outside a job (a provider used on its own) there is no cap and nothing is recorded.
    """
    current = _current.get()
    charge = Charge(worst_case)
    if current is None:
        yield charge
        return
    current.reserve(worst_case, what)
    try:
        yield charge
    finally:
        current.settle(worst_case, charge.actual)
