"""The CLI's temporary Prefect server (``flows.prefect_api``): started per command without ``PREFECT_API_URL``,
stopped only once the run is recorded, never left behind, and a failed start is one line."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.prefect_api import prefect_api

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "paper boats on a rainy street"


def _cli_env(tmp: Path, **extra: str) -> dict[str, str]:
    """No PREFECT_API_URL (so the CLI starts its own server), a private Prefect home and data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "VIDEOGEN_"))}
    env.update(PREFECT_HOME=str(tmp / "prefect-home"), VIDEOGEN_DATA_DIR=str(tmp / "data"),
               PREFECT_LOCAL_STORAGE_PATH=str(tmp / "results"), COLUMNS="160", **extra)  # fmt: skip
    return env


def _render(song: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "flows.cli", "render", str(song), "--prompt", PROMPT, "--out", str(out)]


def _servers_of(pid: int) -> list[int]:
    """The child processes of ``pid`` running ``prefect server start``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if ppid == pid and b"server" in command and b"start" in command:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for_servers(pid: int) -> list[int]:
    """The ``prefect server start`` children of the CLI ``pid``, once it has started one (at most 60 s)."""
    deadline = time.monotonic() + 60
    servers: list[int] = []
    while not servers and time.monotonic() < deadline:
        servers = _servers_of(pid)
        time.sleep(0.1)
    assert servers, "the CLI started no server process"
    return servers


def _assert_gone(servers: list[int]) -> None:
    deadline = time.monotonic() + 30
    while any(map(_alive, servers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(_alive, servers)), f"server {servers} outlived the CLI"


def test_configured_api_is_used_and_no_server_started() -> None:
    """Input: the session's Prefect server configured (the test harness), as with `prefect server start`."""
    from prefect.settings import PREFECT_API_URL

    with prefect_api() as api:
        assert api.server is None
        assert api.url == PREFECT_API_URL.value()


def test_temporary_server_records_every_task_run_before_it_stops(short_song: Path, tmp_path: Path) -> None:
    """Input: a 14 s song rendered with no PREFECT_API_URL and a brand-new Prefect home. After the CLI has exited
    (and stopped its server), the home's database holds the flow run and every task run, all completed."""
    proc = subprocess.run(_render(short_song, tmp_path / "out"), env=_cli_env(tmp_path), cwd=ROOT,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    with sqlite3.connect(tmp_path / "prefect-home" / "prefect.db") as db:
        flows = db.execute("SELECT state_type FROM flow_run").fetchall()
        tasks = db.execute("SELECT name, state_type FROM task_run").fetchall()
    assert flows == [("COMPLETED",)]
    # audio, plan, reference, prompts, >= 3 clips (one task run each), compose: all recorded as completed
    assert len(tasks) >= 8, tasks
    assert {state for _, state in tasks} == {"COMPLETED"}, tasks


def test_failed_server_start_is_one_line_and_writes_nothing(short_song: Path, tmp_path: Path) -> None:
    """Input: a database the server cannot open (a directory that does not exist). One line naming the server's
    own error and the fix, exit 2, no output folder and no job data."""
    env = _cli_env(tmp_path, PREFECT_API_DATABASE_CONNECTION_URL="sqlite+aiosqlite:////nonexistent/dir/prefect.db")
    proc = subprocess.run(_render(short_song, tmp_path / "out"), env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "unable to open database file" in lines[0] and "PREFECT_API_URL" in lines[0], lines
    assert not (tmp_path / "out").exists() and not (tmp_path / "data").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_server_does_not_outlive_a_killed_cli(short_song: Path, tmp_path: Path) -> None:
    """Input: the CLI killed with SIGKILL while its temporary server runs (no cleanup code can run). The server
    gets SIGTERM from the kernel and exits."""
    cli = subprocess.Popen(_render(short_song, tmp_path / "out"), env=_cli_env(tmp_path), cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    servers = _wait_for_servers(cli.pid)
    os.kill(cli.pid, signal.SIGKILL)
    cli.wait()
    _assert_gone(servers)


def _as_in_a_terminal() -> None:
    """SIGINT as a terminal's foreground job has it: a runner started in the background (``cmd &``) passes its
    children SIGINT ignored, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_the_render_and_its_server(short_song: Path, tmp_path: Path) -> None:
    """Input: Ctrl-C as a terminal sends it (SIGINT to the CLI's whole process group) once the clips are being
    generated. The CLI exits 130 within seconds, writes no output folder, and its server is gone. (With the server in
    the CLI's process group, Ctrl-C mid-render killed the server first: the CLI retried its last calls to it for
    75 s and exited 1 with `ConnectError`.)"""
    cli = subprocess.Popen(_render(short_song, tmp_path / "out"), env=_cli_env(tmp_path), cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           start_new_session=True, preexec_fn=_as_in_a_terminal)  # fmt: skip
    servers = _wait_for_servers(cli.pid)
    deadline = time.monotonic() + 60
    while not list((tmp_path / "data").glob("jobs/*/intermediate/prompts.json")) and time.monotonic() < deadline:
        time.sleep(0.1)  # the prompts are written: the clips are being drawn and encoded
    assert cli.poll() is None, "the render ended before it could be interrupted"
    os.killpg(cli.pid, signal.SIGINT)
    _, stderr = cli.communicate(timeout=60)
    assert cli.returncode == 130, stderr[-2000:]
    assert not (tmp_path / "out").exists()
    _assert_gone(servers)
