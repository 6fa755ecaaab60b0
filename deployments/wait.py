"""Wait for the Prefect server before starting what needs it: ``python -m deployments.wait API_URL [-- COMMAND...]``.

The start order of ``infra/Procfile`` (``make up``) and the Render blueprint, with no curl needed. With a COMMAND
it then becomes that command (``exec``): the same process, so signals sent to it and a parent-death signal set on it
(the Procfile's ``setpriv --pdeathsig``) reach the server, with no shell left in between.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import httpx


def prefect_healthy(api_url: str) -> bool:
    """The Prefect server at ``api_url`` answers its health check."""
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for_prefect(api_url: str, timeout: float = 300) -> None:
    """Block until the Prefect server answers its health check."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if prefect_healthy(api_url):
            return
        time.sleep(1)
    raise SystemExit(f"Prefect at {api_url} did not become healthy in {timeout:.0f} s")


def main(argv: list[str]) -> None:
    own, command = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(
        prog="python -m deployments.wait",
        description="wait until a Prefect API answers its health check, then run COMMAND in place (if given)",
        usage="%(prog)s API_URL [-- COMMAND...]",
    )
    parser.add_argument("api_url", metavar="API_URL")
    wait_for_prefect(parser.parse_args(own).api_url)
    if command:
        os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
