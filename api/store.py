"""Redis layout of the gateway, in one place.

    jobs:index              sorted set  job id -> creation time (recent jobs)
    jobs:{id}:meta          hash        request fields, upload facts, flow run id
    jobs:{id}:events        stream      one entry per ProgressEvent, field ``data`` = its JSON; ends with at most
                                        one terminal event (``complete`` / ``error``), after which it is sealed
    jobs:{id}:seen          set         Prefect event ids already appended (the bridge may see an event twice)
    jobs:{id}:terminal      string      stream id of the terminal event

Appends go through one Lua script, so "dedupe, check sealed, XADD, seal" is atomic whichever process (API or any
bridge replica) writes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from core.contracts import ProgressEvent
from core.progress import TERMINAL_EVENTS

STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_U64 = 2**64 - 1


def valid_stream_id(text: str) -> bool:
    """A Redis stream id Redis itself accepts: two unsigned 64-bit integers (``99999999999999999999-0`` is not)."""
    if not STREAM_ID.match(text):
        return False
    ms, _, seq = text.partition("-")
    return int(ms) <= _U64 and int(seq) <= _U64


_APPEND = """
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return false end
if redis.call('EXISTS', KEYS[3]) == 1 then return false end
local id = redis.call('XADD', KEYS[1], '*', 'data', ARGV[2])
if ARGV[3] == '1' then redis.call('SET', KEYS[3], id) end
local ttl = tonumber(ARGV[4])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
if ARGV[3] == '1' then redis.call('EXPIRE', KEYS[3], ttl) end
return id
"""


def _events(job_id: str) -> str:
    return f"jobs:{job_id}:events"


def _meta(job_id: str) -> str:
    return f"jobs:{job_id}:meta"


@dataclass(frozen=True)
class StoredEvent:
    id: str
    event: ProgressEvent


def _decode(entries: Any) -> list[StoredEvent]:
    out = []
    for raw_id, fields in entries:
        sid = raw_id.decode() if isinstance(raw_id, bytes) else raw_id
        data = fields.get(b"data") or fields.get("data") or b"{}"
        event = ProgressEvent.model_validate_json(data).model_copy(update={"event_id": sid})
        out.append(StoredEvent(sid, event))
    return out


class JobStore:
    """Async access to jobs in Redis; shared by the API and the bridge."""

    def __init__(self, redis: Redis, *, ttl_seconds: int = 7 * 24 * 3600) -> None:
        self.redis = redis
        self.ttl = ttl_seconds
        self._append = redis.register_script(_APPEND)

    async def create(self, job_id: str, meta: Mapping[str, str]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(_meta(job_id), mapping=dict[Any, Any](meta))
            pipe.expire(_meta(job_id), self.ttl)
            pipe.zadd("jobs:index", {job_id: time.time()})
            await pipe.execute()

    async def update_meta(self, job_id: str, **fields: str) -> None:
        await self.redis.hset(_meta(job_id), mapping=dict[Any, Any](fields))

    async def delete(self, job_id: str) -> None:
        keys = [_meta(job_id), _events(job_id), f"jobs:{job_id}:seen", f"jobs:{job_id}:terminal"]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(*keys)
            pipe.zrem("jobs:index", job_id)
            await pipe.execute()

    async def meta(self, job_id: str) -> dict[str, str] | None:
        raw = await self.redis.hgetall(_meta(job_id))
        if not raw:
            return None
        return {_s(k): _s(v) for k, v in raw.items()}

    async def recent(self, limit: int = 50) -> list[str]:
        ids: Any = await self.redis.zrevrange("jobs:index", 0, limit - 1)
        return [_s(i) for i in ids]

    async def append(self, event: ProgressEvent, *, source_id: str) -> str | None:
        """Append once per ``source_id``; returns the stream id, or None (duplicate, or the stream is sealed)."""
        job = event.job_id
        data = event.model_dump_json(exclude={"event_id"})
        terminal = "1" if event.status in TERMINAL_EVENTS else "0"
        result = await self._append(
            keys=[_events(job), f"jobs:{job}:seen", f"jobs:{job}:terminal"],
            args=[source_id, data, terminal, self.ttl],
        )
        return _s(result) if result else None

    async def is_sealed(self, job_id: str) -> bool:
        return bool(await self.redis.exists(f"jobs:{job_id}:terminal"))

    async def history(self, job_id: str, after: str = "0") -> list[StoredEvent]:
        """Every event after ``after`` (exclusive), in order."""
        start = "-" if after in ("0", "0-0") else f"({after}"
        entries: Any = await self.redis.xrange(_events(job_id), min=start)
        return _decode(entries)

    async def follow(
        self, job_id: str, after: str, *, block_ms: int | None = 10_000, count: int = 100
    ) -> list[StoredEvent]:
        """Events after ``after``; waits up to ``block_ms`` for the next one (XREAD BLOCK; None = do not wait)."""
        reply: Any = await self.redis.xread({_events(job_id): after}, count=count, block=block_ms)
        if not reply:
            return []
        return _decode(reply[0][1])


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
