"""Throwaway PostgreSQL and Redis servers as child processes on free loopback ports: the production backends of the
Prefect server (infra/render.yaml: Postgres for its database, Redis for its messaging), for tests on one machine.

    initdb + postgres     a fresh cluster under ``root`` (Debian's binaries, /usr/lib/postgresql/<major>/bin),
                          TCP on 127.0.0.1 only, password auth, no fsync; run as the `postgres` user when we are root
    redis-server          --port R, no persistence

Neither is a production setup: both trade durability for start-up time.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import redis

from devtools.stack import Processes, free_port, redis_server_command

#: where Debian's `postgresql` package puts each major version's server binaries
PG_BINDIRS = "/usr/lib/postgresql/*/bin"
#: the system user Debian's package creates; the server refuses to run as root
PG_SYSTEM_USER = "postgres"


def postgres_bindir() -> Path:
    """The newest installed PostgreSQL's binaries (initdb, postgres, pg_isready, psql, createdb)."""
    found = [p.parent for p in Path("/").glob(PG_BINDIRS.lstrip("/") + "/initdb")]
    if not found:
        raise RuntimeError(f"PostgreSQL is not installed (no {PG_BINDIRS}/initdb): run `make install-postgres`")
    return max(found, key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))


@dataclass
class Postgres:
    """A PostgreSQL cluster of its own in ``root``/pgdata, serving ``database`` to ``user`` on a loopback port.

    ``url`` is what Prefect's server takes (PREFECT_SERVER_DATABASE_CONNECTION_URL); ``psql()`` runs a query.
    """

    root: Path
    database: str = "prefect"
    user: str = "prefect"
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.bindir = postgres_bindir()
        self.processes = Processes(self.root / "logs")

    @property
    def data_dir(self) -> Path:
        return self.root / "pgdata"

    @property
    def dsn(self) -> str:
        """libpq / asyncpg form."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    @property
    def url(self) -> str:
        """SQLAlchemy form with the async driver, as Prefect requires."""
        return self.dsn.replace("postgresql://", "postgresql+asyncpg://", 1)

    def _as_owner(self, args: list[str]) -> list[str]:
        """initdb and postgres refuse to run as root: then they run as the `postgres` system user."""
        return ["runuser", "-u", PG_SYSTEM_USER, "--", *args] if os.geteuid() == 0 else args

    def _give_to_owner(self, *paths: Path) -> None:
        if os.geteuid() != 0:
            return
        for path in paths:
            shutil.chown(path, user=PG_SYSTEM_USER, group=PG_SYSTEM_USER)
        # the server opens its data directory by path, so every directory above it must be searchable (x, not r)
        for parent in self.root.resolve().parents[::-1]:
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                parent.chmod(mode | stat.S_IXOTH)
        self.root.chmod(self.root.stat().st_mode | stat.S_IXOTH)

    def _client_env(self) -> dict[str, str]:
        return dict(os.environ, PGPASSWORD=self.password, PGCONNECT_TIMEOUT="5")

    def start(self, timeout: float = 60) -> Postgres:
        self.root.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        self._give_to_owner(self.data_dir, pwfile)
        initdb = [str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", self.user, f"--pwfile={pwfile}",
                  "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync"]  # fmt: skip
        done = subprocess.run(self._as_owner(initdb), cwd=self.root, capture_output=True, text=True, timeout=120)
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        server = [str(self.bindir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                  "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                  "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]  # fmt: skip
        self.processes.spawn("postgres", self._as_owner(server), dict(os.environ))
        isready = [str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        self.processes.wait("postgres", lambda: subprocess.run(isready, timeout=10).returncode == 0, timeout)
        createdb = [str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user]
        subprocess.run([*createdb, self.database], env=self._client_env(), check=True, timeout=60)
        return self

    def psql(self, sql: str) -> str:
        """Run ``sql`` in ``database``; rows as unaligned text, ``|``-separated."""
        args = [str(self.bindir / "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.dsn, "-c", sql]
        done = subprocess.run(args, env=self._client_env(), capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed ({done.returncode}): {sql}\n{done.stderr}")
        return done.stdout.strip()

    def stop(self) -> None:
        """Fast shutdown (SIGINT: disconnect clients, no waiting), SIGKILL if that takes over 15 s."""
        self.processes.kill("postgres", signal.SIGINT)
        self.processes.stop_all()


@dataclass
class RedisServer:
    """redis-server on a loopback port, without persistence."""

    root: Path
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.processes = Processes(self.root)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db), decode_responses=True)

    def start(self, timeout: float = 30) -> RedisServer:
        self.processes.spawn("redis", redis_server_command(self.port), dict(os.environ))
        self.processes.wait("redis", lambda: bool(self.client().ping()), timeout)
        return self

    def stop(self) -> None:
        self.processes.stop_all()
