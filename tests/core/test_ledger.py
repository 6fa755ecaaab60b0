"""Spend ledger backends (memory, file, a real redis-server) and races between OS processes on one job's cap."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import uuid
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from core import budget
from core.errors import BudgetError, ConfigError, TransientProviderError, is_transient
from core.ledger import TTL, FileLedger, LedgerStore, MemoryLedger, Totals, ledger_url, open_store
from core.settings import Settings, get_settings
from devtools.databases import RedisServer
from devtools.stack import free_port
from providers.ledger_redis import RedisLedger

# Racers are forked (instant on a busy machine): separate OS processes that share nothing but the store. The process
# that plays a Dask worker is spawned: a fresh interpreter that inherits only the environment.
FORK, SPAWN = mp.get_context("fork"), mp.get_context("spawn")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("ledger-redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["memory", "file", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "file":
        return f"file://{tmp_path / 'ledger'}"
    server: RedisServer = request.getfixturevalue("redis_server")
    server.client().flushdb()
    return server.url()


@pytest.fixture
def store(store_url: str) -> LedgerStore:
    open_store.cache_clear()  # a fresh memory:// store per test
    return open_store(store_url)


@pytest.fixture(params=["file", "redis"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The backends that more than one process can share."""
    if request.param == "file":
        return f"file://{tmp_path / 'ledger'}"
    server: RedisServer = request.getfixturevalue("redis_server")
    server.client().flushdb()
    return server.url()


# --------------------------------------------------------------------------- each backend on its own


def test_the_rule_admits_a_call_landing_exactly_on_the_cap() -> None:
    # input: cap $1, $0.70 spent and $0.20 in flight; a $0.10 call lands on the cap, $0.11 passes it
    t = Totals(cap=1.0, spent=0.7, reserved=0.2)
    assert t.admits(0.1) and not t.admits(0.11)
    # input: settle a $0.20 hold at $0.15 actual -> the hold goes, the actual is spent, one call more
    after = t.settled(0.2, 0.15)
    assert after.spent == pytest.approx(0.85) and after.reserved == pytest.approx(0.0) and after.calls == 1


def test_reserve_holds_and_settle_replaces_the_hold(store: LedgerStore) -> None:
    # input: cap $1; reserve $0.40 twice (both fit), then $0.30 (0.8 + 0.3 > 1: refused), settle one hold at $0.25
    assert store.open("j", 1.0) == Totals(cap=1.0)
    assert store.reserve("j", 0.4) == (True, Totals(cap=1.0))
    granted, before = store.reserve("j", 0.4) or (None, None)
    assert granted is True and before is not None and before.reserved == pytest.approx(0.4)
    refused = store.reserve("j", 0.3)
    assert refused is not None and refused[0] is False and refused[1].reserved == pytest.approx(0.8)
    store.settle("j", 0.4, 0.25)
    after = store.read("j")
    assert after is not None
    assert after.spent == pytest.approx(0.25) and after.reserved == pytest.approx(0.4) and after.calls == 1
    # the refused $0.30 left no hold behind, and now fits: 0.25 spent + 0.4 held + 0.3 = 0.95
    assert store.reserve("j", 0.3) is not None and store.read("j").reserved == pytest.approx(0.7)  # type: ignore[union-attr]


def test_a_job_without_a_record_is_not_invented(store: LedgerStore) -> None:
    # input: read, reserve and settle on a job nobody opened (an offline job)
    assert store.read("nobody") is None and store.reserve("nobody", 0.01) is None
    store.settle("nobody", 0.01, 0.01)
    assert store.read("nobody") is None


def test_reopening_keeps_the_spend_and_takes_the_new_cap(store: LedgerStore) -> None:
    # input: open with $1, spend $0.60, open again (a retried run) with $1 and then with a raised cap of $2
    store.open("j", 1.0)
    store.reserve("j", 0.6)
    store.settle("j", 0.6, 0.6)
    assert store.open("j", 1.0) == Totals(cap=1.0, spent=0.6, reserved=0.0, calls=1)
    assert store.reserve("j", 0.5) == (False, Totals(cap=1.0, spent=0.6, reserved=0.0, calls=1))
    assert store.open("j", 2.0).spent == pytest.approx(0.6)
    assert store.reserve("j", 0.5) is not None and store.reserve("j", 0.5)[0] is True  # type: ignore[index]


def test_jobs_are_apart(store: LedgerStore) -> None:
    # input: two jobs, one spends its whole cap; a job id with a slash (stays inside the file store's folder)
    store.open("a", 0.1)
    store.open("b/../c", 0.1)
    assert store.reserve("a", 0.1) == (True, Totals(cap=0.1))
    assert store.reserve("b/../c", 0.1) == (True, Totals(cap=0.1))


def test_redis_keys_expire(redis_server: RedisServer) -> None:
    # input: open a job; every change renews the TTL of its key
    store = RedisLedger.from_url(redis_server.url())
    store.open("ttl", 1.0)
    client = redis_server.client()
    assert TTL - 5 < client.ttl(RedisLedger.key("ttl")) <= TTL
    client.expire(RedisLedger.key("ttl"), 100)
    store.reserve("ttl", 0.1)
    assert client.ttl(RedisLedger.key("ttl")) > 100


def test_redis_unreachable_is_transient() -> None:
    # input: a Redis URL on a port nobody listens on
    store = RedisLedger.from_url(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(TransientProviderError, match="spend ledger unreachable") as info:
        store.open("j", 1.0)
    assert is_transient(info.value)


def test_file_records_expire_and_new_jobs_sweep_them(tmp_path: Path) -> None:
    # input: a record last changed two days ago under a one-day TTL, then a new job opening in the same folder
    store = FileLedger(tmp_path, ttl=86400)
    store.open("old", 1.0)
    two_days_ago = time.time() - 2 * 86400
    os.utime(store.path("old"), (two_days_ago, two_days_ago))
    assert store.read("old") is None
    store.open("new", 1.0)
    assert not store.path("old").exists() and store.path("new").exists()


def test_memory_records_expire() -> None:
    # input: a 50 ms TTL, read after 100 ms
    store = MemoryLedger(ttl=0.05)
    store.open("j", 1.0)
    time.sleep(0.1)
    assert store.read("j") is None


# --------------------------------------------------------------------------- which backend


def test_the_url_picks_the_backend(tmp_path: Path) -> None:
    # input: an explicit URL; the API's Redis URL set; nothing set
    assert ledger_url(Settings(budget={"ledger_url": "memory://"}, api={"redis_url": "redis://h:1/2"})) == "memory://"
    assert ledger_url(Settings(api={"redis_url": "redis://h:1/2"})) == "redis://h:1/2"
    default = ledger_url(Settings(data_dir=tmp_path))
    assert default == f"file://{tmp_path / 'ledger'}"
    assert isinstance(open_store(default), FileLedger) and open_store(default) is open_store(default)
    assert isinstance(open_store("redis://127.0.0.1:1/0"), RedisLedger)  # no connection until a call


def test_an_unknown_scheme_names_the_variable() -> None:
    # input: a postgres:// URL
    with pytest.raises(ConfigError, match="redis://") as info:
        open_store("postgres://db/ledger")
    assert info.value.variable == "VIDEOGEN_BUDGET__LEDGER_URL"


# --------------------------------------------------------------------------- races between OS processes


def _one_call_per_round(url: str, rounds: int, amount: float, barrier: Barrier, out: Any) -> None:
    """Racer: each round, wait for the other racer, then both reserve ``amount`` on that round's job at once."""
    store = open_store(url)
    won = []
    for r in range(rounds):
        barrier.wait(timeout=60)
        result = store.reserve(f"round-{r}", amount)
        won.append(result is not None and result[0])
    out.put(won)


def _spend_until_refused(url: str, amount: float, barrier: Barrier, out: Any) -> None:
    """Racer: reserve and settle ``amount`` on job "shared" until the ledger refuses; report how many were paid."""
    store = open_store(url)
    barrier.wait(timeout=60)
    paid = 0
    while True:
        result = store.reserve("shared", amount)
        if result is None or not result[0]:
            break
        store.settle("shared", amount, amount)
        paid += 1
    out.put(paid)


def _race(target: Any, *args: Any) -> list[Any]:
    barrier, out = FORK.Barrier(2), FORK.Queue()
    racers = [FORK.Process(target=target, args=(*args, barrier, out)) for _ in range(2)]
    for p in racers:
        p.start()
    results = [out.get(timeout=120) for _ in racers]
    for p in racers:
        p.join(timeout=30)
        assert p.exitcode == 0
    return results


def test_two_processes_racing_for_the_last_of_the_cap_one_is_refused(shared_url: str) -> None:
    # input: 20 jobs with a $1 cap each; two processes released together reserve $0.60 on the same job, 20 times
    store = open_store(shared_url)
    for r in range(20):
        store.open(f"round-{r}", 1.0)
    a, b = _race(_one_call_per_round, shared_url, 20, 0.6)
    assert [x + y for x, y in zip(a, b, strict=True)] == [1] * 20, "in every round exactly one won"
    for r in range(20):
        t = store.read(f"round-{r}")
        assert t is not None and t.reserved == pytest.approx(0.6) and t.reserved <= t.cap


def test_two_processes_spending_on_one_job_never_pass_the_cap(shared_url: str) -> None:
    # input: a $1 cap; two processes pay $0.03 calls as fast as they can until refused: 33 calls fit, not 34
    store = open_store(shared_url)
    store.open("shared", 1.0)
    paid = _race(_spend_until_refused, shared_url, 0.03)
    t = store.read("shared")
    assert t is not None
    assert sum(paid) == 33 == t.calls and t.spent == pytest.approx(0.99) and t.spent <= t.cap
    assert t.reserved == pytest.approx(0.0)


def _worker_pays(job_id: str, costs: list[float], out: Any) -> None:
    """A Dask worker's view: nothing opened here, only the settings (env) and the job id."""
    paid: list[str] = []
    with budget.job_scope(job_id):
        for cost in costs:
            try:
                with budget.paid_call(cost, f"clip ${cost}") as charge:
                    charge.actual = cost
                paid.append("paid")
            except BudgetError as exc:
                paid.append(str(exc))
    out.put(paid)


def test_a_process_that_never_opened_the_job_is_capped(shared_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # input: the flow process opens a $0.10 job; a fresh process (the settings' ledger URL and the job id only)
    # pays $0.06, then tries $0.06 more
    monkeypatch.setenv("VIDEOGEN_BUDGET__LEDGER_URL", shared_url)
    get_settings.cache_clear()
    try:
        job = f"dask-{uuid.uuid4()}"
        budget.open_job(job, 0.10)
        out = SPAWN.Queue()
        worker = SPAWN.Process(target=_worker_pays, args=(job, [0.06, 0.06], out))
        worker.start()
        first, second = out.get(timeout=120)
        worker.join(timeout=30)
        assert first == "paid" and "would pass the job's hard cap $0.10" in second
        found = budget.ledger(job)
        assert found is not None and found.spent == pytest.approx(0.06) and found.calls == 1
    finally:
        get_settings.cache_clear()
