"""What both fake vendors share: fault injection, the call record, running on a loopback port in a thread."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI


@dataclass
class Faults:
    """Failure and latency model. Rates are probabilities per request; ``script`` overrides them in order.

    script entries: "ok", "429", "500", "503", "timeout" (slow beyond the client's patience is up to the
    caller), and for predictions "failed"; for chat "malformed", "truncated".
    """

    fail_rate: float = 0.0  # transient HTTP errors on create (half 429, half 503)
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    failed_rate: float = 0.0  # predictions that end "failed" (a permanent model error)
    malformed_rate: float = 0.0  # chat replies that do not validate against the schema
    truncated_rate: float = 0.0  # chat replies cut off (finish_reason "length")
    latency: float = 0.0  # seconds (scaled) a prediction runs: uniform(latency, latency_max)
    latency_max: float | None = None
    time_scale: float = 1.0  # reported predict_time = sleep x time_scale (simulate 30-150 s in 0.6-3 s)
    slow_rate: float = 0.0  # requests answered after ``slow_seconds``
    slow_seconds: float = 0.0
    retry_after: float | None = 1.0  # the Retry-After header (seconds) of a chat 429; None sends none
    seed: int | None = None
    script: deque[str] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.lock = threading.Lock()

    def draw(self, kinds: tuple[str, ...]) -> str:
        """The fate of the next request: a scripted entry, else one drawn from the rates."""
        with self.lock:
            if self.script:
                return self.script.popleft()
            r = self.rng.random()
            table = [("429", self.rate_429 + self.fail_rate / 2), ("503", self.rate_5xx + self.fail_rate / 2)]
            table += [(k, getattr(self, f"{k}_rate")) for k in kinds]
            for name, p in table:
                if r < p:
                    return name
                r -= p
            return "ok"

    def runtime(self) -> float:
        with self.lock:
            top = self.latency_max if self.latency_max is not None else self.latency
            return self.rng.uniform(self.latency, max(self.latency, top))

    def maybe_slow(self) -> None:
        with self.lock:
            slow = self.slow_rate > 0 and self.rng.random() < self.slow_rate
        if slow:
            time.sleep(self.slow_seconds)


def redact(value: Any) -> Any:
    """Inputs as recorded: data URIs shortened to their type and size."""
    if isinstance(value, str) and value.startswith("data:"):
        head = value.split(",", 1)[0]
        return f"<{head} {len(value)} chars>"
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class ServerThread:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (a free port unless given) in a daemon thread."""

    def __init__(self, app: FastAPI, *, port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_keep_alive=30)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
