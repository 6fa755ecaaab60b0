"""Cost before spending: estimate a job, fit it into the budget, and never pass the hard cap while it runs.

``estimate`` prices a configuration from the audio length alone (no paid call); ``fit`` returns the best
configuration within budget (same model at a lower resolution, longer clips, then cheaper models) or raises
BudgetError; ``Ledger`` tracks one job's spend and reserves each paid call's worst case before it is made, in a store
every process of the job shares (``core.ledger``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic import BaseModel, ConfigDict, Field

from core import pricing
from core.catalog import HEIGHTS, VIDEO_MODELS, video_model
from core.errors import BudgetError
from core.ledger import TTL, LedgerStore, MemoryLedger, Totals, store_for
from core.reference import MAX_CHARACTERS
from core.settings import FREE_PROVIDERS, Settings, get_settings

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


def check_extra(spent: float, extra: float, budget: float, cap: float, what: str) -> str | None:
    """More spending on a finished job (director mode's variants): refused (BudgetError) past the hard cap; a
    warning when it passes the budget; None when it fits."""
    if spent + extra > cap + 1e-9:
        raise BudgetError(f"{what} (${extra:.2f}) would bring the job to ${spent + extra:.2f}, past its hard cap "
                          f"${cap:.2f}")  # fmt: skip
    if spent + extra > budget + 1e-9:
        return f"{what} (${extra:.2f}) brings the job to ${spent + extra:.2f}, over its budget ${budget:.2f}"
    return None


def budget_for(duration: float, settings: Settings) -> tuple[float, float]:
    """(budget, hard cap) in USD for a song of ``duration`` seconds."""
    budget = settings.budget.per_minute * duration / 60
    cap = settings.budget.hard_cap if settings.budget.hard_cap is not None else budget
    return budget, cap


def clip_count(duration: float, settings: Settings, duration_hint: float | None = None) -> int:
    """How many beat-aligned clips the audio analysis will cut (it targets this length, within min/max)."""
    a = settings.audio
    target = min(a.max_clip, max(a.min_clip, duration_hint or a.target_clip))
    return max(a.clips_at_least(duration), round(duration / target))


AUTO = "auto"  # VIDEOGEN_REPLICATE__VIDEO_MODEL=auto: the guard picks the model


def configured_video(settings: Settings, duration: float | None = None) -> VideoChoice | None:
    """The user's choice of model and resolution; with ``auto``, the best resolution that fits the budget for a
    song of ``duration`` seconds, cheapest first (the cheapest of all when nothing fits: ``fit`` then refuses)."""
    if settings.providers.video != "replicate":
        return None
    if settings.replicate.video_model == AUTO:
        options = [c for _, c in _candidates(duration or 60.0, settings, None)]
        fitting = [c for c in options if c.fits] or sorted(options, key=lambda c: c.total)
        return fitting[0].video
    model = video_model(settings.replicate.video_model)
    return VideoChoice(model=model.name, resolution=settings.replicate.video_resolution or model.default_resolution)


def estimate(
    duration: float,
    settings: Settings,
    *,
    video: VideoChoice | None = None,
    duration_hint: float | None = None,
    slots: Sequence[float] | None = None,
) -> Estimate:
    """Price a job from the audio duration and the selected providers/models, without calling anything.
    ``slots`` (a storyboard's clip lengths) prices those clips instead of the count the analysis would cut."""
    p = settings.providers
    video = video or configured_video(settings, duration)
    n = len(slots) if slots else clip_count(duration, settings, duration_hint)
    slot = duration / n
    lines: list[CostLine] = []
    notes: list[str] = []

    def add(stage: str, provider: str, model: str, calls: int, unit: str, cost: float) -> None:
        if provider not in FREE_PROVIDERS and not pricing.is_priced(model.split()[0]):
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
        k = 1 + MAX_CHARACTERS  # the style image and, at most, one per main character
        add("reference", "replicate", pricing.base_name(m), k, f"{k} images", k * pricing.run_cost(pricing.IMAGE, m))
    if p.prompts == "openai":
        m = settings.openai.prompt_model
        tin, tout = PROMPT_TOKENS_IN + PROMPT_TOKENS_IN_PER_PLAN_CLIP * n, PROMPT_TOKENS_OUT
        add("prompts", "openai", m, n, f"{n * (tin + tout)} tokens", n * pricing.token_cost(m, tin, tout))
    clip_seconds = slot
    if video is not None:
        vm = video_model(video.model)
        clip_seconds = vm.closest_duration(slot)
        lengths = [vm.closest_duration(s) for s in slots] if slots else [clip_seconds] * n
        cost = sum(pricing.video_cost(vm, resolution=video.resolution, duration=d) for d in lengths)
        if not pricing.is_video_priced(vm.name, video.resolution):
            notes.append(f"{vm.name} at {video.resolution}: no price in the catalogue, counted as free")
        unit = f"{sum(lengths):.2f} s in {n} clips" if slots else f"{n} x {clip_seconds:.2f} s"
        add("video", "replicate", f"{vm.name} {video.resolution}", n, unit, cost)
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
    duration: float, settings: Settings, configured: VideoChoice | None
) -> list[tuple[tuple[float, ...], Estimate]]:
    """Every priced configuration we may fall back to, with a preference rank (smaller is better): the configured
    model first (the user's choice), then the best resolution, beat-length clips before longer ones, then the
    cheapest. Resolutions the catalogue has no price for are never picked."""
    options = []
    for name, model in VIDEO_MODELS.items():
        for res in model.resolutions:
            if not pricing.is_video_priced(name, res):
                continue
            for hint in (None, settings.audio.max_clip):
                est = estimate(duration, settings, video=VideoChoice(model=name, resolution=res), duration_hint=hint)
                mine = configured is not None and name == configured.model
                rank = (float(not mine), -HEIGHTS.get(res, 0), float(hint is not None), round(est.total, 6))
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
    """One job's spend, kept in a store that every process of the job reaches (``core.ledger``): the flow, its Dask
    workers and a retry of the run all charge the same record, and reserve is atomic in the store, so parallel
    calls on threads, processes or machines never pass the cap together.

    With ``cap`` the job's record is opened (one that exists keeps what it spent, under the cap given now); without,
    this joins the record as it is. Without ``store`` the ledger is private to this object (in memory).
    """

    def __init__(self, job_id: str, cap: float | None = None, store: LedgerStore | None = None) -> None:
        self.job_id = job_id
        self.store = store if store is not None else MemoryLedger()
        if cap is not None:
            self.store.open(job_id, cap)

    def totals(self) -> Totals:
        found = self.store.read(self.job_id)
        if found is None:
            raise BudgetError(f"job {self.job_id}: its spend record is gone (expired after {TTL / 86400:.0f} days?)")
        return found

    @property
    def cap(self) -> float:
        return self.totals().cap

    @property
    def spent(self) -> float:
        return self.totals().spent

    @property
    def reserved(self) -> float:
        return self.totals().reserved

    @property
    def calls(self) -> int:
        return self.totals().calls

    def reserve(self, amount: float, what: str) -> None:
        """Hold ``amount`` USD for one call, or refuse it (BudgetError) if it could pass the cap."""
        result = self.store.reserve(self.job_id, amount)
        if result is None:  # opened, then gone: never spend blind
            raise BudgetError(f"{what}: job {self.job_id} has no spend record any more")
        granted, t = result
        if not granted:
            raise BudgetError(
                f"{what} (up to ${amount:.4f}) would pass the job's hard cap ${t.cap:.2f} "
                f"(spent ${t.spent:.4f}, ${t.reserved:.4f} in flight)"
            )

    def settle(self, reserved: float, actual: float) -> None:
        self.store.settle(self.job_id, reserved, actual)


class Charge:
    """Handed to a provider around one paid call; it sets ``actual`` from the usage the vendor reports."""

    def __init__(self, reserved: float) -> None:
        self.reserved = reserved
        self.actual = 0.0


#: the job whose ledger paid calls in this context charge; looked up when a call is paid, not when the scope opens,
#: so offline calls never touch the store
_current: ContextVar[str | None] = ContextVar("videogen_job", default=None)


def open_job(job_id: str, cap: float) -> Ledger:
    """Open ``job_id``'s ledger in the configured store with ``cap``; a retry of the run keeps what was spent."""
    return Ledger(job_id, cap, store_for(get_settings()))


def ledger(job_id: str) -> Ledger | None:
    """The job's ledger, from any process (settings + job id); None for a job that never opened one (offline)."""
    store = store_for(get_settings())
    return None if store.read(job_id) is None else Ledger(job_id, store=store)


def close_job(job_id: str) -> None:
    """The run is over, success or not. Nothing is dropped: the record outlives the run so that a retry continues
    from what it spent, and expires ``core.ledger.TTL`` after its last change. A hold whose process died mid-call
    stays counted (the vendor may have charged it)."""


@contextmanager
def job_scope(job_id: str) -> Iterator[None]:
    """Make ``job_id``'s ledger the one paid calls in this thread charge (tasks wrap their provider call)."""
    token = _current.set(job_id)
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def paid_call(worst_case: float, what: str) -> Iterator[Charge]:
    """Reserve ``worst_case`` USD before the call (BudgetError if it could pass the cap), settle the actual cost.

    Outside a job (a provider used on its own), or in a job without a ledger, there is no cap and nothing is recorded.
    """
    job_id = _current.get()
    current = ledger(job_id) if job_id is not None else None
    charge = Charge(worst_case)
    if current is None:
        yield charge
        return
    current.reserve(worst_case, what)
    try:
        yield charge
    finally:
        current.settle(worst_case, charge.actual)
