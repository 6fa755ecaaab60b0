"""The spend ledger in Redis (``redis://``): one hash per job, ``videogen:ledger:<job id>`` with fields cap, spent,
reserved and calls. Each change is one Lua script, which Redis runs alone, so two machines reserving for the same job
never both pass its cap; each change also renews the key's TTL, so finished jobs' keys go away by themselves.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import redis

from core.errors import ProviderError, TransientProviderError
from core.ledger import EPSILON, TTL, LedgerStore, Totals

PREFIX = "videogen:ledger:"
FIELDS = ("cap", "spent", "reserved", "calls")

# Floats travel as strings ("%.17g" round-trips a double): Redis would truncate a Lua number reply to an integer.
_OPEN = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'cap', ARGV[1])
else
  redis.call('HSET', KEYS[1], 'cap', ARGV[1], 'spent', '0', 'reserved', '0', 'calls', '0')
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('HMGET', KEYS[1], 'cap', 'spent', 'reserved', 'calls')
"""

# core.ledger.Totals.admits and .hold
_RESERVE = """
local t = redis.call('HMGET', KEYS[1], 'cap', 'spent', 'reserved', 'calls')
if not t[1] then return false end
local granted = tonumber(t[2]) + tonumber(t[3]) + tonumber(ARGV[1]) <= tonumber(t[1]) + tonumber(ARGV[3])
if granted then
  redis.call('HSET', KEYS[1], 'reserved', string.format('%.17g', tonumber(t[3]) + tonumber(ARGV[1])))
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return {granted and 1 or 0, t[1], t[2], t[3], t[4]}
"""

# core.ledger.Totals.settled
_SETTLE = """
local t = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
if not t[1] then return 0 end
redis.call('HSET', KEYS[1],
  'reserved', string.format('%.17g', math.max(0, tonumber(t[2]) - tonumber(ARGV[1]))),
  'spent', string.format('%.17g', tonumber(t[1]) + tonumber(ARGV[2])))
redis.call('HINCRBY', KEYS[1], 'calls', 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


@contextmanager
def _vendor_errors() -> Iterator[None]:
    """An unreachable Redis is worth a retry (transient); any other Redis error is not."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise TransientProviderError(f"spend ledger unreachable: {exc}", provider="redis-ledger") from exc
    except redis.RedisError as exc:
        raise ProviderError(f"spend ledger failed: {exc}", provider="redis-ledger") from exc


def _totals(values: Sequence[Any]) -> Totals:
    cap, spent, reserved, calls = values
    return Totals(cap=float(cap), spent=float(spent), reserved=float(reserved), calls=int(calls))


class RedisLedger(LedgerStore):
    def __init__(self, client: redis.Redis, *, ttl: float = TTL) -> None:
        self.client = client
        self.ttl = int(ttl)
        self._open = client.register_script(_OPEN)
        self._reserve = client.register_script(_RESERVE)
        self._settle = client.register_script(_SETTLE)

    @classmethod
    def from_url(cls, url: str) -> RedisLedger:
        return cls(redis.Redis.from_url(url, decode_responses=True))

    @staticmethod
    def key(job_id: str) -> str:
        return PREFIX + job_id

    def _run(self, script: Any, *args: Any, key: str) -> Any:
        with _vendor_errors():
            return script(keys=[key], args=list(args))

    def open(self, job_id: str, cap: float) -> Totals:
        return _totals(self._run(self._open, cap, self.ttl, key=self.key(job_id)))

    def read(self, job_id: str) -> Totals | None:
        with _vendor_errors():
            values = cast(list[Any], self.client.hmget(self.key(job_id), list(FIELDS)))
        return None if values[0] is None else _totals(values)

    def reserve(self, job_id: str, amount: float) -> tuple[bool, Totals] | None:
        reply = self._run(self._reserve, amount, self.ttl, EPSILON, key=self.key(job_id))
        return None if reply is None else (reply[0] == 1, _totals(reply[1:]))

    def settle(self, job_id: str, reserved: float, actual: float) -> None:
        self._run(self._settle, reserved, actual, self.ttl, key=self.key(job_id))
