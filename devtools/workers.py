"""A Prefect server, a `videogen` process work pool with its workers, and an S3-compatible server, as child
processes on free loopback ports: what the operations tests and ``bench.scale`` need.

    prefect server start            its own PREFECT_HOME (SQLite) under ``root``
    prefect work-pool create        the pool named in prefect.yaml
    prefect --no-prompt deploy --all
    prefect worker start --pool     any number of workers; each is its own process group (SIGKILL-able)
    moto_server                     S3 on loopback (no signatures or lifecycle enforcement; rules can be read back)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from prefect.events.worker import EventsWorker
from prefect.settings import PREFECT_API_URL, temporary_settings

from deployments.wait import prefect_healthy
from devtools.stack import ROOT, Processes, free_port, prefect_env, prefect_server_command


def pool_name() -> str:
    """The process work pool the deployments in prefect.yaml are bound to."""
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    return str(spec["deployments"][0]["work_pool"]["name"])


@contextmanager
def prefect_server(api_url: str) -> Iterator[None]:
    """In-process Prefect clients and events talk to ``api_url`` inside. Prefect keeps one events worker per process
    whatever the URL, created on first use: it is drained on the way in and out, or the events of flows run here
    (which become their task runs) would go to whichever server an earlier test used."""
    EventsWorker.drain_all(timeout=30, at_exit=False)
    try:
        with temporary_settings({PREFECT_API_URL: api_url}):
            yield
            EventsWorker.drain_all(timeout=30, at_exit=False)
    finally:
        EventsWorker.drain_all(timeout=30, at_exit=False)


@dataclass
class PrefectPool:
    """`prefect server start` + the `videogen` process pool + workers; ``env()`` is what every client needs."""

    root: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    pool: str = field(default_factory=pool_name)

    def __post_init__(self) -> None:
        self.processes = Processes(self.root / "logs")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def env(self, **extra: str) -> dict[str, str]:
        env = prefect_env(self.root / "prefect", self.api_url)
        env.update(
            PREFECT_LOGGING_LEVEL="INFO",
            PREFECT_WORKER_QUERY_SECONDS="1",
            PREFECT_WORKER_PREFETCH_SECONDS="1",
            VIDEOGEN_HOME=str(ROOT),
            VIDEOGEN_DATA_DIR=str(self.root / "data"),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env_extra)
        env.update(extra)
        return env

    def start(self, timeout: float = 180) -> PrefectPool:
        self.processes.spawn("prefect-server", prefect_server_command(self.port), self.env())
        self.processes.wait("prefect-server", lambda: prefect_healthy(self.api_url), timeout)
        return self

    def prefect(self, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
        """Run a `prefect` CLI command against this server (raises with its output on failure)."""
        return self._cli("prefect", args, timeout, env)

    def videogen(self, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
        """Run a `videogen` CLI command against this server."""
        return self._cli("flows.cli", args, timeout, env)

    def _cli(
        self, module: str, args: tuple[str, ...], timeout: float, env: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", module, *args]
        done = subprocess.run(cmd, cwd=ROOT, env=self.env(**env), capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{module} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def deploy_all(self) -> str:
        """The operator's two commands: create the process pool, then deploy everything in prefect.yaml."""
        self.prefect("work-pool", "create", self.pool, "--type", "process", "--overwrite")
        return self.prefect("--no-prompt", "deploy", "--all").stdout

    def start_worker(self, name: str, *, limit: int | None = None, **env: str) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "prefect", "worker", "start", "--pool", self.pool, "--name", name]
        if limit is not None:
            args += ["--limit", str(limit)]
        proc = self.processes.spawn(name, args, self.env(**env))
        self.processes.wait(name, lambda: "started" in self.processes.log(name).lower(), 90)
        return proc

    def kill_worker(self, name: str, sig: int = signal.SIGKILL) -> None:
        self.processes.kill(name, sig)

    def stop(self) -> None:
        self.processes.stop_all()


@dataclass
class MotoS3:
    """moto's standalone S3 server on a loopback port, and the VideoGen settings that point at it."""

    root: Path
    bucket: str = "videogen-test"
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.processes = Processes(self.root)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            "VIDEOGEN_STORAGE__BACKEND": "s3",
            "VIDEOGEN_STORAGE__BUCKET": self.bucket,
            "VIDEOGEN_STORAGE__ENDPOINT_URL": self.endpoint_url,
            "VIDEOGEN_STORAGE__REGION": "us-east-1",
            "VIDEOGEN_STORAGE__ACCESS_KEY_ID": "testing",
            "VIDEOGEN_STORAGE__SECRET_ACCESS_KEY": "testing",
        }

    def start(self, timeout: float = 60) -> MotoS3:
        exe = Path(sys.executable).with_name("moto_server")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.processes.spawn("moto", [str(exe), "-H", "127.0.0.1", "-p", str(self.port)], env)
        self.processes.wait("moto", lambda: httpx.get(self.endpoint_url, timeout=2).status_code < 500, timeout)
        return self

    def stop(self) -> None:
        self.processes.stop_all()
