"""`make up` (issue 10): it serves the built web UI, and once stopped it leaves no process and no port behind.

The fast test reads make's plan (`make -n`) for a copy of web/'s sources. The slow one runs the real `make up` on
free loopback ports (``UP_*_PORT``) with its own PREFECT_HOME, starts a job once health says one would run, then
signals the process group: SIGTERM as a supervisor or `kill` does (honcho stops its children), SIGHUP as closing
the terminal does (honcho dies at once: before the Procfile's parent-death signals, its children, each in a session
of its own, kept running and kept their ports).
"""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
WEB_SOURCES = ("index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts", "src")

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def _plan(cwd: Path) -> str:
    """The commands `make up` would run in ``cwd`` (a dry run: nothing is built or started)."""
    done = subprocess.run(
        ["make", "-n", "-f", str(ROOT / "Makefile"), "up"], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _age(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def _default_hangup() -> None:
    """In the child: SIGHUP back to its default, as in a terminal. An ignored signal is inherited through exec, so
    under `nohup` (or a CI runner that ignores it) every process of `make up` would shrug off the hangup tried here."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@needs_make
def test_up_builds_the_web_ui_only_when_missing_or_stale(tmp_path: Path) -> None:
    web = tmp_path / "web"
    web.mkdir()
    for name in WEB_SOURCES:
        src = ROOT / "web" / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, web / name)
    for name in ("uv.lock", "pyproject.toml", ".venv/.videogen-installed"):  # `install` is up to date
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    for path in [web, *web.rglob("*")]:
        _age(path, 3600)

    fresh_clone = _plan(tmp_path)
    assert "npm ci" in fresh_clone and "npm run build" in fresh_clone, fresh_clone

    (web / "node_modules").mkdir()
    (web / "dist").mkdir()
    for built in (web / "node_modules" / ".package-lock.json", web / "dist" / "index.html"):
        built.touch()
        _age(built, 60)  # newer than every source
    assert "npm" not in (built_plan := _plan(tmp_path)), built_plan

    (web / "src" / "App.tsx").touch()  # an edited component: build again, no reinstall
    edited = _plan(tmp_path)
    assert "npm run build" in edited and "npm ci" not in edited, edited

    _age(web / "src" / "App.tsx", 3600)
    (web / "package-lock.json").touch()  # new dependencies: reinstall, then build
    relocked = _plan(tmp_path)
    assert "npm ci" in relocked and "npm run build" in relocked, relocked


class _PrefectHealth(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def prefect_health() -> Iterator[str]:
    """A loopback server that answers Prefect's health check: the API URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PrefectHealth)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def test_wait_then_exec_stays_the_same_process(prefect_health: str) -> None:
    """The Procfile's `deployments.wait URL -- COMMAND` becomes COMMAND: the pid that honcho signals and that carries
    the parent-death signal is the server's, with no shell or waiter left in between."""
    show_pid = "import os; print(os.getpid())"
    proc = subprocess.Popen(
        [sys.executable, "-m", "deployments.wait", prefect_health, "--", sys.executable, "-c", show_pid],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and int(out) == proc.pid


# ---------------------------------------------------------------- the real stack


def _proc_stat(pid: int) -> tuple[int, int, int, int] | None:
    """(ppid, pgid, sid, start time) of a live process, None once it is gone (or a zombie)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    if fields[0] == "Z":
        return None
    return int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19])


def _tree(root: int) -> dict[int, int]:
    """Every live process descended from ``root`` (by parent links) or in a session one of them leads, with its
    start time (so a recycled pid is not taken for a survivor)."""
    stats = {int(p.name): s for p in Path("/proc").iterdir() if p.name.isdigit() and (s := _proc_stat(int(p.name)))}
    found: dict[int, int] = {root: stats[root][3]} if root in stats else {}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _pgid, sid, start) in stats.items():
            if pid not in found and (ppid in found or sid in found):
                found[pid] = start
                grew = True
    return found


def _alive(tree: dict[int, int]) -> dict[int, str]:
    """The processes of ``tree`` still running, with their command lines."""
    out: dict[int, str] = {}
    for pid, start in tree.items():
        stat = _proc_stat(pid)
        if stat is not None and stat[3] == start:
            with contextlib.suppress(OSError):
                out[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return out


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not a listener
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None


def _running_job(api: str) -> None:
    """Post the demo song and wait until its flow run runs: the subprocess of serve that must not outlive it."""
    song = ROOT / "assets" / "demo" / "Kevin_MacLeod_-_Vibe_Ace.hq.ogg"
    files = {"audio": (song.name, song.read_bytes(), "audio/ogg")}
    job = httpx.post(f"{api}/api/jobs", files=files, data={"prompt": "a lighthouse in a storm"}, timeout=60)
    assert job.status_code == 201, job.text  # health said a job posted now would run
    deadline = time.monotonic() + 120
    while (status := httpx.get(f"{api}/api/jobs/{job.json()['job_id']}", timeout=10).json())["status"] == "queued":
        assert time.monotonic() < deadline, f"the job did not start in 120 s: {status}"
        time.sleep(0.5)


@needs_make
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process trees from /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_make_up_serves_the_site_and_stops_without_leftovers(tmp_path: Path, sig: signal.Signals) -> None:
    ports = {"UP_PREFECT_PORT": free_port(), "UP_API_PORT": free_port(), "UP_REDIS_PORT": free_port()}
    # none of this session's settings, nor an outer make's flags (`make test` runs pytest)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEOGEN_", "PREFECT_", "MAKE", "MFLAGS"))}
    env.update(
        {k: str(v) for k, v in ports.items()},
        PREFECT_HOME=str(tmp_path / "prefect"),
        VIDEOGEN_DATA_DIR=str(tmp_path / "data"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_RUNNER_POLL_FREQUENCY="2",
        DO_NOT_TRACK="1",
    )
    api = f"http://127.0.0.1:{ports['UP_API_PORT']}"
    log_path = tmp_path / "make-up.log"
    # `-o install`: this test runs inside the installed venv, which a `uv sync` must not touch under its feet;
    # everything else (redis, the web build, honcho and the Procfile) is the user's `make up`
    with open(log_path, "wb") as log:
        make = subprocess.Popen(
            ["make", "-o", "install", "up"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_default_hangup,
        )  # fmt: skip
    tree: dict[int, int] = {}
    started = time.monotonic()
    try:
        deadline = started + 300  # a cold web build and Prefect's first migration take most of it
        while (r := _get(f"{api}/healthz")) is None or r.status_code != 200:
            assert make.poll() is None, f"make up exited ({make.returncode}):\n{log_path.read_text()[-4000:]}"
            assert time.monotonic() < deadline, f"no healthy API after 300 s:\n{log_path.read_text()[-4000:]}"
            time.sleep(0.5)
        healthy = time.monotonic() - started
        site = httpx.get(f"{api}/", timeout=10)
        assert site.status_code == 200 and '<div id="root">' in site.text, site.text[:300]
        _running_job(api)

        tree = _tree(make.pid)
        os.killpg(make.pid, sig)
        stopped = time.monotonic()
        while (left := _alive(tree)) or not all(_port_free(p) for p in ports.values()):
            if time.monotonic() - stopped > 20:
                busy = [p for p in ports.values() if not _port_free(p)]
                pytest.fail(f"20 s after {sig.name}, still running: {left}; ports still bound: {busy}")
            time.sleep(0.25)
        print(f"healthy after {healthy:.0f} s; all {len(tree)} processes gone {time.monotonic() - stopped:.1f} s "
              f"after {sig.name}")  # fmt: skip
    finally:
        for pid in _alive({**tree, **_tree(make.pid)}):  # whatever survived a failed run, by pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            make.wait(timeout=10)
