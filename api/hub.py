"""One blocking reader per API process for every followed job stream, fanned out to the WebSockets.

A WebSocket used to hold a pooled Redis connection in ``XREAD BLOCK`` for its whole life: about a hundred sockets
emptied the pool and every route answered 500. Now each socket subscribes here and waits on its own queue; one
task with one connection of its own (not the pool's) reads all followed streams in a single ``XREAD BLOCK``.

    subscribe(job)     registers the job, starting the reader's cursor at the stream's newest id *now*, so a
                       subscriber that then reads the history (XRANGE, from the pool, briefly) misses nothing
                       between the two; it drops what it has already seen by id
    the reader         XREAD BLOCK over every registered stream; a new registration wakes it (a private stream)

Sockets are capped per job and per client (``VIDEOGEN_API__WS_MAX_PER_JOB`` / ``__WS_MAX_PER_CLIENT``): the
refused ones are closed with 4429.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

from api.store import StoredEvent, _decode, _events

log = logging.getLogger("videogen.api")

BLOCK_MS = 5_000
TOO_MANY = 4429  # WebSocket close code: over a socket cap


class Subscription:
    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.queue: asyncio.Queue[StoredEvent] = asyncio.Queue()


class Hub:
    """Fan-out of job event streams; ``start()`` in the app's lifespan, ``stop()`` at shutdown."""

    def __init__(self, redis_url: str, *, max_per_job: int, max_per_client: int) -> None:
        # one connection, ours alone: a blocking read must never wait for (or starve) the pool
        self.redis = Redis.from_url(redis_url, socket_timeout=BLOCK_MS / 1000 + 30, socket_connect_timeout=5,
                                    max_connections=1)  # fmt: skip
        self.max_per_job, self.max_per_client = max_per_job, max_per_client
        self.wake_key = f"api:hub:{uuid.uuid4().hex}"
        self.subs: dict[str, set[Subscription]] = {}
        self.cursors: dict[str, str] = {}
        self._ready: dict[str, asyncio.Event] = {}
        self.per_client: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None
        self._waker: Redis | None = None

    def start(self, pool_client: Redis) -> None:
        """Bind to the app's pooled client; the reader starts with the first subscriber."""
        self._waker = pool_client

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        with contextlib.suppress(Exception):
            await self.redis.aclose()

    def refusal(self, job_id: str, client: str) -> str | None:
        """Why another socket for ``job_id`` from ``client`` is refused, or None."""
        if len(self.subs.get(job_id, ())) >= self.max_per_job:
            return f"too many sockets on this job (the limit is {self.max_per_job})"
        if self.per_client[client] >= self.max_per_client:
            return f"too many sockets from this client (the limit is {self.max_per_client})"
        return None

    @contextlib.asynccontextmanager
    async def subscribe(self, job_id: str, client: str) -> AsyncIterator[Subscription]:
        sub = Subscription(job_id)
        first = job_id not in self.subs
        self.subs.setdefault(job_id, set()).add(sub)
        self.per_client[client] += 1
        try:
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._run())
            if first:
                ready = self._ready[job_id] = asyncio.Event()
                try:
                    await self._register(job_id)
                finally:
                    ready.set()
            else:  # the reader's cursor for this job must exist before this subscriber reads the history
                await self._ready[job_id].wait()
            yield sub
        finally:
            self.per_client[client] -= 1
            if self.per_client[client] <= 0:
                del self.per_client[client]
            subs = self.subs.get(job_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self.subs[job_id]
                    self.cursors.pop(job_id, None)
                    self._ready.pop(job_id, None)

    async def _register(self, job_id: str) -> None:
        assert self._waker is not None
        newest: Any = await self._waker.xrevrange(_events(job_id), count=1)
        cursor = newest[0][0] if newest else b"0-0"
        self.cursors.setdefault(job_id, cursor.decode() if isinstance(cursor, bytes) else cursor)
        async with self._waker.pipeline(transaction=False) as pipe:
            pipe.xadd(self.wake_key, {"j": job_id}, maxlen=10, approximate=True)
            pipe.expire(self.wake_key, 3600)
            await pipe.execute()

    async def _run(self) -> None:
        wake_cursor = "$"
        delay = 0.5
        while True:
            streams = {_events(j): c for j, c in self.cursors.items()}
            streams[self.wake_key] = wake_cursor
            try:
                reply: Any = await self.redis.xread(streams, block=BLOCK_MS, count=100)  # type: ignore[arg-type]
                delay = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarting: the sockets wait, the reader retries
                log.warning("hub: %s: %s; retrying in %.1f s", type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            for raw_key, entries in reply or []:
                key = raw_key.decode() if isinstance(raw_key, bytes) else raw_key
                if key == self.wake_key:
                    last = entries[-1][0]
                    wake_cursor = last.decode() if isinstance(last, bytes) else last
                    continue
                job_id = key.split(":")[1]
                if job_id not in self.cursors:
                    continue
                try:
                    events = _decode(entries)
                except ValueError:
                    log.warning("hub: undecodable entry in %s", key)
                    continue
                if events:
                    self.cursors[job_id] = events[-1].id
                for sub in list(self.subs.get(job_id, ())):
                    for item in events:
                        sub.queue.put_nowait(item)
