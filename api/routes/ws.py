"""WS /ws/jobs/{job_id}?last_event_id=...: the job's events from its Redis Stream, resumable, in order, each with
the job's status after it (``{"event": ProgressEvent, "status": JobStatus}``): clients render, they never fold."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api.deps import ws_token_ok
from api.jobstate import with_meta
from api.schemas import JobUpdate
from api.store import STREAM_ID, JobStore
from core.progress import TERMINAL_EVENTS, JobFold

router = APIRouter()

BLOCK_MS = 15_000


@router.websocket("/ws/jobs/{job_id}")
async def job_events(websocket: WebSocket, job_id: str, last_event_id: str = "0") -> None:
    """Send every event after ``last_event_id`` (all of them by default), then follow live; close after the
    terminal event (``complete`` / ``error``). Each message is a JobUpdate; its event's ``event_id`` resumes it."""
    if not ws_token_ok(websocket):
        await websocket.close(code=1008, reason="missing or wrong bearer token")  # before accept: HTTP 403
        return
    store: JobStore = websocket.app.state.store
    await websocket.accept()
    try:
        jid = str(UUID(job_id))
    except ValueError:
        await websocket.close(code=4400, reason="job ids are UUIDs")
        return
    if last_event_id != "0" and not STREAM_ID.match(last_event_id):
        await websocket.close(code=4400, reason="last_event_id must be a stream id like 1700000000000-0")
        return
    meta = await store.meta(jid)
    if meta is None:
        await websocket.close(code=4404, reason=f"no job {jid}")
        return
    disconnected = asyncio.ensure_future(_until_disconnect(websocket))
    try:
        await _pump(websocket, store, jid, meta, last_event_id, disconnected)
    finally:
        disconnected.cancel()


async def _until_disconnect(websocket: WebSocket) -> None:
    try:
        while True:
            await websocket.receive_text()  # clients have nothing to say; this only notices the close
    except (WebSocketDisconnect, RuntimeError):
        return


async def _pump(
    websocket: WebSocket,
    store: JobStore,
    jid: str,
    meta: dict[str, str],
    cursor: str,
    disconnected: asyncio.Future[None],
) -> None:
    folder = JobFold()  # the status after each event needs every event before it, sent or not
    if cursor != "0":
        for item in await store.history(jid):
            if _stream_pos(item.id) > _stream_pos(cursor):
                break
            folder.apply(item.event, item.id)
    while not disconnected.done():
        sealed = await store.is_sealed(jid)
        read = asyncio.ensure_future(store.follow(jid, cursor, block_ms=None if sealed else BLOCK_MS))
        waiters: list[asyncio.Future[Any]] = [read, disconnected]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if not read.done():
            read.cancel()
            return
        batch = read.result()
        for item in batch:
            folder.apply(item.event, item.id)
            update = JobUpdate(event=item.event, status=with_meta(jid, folder.snapshot(), meta))
            await websocket.send_text(update.model_dump_json())
            cursor = item.id
            if item.event.status in TERMINAL_EVENTS:
                await websocket.close(code=1000)
                return
        if sealed and not batch:  # resumed after the terminal event: nothing more will come
            await websocket.close(code=1000)
            return


def _stream_pos(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)
