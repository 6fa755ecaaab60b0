"""The events bridge: ``python -m api.bridge``. Prefect events -> one Redis Stream per job.

It subscribes to the Prefect server's event stream (needs a real ``prefect server start``: an ephemeral server's
broker is per process) for every job at once:

    videogen.progress.<stage>   resource videogen.job.<id>           the tasks' ProgressEvents, copied as they are
    prefect.flow-run.<State>    related tag videogen-job-<id>         Running -> job running; Completed / Failed /
                                                                     Crashed / Cancelled -> a terminal event, but only
                                                                     if the flow did not send its own within
                                                                     ``terminal_grace`` seconds (it normally does)
    prefect.task-run.<State>    related tag videogen-job-<id>         retries and crashes of a stage's task

Appends are idempotent per Prefect event id (``JobStore.append``), so a reconnect's backfill, a restart's catch-up
and several bridge replicas never duplicate an event. On start it replays the server's stored events since its
last checkpoint, so events emitted while it was down are not lost.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import signal
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prefect.events import Event
from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventAnyResourceFilter, EventFilter, EventNameFilter, EventOccurredFilter, EventOrder
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_KEY, PREFECT_API_URL
from pydantic import ValidationError
from redis.asyncio import Redis

from api.errors import public
from api.jobstate import crash_message
from api.store import JobStore
from core.contracts import ProgressEvent
from core.progress import EVENT_PREFIX, JOB_RESOURCE_PREFIX, JOB_TAG_PREFIX
from core.settings import Settings, get_settings
from core.stages import stage_of_task

log = logging.getLogger("videogen.bridge")

JOB_RESOURCE = JOB_RESOURCE_PREFIX
JOB_TAG = f"prefect.tag.{JOB_TAG_PREFIX}"  # how Prefect names a flow run's tag among an event's related resources
CHECKPOINT = "bridge:checkpoint"
_EXIT_STATUS = "exited with status code"  # Prefect's words for a flow-run process that died
CATCH_UP_PAGE = 50  # the server refuses (422) pages larger than its INTERACTIVE_PAGE_SIZE
SHUTDOWN_GRACE = 5.0  # s a signalled bridge may take to stop cleanly before it exits anyway
FLOW_TERMINAL = {
    "Completed": "complete",
    "Failed": "error",
    "Crashed": "error",
    "Cancelled": "error",
    "TimedOut": "error",
}


def events_filter(since: datetime | None = None) -> EventFilter:
    flt = EventFilter(
        event=EventNameFilter(prefix=[EVENT_PREFIX, "prefect.flow-run.", "prefect.task-run."]),
        any_resource=EventAnyResourceFilter(id_prefix=[JOB_RESOURCE, JOB_TAG]),
        order=EventOrder.ASC,
    )
    if since is not None:
        flt.occurred = EventOccurredFilter(since=since, until=datetime.now(UTC) + timedelta(days=1))
    return flt


def job_id_of(event: Event) -> str | None:
    if event.resource.id.startswith(JOB_RESOURCE):
        return event.resource.id[len(JOB_RESOURCE) :]
    for related in event.related:
        if related.id.startswith(JOB_TAG):
            return related.id[len(JOB_TAG) :]
    return None


def _state_message(event: Event) -> str:
    validated: dict[str, Any] = event.payload.get("validated_state") or {}
    return str(validated.get("message") or "")


def translate(event: Event) -> tuple[ProgressEvent, bool] | None:
    """The ProgressEvent a Prefect event stands for, and whether it is a deferred (fallback) terminal event."""
    job_id = job_id_of(event)
    if job_id is None:
        return None
    name = event.event
    if name.startswith(EVENT_PREFIX):
        try:
            progress = ProgressEvent.model_validate(event.payload)
        except ValidationError:
            log.warning("ignoring malformed progress event %s", event.id)
            return None
        return (progress, False) if progress.job_id == job_id else None
    state = name.rsplit(".", 1)[-1]
    at = event.occurred
    if name.startswith("prefect.flow-run."):
        if state == "Running":
            return ProgressEvent(job_id=job_id, stage="job", status="running", progress=0,
                                 message="Flow run started", timestamp=at), False  # fmt: skip
        if state in FLOW_TERMINAL:
            status = FLOW_TERMINAL[state]
            message = _state_message(event) or f"Flow run {state.lower()}"
            if state in ("Crashed", "Cancelled") or _EXIT_STATUS in message:
                message = crash_message(state, message)
            message = public(message)
            return ProgressEvent(job_id=job_id, stage="job", status=status, progress=100 if status == "complete" else 0,
                                 message=message, timestamp=at), True  # fmt: skip
        return None
    if name.startswith("prefect.task-run."):
        task_name = event.resource.get("prefect.resource.name") or ""
        spec = stage_of_task(task_name)
        if spec is None:
            return None
        stage = spec.id
        if state in ("AwaitingRetry", "Retrying"):
            message = f"{task_name}: retrying after {_state_message(event) or 'a transient error'}"
            return ProgressEvent(job_id=job_id, stage=stage, status="running", progress=0, message=message,
                                 timestamp=at), False  # fmt: skip
        if state == "Crashed":
            message = f"{task_name} crashed: {crash_message(state, _state_message(event))}"
            return ProgressEvent(job_id=job_id, stage=stage, status="failed", progress=100, message=message,
                                 timestamp=at), False  # fmt: skip
    return None


def _auth_headers() -> dict[str, str]:
    """What Prefect's own client sends: a Cloud API key, or basic auth for a server started with an auth string."""
    if key := PREFECT_API_KEY.value():
        return {"Authorization": f"Bearer {key.get_secret_value() if hasattr(key, 'get_secret_value') else key}"}
    if auth := PREFECT_API_AUTH_STRING.value():
        secret = auth.get_secret_value() if hasattr(auth, "get_secret_value") else auth
        return {"Authorization": "Basic " + base64.b64encode(str(secret).encode()).decode()}
    return {}


class Bridge:
    def __init__(self, store: JobStore, *, grace: float) -> None:
        self.store = store
        self.grace = grace
        self._pending: set[asyncio.Task[None]] = set()
        self.appended = 0

    async def handle(self, event: Event) -> None:
        translated = translate(event)
        if translated is not None:
            progress, deferred = translated
            if deferred:
                task = asyncio.create_task(self._later(progress, str(event.id)))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
            elif await self.store.append(progress, source_id=str(event.id)):
                self.appended += 1
        await self.store.redis.set(CHECKPOINT, event.occurred.isoformat())

    async def _later(self, progress: ProgressEvent, source_id: str) -> None:
        await asyncio.sleep(self.grace)
        if await self.store.append(progress, source_id=source_id):
            log.info("job %s: no final event from the flow; synthesised %s", progress.job_id, progress.status)

    async def catch_up(self, api_url: str) -> int:
        """Replay stored events since the checkpoint (minus a margin): what happened while the bridge was down."""
        raw = await self.store.redis.get(CHECKPOINT)
        if not raw:
            return 0
        since = datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else raw) - timedelta(minutes=1)
        body = {"filter": events_filter(since).model_dump(mode="json"), "limit": CATCH_UP_PAGE}
        seen = 0
        async with httpx.AsyncClient(base_url=api_url.rstrip("/") + "/", timeout=30, headers=_auth_headers()) as http:
            resp = await http.post("events/filter", json=body)
            while True:
                resp.raise_for_status()
                page = resp.json()
                for item in page.get("events", []):
                    await self.handle(Event.model_validate(item))
                    seen += 1
                next_page = page.get("next_page")
                if not next_page:
                    return seen
                resp = await http.get(next_page)

    async def _catch_up_later(self, api_url: str, delays: tuple[float, ...]) -> None:
        for wait in delays:
            await asyncio.sleep(wait)
            try:
                if replayed := await self.catch_up(api_url):
                    log.info("bridge: late catch-up replayed %d stored events", replayed)
            except httpx.HTTPError as exc:
                log.warning("bridge: late catch-up failed: %s", exc)

    async def run(self, stop: asyncio.Event) -> None:
        api_url = PREFECT_API_URL.value()
        if not api_url:
            raise SystemExit("PREFECT_API_URL is not set: the bridge needs a running `prefect server start`")
        delay = 1.0
        while not stop.is_set():
            try:
                try:
                    replayed = await self.catch_up(api_url)
                    log.info("bridge: replayed %d stored events; following the live stream", replayed)
                except httpx.HTTPError as exc:  # a failed replay must not keep the live stream from starting
                    log.warning("bridge: catch-up failed (%s); the subscriber's backfill covers the last minute", exc)
                async with get_events_subscriber(filter=events_filter(), reconnection_attempts=1000) as sub:
                    print(f"bridge: following Prefect events at {api_url} -> Redis", flush=True)
                    delay = 1.0
                    # The server persists events asynchronously: ones emitted just before we subscribed may not
                    # have been readable at catch-up yet. Replay again shortly (appends are idempotent).
                    late = asyncio.create_task(self._catch_up_later(api_url, (3.0, 10.0)))
                    try:
                        async for event in sub:
                            await self.handle(event)
                            if stop.is_set():
                                break
                    finally:
                        late.cancel()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Prefect or Redis restarting: retry with backoff, never die
                log.warning("bridge: %s: %s; retrying in %.0f s", type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)


async def main(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    redis = Redis.from_url(settings.api.redis_url)
    bridge = Bridge(
        JobStore(redis, ttl_seconds=int(settings.api.event_ttl_hours * 3600)), grace=settings.api.terminal_grace
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    runner = asyncio.create_task(bridge.run(stop))

    def shut_down() -> None:
        # Cancel, and do not wait for ever: a websocket close handshake or a reconnect loop inside Prefect's
        # subscriber can hold the cancellation for tens of seconds (seen once in 3 runs of `make up` + SIGHUP).
        runner.cancel()
        loop.call_later(SHUTDOWN_GRACE, os._exit, 0)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, shut_down)
    try:
        await runner
    except asyncio.CancelledError:
        pass
    finally:
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
