"""The Prefect API a CLI command runs its flows against: the user's server, or a temporary one of its own.

With ``PREFECT_API_URL`` set (``prefect server start``, Prefect Cloud) the command uses it. Without, it starts
``prefect server start`` on a free loopback port for the command's lifetime, against the same ``PREFECT_HOME``
database, so the runs stay in the Prefect UI afterwards. This replaces Prefect's own temporary server (which its
client starts on first use) for three reasons:

- it starts before the command imports its flows and librosa, so its 4-20 s start overlaps them, and without
  importing ``prefect.server`` here (2.2-2.8 s of this process's time, measured);
- it stops when the command is done, and only once it has recorded the run (:meth:`PrefectApi.run`);
- a failed start is one line, with the fix, not a traceback.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

from core.errors import PipelineError

if TYPE_CHECKING:
    from uuid import UUID

    from prefect import Flow
    from prefect.client.schemas.objects import State

T = TypeVar("T")
STARTUP_TIMEOUT = 120.0  # a new PREFECT_HOME migrates its database first; 20 s seen on a loaded machine
SETTLE_TIMEOUT = 15.0
_EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception): ")
_FIX = "start one with `prefect server start` and set PREFECT_API_URL"


class PrefectApiError(PipelineError):
    """The temporary Prefect server did not start."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrefectApi:
    """Runs flows against ``url``; ``server`` is the temporary server's process, or None for the user's own."""

    def __init__(self, url: str, server: subprocess.Popen[bytes] | None = None, log: IO[bytes] | None = None):
        self.url, self.server, self._log = url, server, log
        self._ready = not self.temporary

    @property
    def temporary(self) -> bool:
        """This command's own server, not the user's."""
        return self.server is not None

    def run(self, flow: Flow[..., T], **params: Any) -> T:
        """Run ``flow`` in this process and return its result (or raise its error).

        With the temporary server, wait first until it answers, and afterwards until it holds the run's task runs
        in their final states: its task-run recorder writes them from the events this process sends, and stopped
        mid-write it lost the last records and printed ~150 lines of ``CancelledError`` tracebacks (seen on a
        loaded machine)."""
        self.wait_ready()
        state = cast("State[T]", flow(**params, return_state=True))
        if self.temporary:
            self._await_task_records(state.state_details.flow_run_id)
        return state.result()

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        from deployments.wait import prefect_healthy

        deadline = time.monotonic() + timeout
        while not self._ready:
            if self.server is not None and self.server.poll() is not None:
                raise PrefectApiError(f"the temporary Prefect server exited ({self._last_log_line()}); {_FIX}")
            if time.monotonic() > deadline:
                raise PrefectApiError(f"the temporary Prefect server did not answer in {timeout:.0f} s; {_FIX}")
            self._ready = prefect_healthy(self.url)
            if not self._ready:
                time.sleep(0.1)

    def _await_task_records(self, flow_run_id: UUID | None, timeout: float = SETTLE_TIMEOUT) -> None:
        """Settled: every task run of the flow run is final, and no new one appeared since the last poll."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
        from prefect.events.worker import EventsWorker

        if flow_run_id is None:
            return
        EventsWorker.drain_all(timeout=timeout)  # this process's last events are on their way to the server
        runs_filter = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        deadline, seen = time.monotonic() + timeout, -1
        with get_client(sync_client=True) as client:
            while time.monotonic() < deadline:
                runs = client.read_task_runs(flow_run_filter=runs_filter)
                if len(runs) == seen and all(run.state is not None and run.state.is_final() for run in runs):
                    return
                seen = len(runs)
                time.sleep(0.2)

    def _last_log_line(self) -> str:
        """The server's own reason: its last exception line (``sqlalchemy.exc.OperationalError: ...``)."""
        lines: list[str] = []
        if self._log is not None:
            self._log.seek(0)
            lines = [line.strip() for line in self._log.read().decode(errors="replace").splitlines() if line.strip()]
        errors = [line for line in lines if _EXCEPTION_LINE.match(line)]
        return (errors or lines or ["no output"])[-1]

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()


def _die_with_parent() -> None:
    """In the server's process, before it runs: on Linux it gets SIGTERM when this CLI dies, even of SIGKILL, so
    no server is left behind holding the database."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


@contextmanager
def prefect_api() -> Iterator[PrefectApi]:
    """The user's Prefect API if one is configured, else a temporary server, started now and stopped on exit.

    Call this before importing the flows: the temporary server's URL goes into this process's environment and
    Prefect's global settings, so every client (threads included) finds it."""
    from prefect.context import refresh_global_settings_context
    from prefect.settings import PREFECT_API_URL

    configured = PREFECT_API_URL.value()
    if configured:
        yield PrefectApi(configured)
        return
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    # the server's output goes to a file, not the terminal: kept for the one-line error if it fails to start
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
             "--no-ui", "--no-scheduler", "--no-late-runs", "--no-prompt"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
            start_new_session=True,  # a Ctrl-C in the terminal stops the CLI, which then stops the server
        )  # fmt: skip
        api = PrefectApi(url, server, log)
        os.environ["PREFECT_API_URL"] = url
        refresh_global_settings_context()
        try:
            yield api
        finally:
            api.stop()
            os.environ.pop("PREFECT_API_URL", None)
            refresh_global_settings_context()
