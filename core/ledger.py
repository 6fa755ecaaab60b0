"""Where a job's spend record lives, so every process of the job charges the same one: the flow, its Dask workers on
any machine, and a retry of the run. The backend is picked by URL, as encode/broadcaster picks its own:

    redis://host:port/db   every machine; reserve and settle are Lua scripts (providers.ledger_redis)
    file:///some/dir       every process of one machine; one JSON file per job, changed under an flock
    memory://              this process only (tests; it does not survive a retry in a new process)

``VIDEOGEN_BUDGET__LEDGER_URL`` chooses; unset, it is the Redis of ``VIDEOGEN_API__REDIS_URL`` when that is set,
else a file under the data dir. A record holds the job's cap, what was spent, the holds of calls in flight and the
call count; it outlives the run (a retry continues from it) and expires ``TTL`` seconds after its last change.
"""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import cast
from urllib.parse import quote, unquote

from core.errors import ConfigError
from core.settings import Settings

#: a week, like the job's results and events: longer than any run and the retries that follow it
TTL = 7 * 24 * 3600.0
#: prices are float sums: a call that lands exactly on the cap is allowed
EPSILON = 1e-9
#: scheme -> "module:Class", imported on first use (Redis is a provider: core does not import redis)
BACKENDS = {
    "memory": "core.ledger:MemoryLedger",
    "file": "core.ledger:FileLedger",
    "redis": "providers.ledger_redis:RedisLedger",
    "rediss": "providers.ledger_redis:RedisLedger",
    "unix": "providers.ledger_redis:RedisLedger",
}


@dataclass(frozen=True)
class Totals:
    """One job's record. The rule below is the whole ledger; providers.ledger_redis repeats it in Lua."""

    cap: float
    spent: float = 0.0
    reserved: float = 0.0
    calls: int = 0

    def admits(self, amount: float) -> bool:
        return self.spent + self.reserved + amount <= self.cap + EPSILON

    def hold(self, amount: float) -> Totals:
        return replace(self, reserved=self.reserved + amount)

    def settled(self, reserved: float, actual: float) -> Totals:
        """The hold of one call replaced by what it cost."""
        return replace(self, reserved=max(0.0, self.reserved - reserved), spent=self.spent + actual,
                       calls=self.calls + 1)  # fmt: skip


class LedgerStore(ABC):
    """Job records, each changed atomically: concurrent reserves on one job never pass its cap together."""

    @classmethod
    @abstractmethod
    def from_url(cls, url: str) -> LedgerStore: ...

    @abstractmethod
    def open(self, job_id: str, cap: float) -> Totals:
        """The job's record with ``cap``; one that exists keeps its spend and holds (a retry of the run)."""

    @abstractmethod
    def read(self, job_id: str) -> Totals | None: ...

    @abstractmethod
    def reserve(self, job_id: str, amount: float) -> tuple[bool, Totals] | None:
        """Hold ``amount`` if the cap admits it: (granted, the record before), or None when the job has no record."""

    @abstractmethod
    def settle(self, job_id: str, reserved: float, actual: float) -> None: ...


@dataclass
class _Slot:
    record: Totals | None


class _LockedStore(LedgerStore):
    """Memory and file: read, change and write one record under an exclusive lock (Redis runs a script instead)."""

    @abstractmethod
    def _locked(self, job_id: str) -> AbstractContextManager[_Slot]:
        """The job's record under the lock; a new ``slot.record`` is written back when the block ends cleanly."""

    def open(self, job_id: str, cap: float) -> Totals:
        with self._locked(job_id) as slot:
            slot.record = replace(slot.record, cap=cap) if slot.record else Totals(cap)
            return slot.record

    def read(self, job_id: str) -> Totals | None:
        with self._locked(job_id) as slot:
            return slot.record

    def reserve(self, job_id: str, amount: float) -> tuple[bool, Totals] | None:
        with self._locked(job_id) as slot:
            before = slot.record
            if before is None:
                return None
            granted = before.admits(amount)
            if granted:
                slot.record = before.hold(amount)
            return granted, before

    def settle(self, job_id: str, reserved: float, actual: float) -> None:
        with self._locked(job_id) as slot:
            if slot.record is not None:
                slot.record = slot.record.settled(reserved, actual)


class MemoryLedger(_LockedStore):
    """Records in this process, behind a thread lock."""

    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._records: dict[str, tuple[Totals, float]] = {}  # job -> (record, when it expires)
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> MemoryLedger:
        return cls()

    @contextmanager
    def _locked(self, job_id: str) -> Iterator[_Slot]:
        with self._lock:
            now = time.monotonic()
            record, expires = self._records.get(job_id, (None, now))
            slot = _Slot(record if expires > now else None)
            before = slot.record
            yield slot
            if slot.record is not before and slot.record is not None:
                if before is None:  # a new job sweeps out the expired ones
                    self._records = {k: v for k, v in self._records.items() if v[1] > now}
                self._records[job_id] = (slot.record, now + self.ttl)


class FileLedger(_LockedStore):
    """One ``<job>.json`` per job in ``root``; every change holds an flock on ``root/.lock``, which the kernel
    releases when the holder's file closes, also when its process dies."""

    def __init__(self, root: Path, ttl: float = TTL) -> None:
        self.root = root
        self.ttl = ttl

    @classmethod
    def from_url(cls, url: str) -> FileLedger:
        return cls(Path(unquote(url.removeprefix("file://"))))

    def path(self, job_id: str) -> Path:
        return self.root / f"{quote(job_id, safe='')}.json"

    @contextmanager
    def _locked(self, job_id: str) -> Iterator[_Slot]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            path = self.path(job_id)
            slot = _Slot(self._load(path))
            before = slot.record
            yield slot
            if slot.record is not before and slot.record is not None:
                if before is None:
                    self._sweep()
                tmp = path.with_suffix(".tmp")  # written whole, then renamed: a crash never leaves half a record
                tmp.write_text(json.dumps(asdict(slot.record)))
                os.replace(tmp, path)

    def _expired(self, path: Path) -> bool:
        return time.time() - path.stat().st_mtime > self.ttl

    def _load(self, path: Path) -> Totals | None:
        if not path.exists() or self._expired(path):
            return None
        return Totals(**json.loads(path.read_text()))

    def _sweep(self) -> None:
        for old in self.root.glob("*.json"):
            if self._expired(old):
                old.unlink(missing_ok=True)


def ledger_url(settings: Settings) -> str:
    """The configured ledger URL; unset, the Redis the API was given (it is shared), else a file in the data dir."""
    if settings.budget.ledger_url:
        return settings.budget.ledger_url
    if "redis_url" in settings.api.model_fields_set:
        return settings.api.redis_url
    return f"file://{quote(str((settings.data_dir / 'ledger').absolute()))}"


@lru_cache(maxsize=8)
def open_store(url: str) -> LedgerStore:
    """The store at ``url``, one per process (so ``memory://`` is shared by its threads and Redis keeps a pool)."""
    scheme = url.partition("://")[0]
    if scheme not in BACKENDS:
        raise ConfigError(f"the spend ledger URL {url!r} is not one of {', '.join(s + '://' for s in BACKENDS)}",
                          variable="VIDEOGEN_BUDGET__LEDGER_URL")  # fmt: skip
    module, _, name = BACKENDS[scheme].partition(":")
    backend = cast(type[LedgerStore], getattr(importlib.import_module(module), name))
    return backend.from_url(url)


def store_for(settings: Settings) -> LedgerStore:
    return open_store(ledger_url(settings))
