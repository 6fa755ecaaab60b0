"""The one retry layer honours a vendor's Retry-After: the retry condition waits it out (capped), only when the
task will really run again, and never for a permanent error."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from prefect.states import Failed

from core.errors import ProviderError, TransientProviderError
from tasks.common import retry_transient


def _decide(exc: Exception, *, run_count: int = 1, retries: int = 3) -> tuple[bool, float]:
    task: Any = SimpleNamespace(retries=retries)
    run: Any = SimpleNamespace(run_count=run_count)
    started = time.perf_counter()
    retry = retry_transient(task, run, Failed(data=exc))
    return retry, time.perf_counter() - started


def test_retry_after_is_waited_before_the_retry() -> None:
    """Tried: a 429 asking for 0.4 s -> retried after >= 0.4 s; the last attempt (no retry left) and a 400 do not
    wait; a 503 without Retry-After is retried at once (the task's backoff follows either way)."""
    limited = TransientProviderError("429", provider="openai", status=429, retry_after=0.4)
    assert (r := _decide(limited))[0] and r[1] >= 0.4
    assert (r := _decide(limited, run_count=4))[0] and r[1] < 0.2
    assert _decide(TransientProviderError("503", provider="openai", status=503))[1] < 0.2
    assert _decide(ProviderError("400", provider="openai", status=400))[0] is False
