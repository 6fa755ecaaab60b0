"""Loopback fakes of the vendors (Replicate, OpenAI) for tests, benchmarks and local demos.

In process::

    with serve_replicate(Faults(fail_rate=0.2)) as (fake, url): ...   # REPLICATE base_url=url

From a shell: ``uv run python -m devtools.fakes replicate --port 0 --fail-rate 0.2 --latency 2``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from devtools.fakes.common import Faults, ServerThread
from devtools.fakes.openai import FakeOpenAI
from devtools.fakes.replicate import FakeReplicate

__all__ = ["FakeOpenAI", "FakeReplicate", "Faults", "ServerThread", "serve_openai", "serve_replicate"]


@contextmanager
def serve_replicate(
    faults: Faults | None = None, *, port: int = 0, **kwargs: object
) -> Iterator[tuple[FakeReplicate, str]]:
    fake = FakeReplicate(faults, **kwargs)  # type: ignore[arg-type]
    with ServerThread(fake.app, port=port) as server:
        fake.base_url = server.url
        yield fake, server.url


@contextmanager
def serve_openai(faults: Faults | None = None, *, port: int = 0) -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI(faults)
    with ServerThread(fake.app, port=port) as server:
        yield fake, f"{server.url}/v1"
