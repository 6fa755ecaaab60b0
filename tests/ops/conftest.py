"""Operations tests: a real `prefect server start`, the `videogen` process pool with real workers, and moto's
standalone S3 server, all on loopback ports and private to this suite (the API suites share another server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.workers import MotoS3, PrefectPool, prefect_server


@pytest.fixture(scope="session")
def moto_s3(session_dir: Path) -> Iterator[MotoS3]:
    s3 = MotoS3(session_dir / "moto")
    try:
        yield s3.start()
    finally:
        s3.stop()


@pytest.fixture(scope="session")
def prefect_pool(session_dir: Path) -> Iterator[PrefectPool]:
    """One Prefect server for the suite, with prefect.yaml deployed to the `videogen` pool (no workers yet) and the
    zombie-run automation (60 s without a heartbeat: faster than production's 90 s, still 2 heartbeats)."""
    pool = PrefectPool(session_dir / "ops")
    try:
        pool.start()
        pool.deploy_all()
        pool.videogen("infra", "apply-automations", "--within", "60")
        yield pool
    finally:
        pool.stop()


@pytest.fixture()
def on_pool(prefect_pool: PrefectPool) -> Iterator[PrefectPool]:
    """In-process Prefect clients (get_client, run_deployment, flows called here) talk to the suite's server."""
    with prefect_server(prefect_pool.api_url):
        yield prefect_pool
