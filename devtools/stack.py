"""Start the whole local stack as child processes on free loopback ports (tests and benchmarks).

    redis-server         --port R (no persistence)
    prefect server start --port P   (PREFECT_HOME in the stack's directory)
    python -m deployments.serve     the served music-video deployment (flow runs in subprocesses)
    python -m api.bridge            Prefect events -> Redis Streams
    uvicorn api.main:create_app     the API on port A

``make up`` starts the same processes with honcho and ``infra/Procfile`` on the fixed ports instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from deployments.wait import prefect_healthy
from flows.prefect_api import free_port as free_port  # re-exported: the stack and its tests take ports here

ROOT = Path(__file__).resolve().parents[1]


def redis_server_exe() -> str:
    exe = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if exe is None:
        raise RuntimeError("redis-server is not installed: `apt-get install -y redis-server` (make install-redis)")
    return exe


def redis_server_command(port: int) -> list[str]:
    """redis-server on a loopback port, without persistence (throwaway state for tests and `make up`)."""
    return [redis_server_exe(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]


def prefect_server_command(port: int) -> list[str]:
    return [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"]


def prefect_env(home: Path, api_url: str) -> dict[str, str]:
    """This process's environment for a child that talks to the Prefect server at ``api_url`` (never to a temporary
    server of its own: prefect notes §8.1), with its own PREFECT_HOME, quiet and offline."""
    env = dict(os.environ)
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="false",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Processes:
    """Child processes with their logs in ``root``; each in its own session so a group can be killed."""

    root: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        self.root.mkdir(parents=True, exist_ok=True)
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop_all()
        self._logs.append(log)
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def log(self, name: str, tail: int = 4000) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def wait(self, name: str, ok: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{self.log(name)}")
            try:
                if ok():
                    return
            except Exception:  # noqa: BLE001 - not up yet
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{name} not ready after {timeout:.0f} s:\n{self.log(name)}")

    def kill(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        """Signal the whole process group (a worker and the flow runs it started)."""
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.kill(name)
        for log in self._logs:
            log.close()
        self._logs.clear()


@dataclass
class Stack:
    root: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    redis_port: int = field(default_factory=free_port)
    prefect_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.processes = Processes(self.root)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.api_port}"

    @property
    def prefect_api_url(self) -> str:
        return f"http://127.0.0.1:{self.prefect_port}/api"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def env(self) -> dict[str, str]:
        env = prefect_env(self.root / "prefect", self.prefect_api_url)
        env.update(
            PREFECT_LOGGING_LEVEL="WARNING",
            PREFECT_RUNNER_POLL_FREQUENCY="1",
            VIDEOGEN_DATA_DIR=str(self.data_dir),
            VIDEOGEN_API__REDIS_URL=self.redis_url,
            VIDEOGEN_API__PORT=str(self.api_port),
            VIDEOGEN_API__TERMINAL_GRACE="2",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env_extra)
        return env

    def _spawn(self, name: str, args: list[str]) -> None:
        self.processes.spawn(name, args, self.env())

    def log(self, name: str) -> str:
        return self.processes.log(name)

    def _wait(self, name: str, ok: Callable[[], bool], timeout: float) -> None:
        self.processes.wait(name, ok, timeout)

    def start(self, *, timeout: float = 180) -> Stack:
        self.root.mkdir(parents=True, exist_ok=True)
        py = sys.executable
        self._spawn("redis", redis_server_command(self.redis_port))
        self._spawn("prefect", prefect_server_command(self.prefect_port))
        self._wait("prefect", lambda: prefect_healthy(self.prefect_api_url), timeout)
        self._spawn("serve", [py, "-m", "deployments.serve"])
        self._spawn("bridge", [py, "-m", "api.bridge"])
        self._spawn("api", [py, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1",
                            "--port", str(self.api_port), "--log-level", "warning"])  # fmt: skip
        self._wait("serve", self._deployment_ready, 90)  # /healthz is 200 only once the deployment is served
        self._wait("api", lambda: httpx.get(f"{self.api_url}/healthz", timeout=5).status_code == 200, 60)
        self._wait("bridge", lambda: "following Prefect events" in self.log("bridge"), 60)
        return self

    def _deployment_ready(self) -> bool:
        r = httpx.get(f"{self.prefect_api_url}/deployments/name/music-video/music-video", timeout=2)
        return r.status_code == 200

    def restart(self, name: str, args: list[str]) -> None:
        self.kill(name)
        self._spawn(name, args)

    def kill(self, name: str) -> None:
        self.processes.kill(name)

    def stop(self) -> None:
        for name in ("api", "bridge", "serve", "prefect", "redis"):
            self.kill(name)
        self.processes.stop_all()
