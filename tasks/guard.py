"""Before any paid call: keys present, the job priced and fitted into its budget, provider limits in place."""

from __future__ import annotations

from prefect import task
from prefect.client.orchestration import get_client

from core import budget
from core.errors import AudioError
from core.media import probe
from core.settings import Settings, get_settings, require_key
from core.stages import PROVIDER_KINDS
from providers.registry import get_provider
from tasks.common import local_file, report


def paid_providers(settings: Settings) -> dict[str, str]:
    paid = settings.providers.paid()
    return {kind: paid[kind] for kind in PROVIDER_KINDS if kind in paid}


def require_keys(settings: Settings) -> None:
    """Fail in a moment, naming the variable, instead of after the audio analysis."""
    chosen = set(paid_providers(settings).values())
    if "openai" in chosen:
        require_key(settings.openai)
    if "replicate" in chosen:
        require_key(settings.replicate)


def ensure_limits(settings: Settings) -> dict[str, int]:
    """Upsert (idempotent) the global concurrency limit of every selected provider that declares one."""
    limits: dict[str, int] = {}
    for kind, name in paid_providers(settings).items():
        key = get_provider(kind, name).concurrency_key
        if key is not None:
            limits[key] = settings.replicate.max_parallel if key == "replicate" else settings.clip_parallelism
    if limits:
        with get_client(sync_client=True) as client:
            for key, limit in limits.items():
                client.upsert_global_concurrency_limit_by_name(key, limit)
    return limits


@task(name="budget_guard", task_run_name="budget_guard")
def check_budget(job_id: str, audio_uri: str, duration_hint: float | None = None) -> budget.Estimate | None:
    """Price the job from the audio length before spending; fit it into the budget or refuse (BudgetError).

    Offline jobs cost nothing: no estimate, no ledger, no concurrency limits.
    """
    settings = get_settings()
    if not paid_providers(settings):
        return None
    require_keys(settings)
    duration = probe(local_file(audio_uri), error=AudioError).audio_duration
    est = budget.fit(duration, settings, duration_hint=duration_hint)
    budget.open_job(job_id, est.hard_cap)
    ensure_limits(settings)
    notes = f"; {'; '.join(est.notes)}" if est.notes else ""
    report(job_id, "job", "running", 0,
           f"Estimated ${est.total:.2f} (budget ${est.budget:.2f}, hard cap ${est.hard_cap:.2f}){notes}")  # fmt: skip
    return est
