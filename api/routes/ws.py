"""WS /ws/jobs/{job_id}?last_event_id=...: the job's events from its Redis Stream, resumable, in order, each with
the job's status after it (``{"event": ProgressEvent, "status": JobStatus}``): clients render, they never fold.

Live events come from the process's one reader (``api/hub.py``), never from a Redis connection per socket. Close
codes: 1000 after the terminal event, 1008 (before accept: HTTP 403) for a wrong token or a foreign Origin, 4400 for
a bad job id or ``last_event_id``, 4404 for an unknown job, 4429 over a socket cap, 1011 when Redis is down.
Messages from the client are ignored, text or binary.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import UUID

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from redis.exceptions import RedisError

from api.deps import origin_ok, ws_token_ok
from api.hub import TOO_MANY, Hub
from api.jobstate import with_meta
from api.schemas import JobUpdate
from api.store import JobStore, StoredEvent, valid_stream_id
from core.progress import TERMINAL_EVENTS, JobFold

router = APIRouter()


@router.websocket("/ws/jobs/{job_id}")
async def job_events(websocket: WebSocket, job_id: str, last_event_id: str = "0") -> None:
    """Send every event after ``last_event_id`` (all of them by default), then follow live; close after the
    terminal event (``complete`` / ``error``). Each message is a JobUpdate; its event's ``event_id`` resumes it."""
    if not origin_ok(websocket):
        await websocket.close(code=1008, reason="origin not allowed")  # before accept: HTTP 403
        return
    if not ws_token_ok(websocket):
        await websocket.close(code=1008, reason="missing or wrong bearer token")  # before accept: HTTP 403
        return
    store: JobStore = websocket.app.state.store
    hub: Hub = websocket.app.state.hub
    protocol = "bearer" if "bearer" in websocket.scope.get("subprotocols", []) else None
    await websocket.accept(subprotocol=protocol)
    try:
        jid = str(UUID(job_id))
    except ValueError:
        await websocket.close(code=4400, reason="job ids are UUIDs")
        return
    if last_event_id != "0" and not valid_stream_id(last_event_id):
        await websocket.close(code=4400, reason="last_event_id must be a stream id like 1700000000000-0")
        return
    client = websocket.client.host if websocket.client else "?"
    try:
        meta = await store.meta(jid)
        if meta is None:
            await websocket.close(code=4404, reason=f"no job {jid}")
            return
        # checked with no await before subscribe() takes the slot: sockets arriving together cannot all pass
        if refusal := hub.refusal(jid, client):
            await websocket.close(code=TOO_MANY, reason=refusal)
            return
        disconnected = asyncio.ensure_future(_until_disconnect(websocket))
        try:
            async with hub.subscribe(jid, client) as sub:
                await _pump(websocket, store, jid, meta, last_event_id, sub.queue, disconnected)
        finally:
            disconnected.cancel()
    except RedisError:  # the job store went away: a clear close the client may retry, not 1006 and a traceback
        with contextlib.suppress(RuntimeError):
            await websocket.close(code=1011, reason="the job store is unavailable: reconnect shortly")


async def _until_disconnect(websocket: WebSocket) -> None:
    try:
        while True:  # clients have nothing to say; this only notices the close (text and binary alike are dropped)
            message = await websocket.receive()
            if message.get("type") == "websocket.disconnect":
                return
    except (WebSocketDisconnect, RuntimeError):
        return


async def _pump(
    websocket: WebSocket,
    store: JobStore,
    jid: str,
    meta: dict[str, str],
    cursor: str,
    live: asyncio.Queue[StoredEvent],
    disconnected: asyncio.Future[None],
) -> None:
    folder = JobFold()  # the status after each event needs every event before it, sent or not
    sealed = await store.is_sealed(jid)
    history = await store.history(jid)  # after subscribing: together with the live queue, nothing is missed

    async def send(item: StoredEvent) -> bool:
        """Fold and send ``item`` unless already sent; True after the terminal event."""
        nonlocal cursor
        if cursor != "0" and _stream_pos(item.id) <= _stream_pos(cursor):
            return False
        folder.apply(item.event, item.id)
        update = JobUpdate(event=item.event, status=with_meta(jid, folder.snapshot(), meta))
        await websocket.send_text(update.model_dump_json())
        cursor = item.id
        return item.event.status in TERMINAL_EVENTS

    for item in history:
        if cursor != "0" and _stream_pos(item.id) <= _stream_pos(cursor):
            folder.apply(item.event, item.id)  # already sent on an earlier connection: fold, do not send
            continue
        if await send(item):
            await websocket.close(code=1000)
            return
    if sealed:  # resumed after the terminal event: nothing more will come
        await websocket.close(code=1000)
        return
    while not disconnected.done():
        get = asyncio.ensure_future(live.get())
        waiters: list[asyncio.Future[Any]] = [get, disconnected]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if not get.done():
            get.cancel()
            return
        if await send(get.result()):
            await websocket.close(code=1000)
            return


def _stream_pos(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)
