"""Wait for the Prefect server before starting what needs it: ``python -m deployments.wait API_URL``.

The start order of ``infra/Procfile`` (``make up``) and the Render blueprint, with no curl needed.
"""

from __future__ import annotations

import argparse
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="wait until a Prefect API answers its health check")
    parser.add_argument("api_url", metavar="API_URL")
    wait_for_prefect(parser.parse_args().api_url)
