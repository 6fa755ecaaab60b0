"""The gateway serves the built UI (with index.html for client-side routes) and the read-only stage outputs the UI
draws; the UI's generated types and stage list are current."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from devtools import schema_export
from devtools.stack import Stack
from tests.stack import post_job, ws_events


def test_generated_web_types_are_current() -> None:
    assert schema_export.stale() == [], f"run `{schema_export.COMMAND}`"


@pytest.mark.slow
def test_site_and_artifacts(stack: Stack, api: httpx.Client, short_song: Path) -> None:
    index = httpx.get(f"{stack.api_url}/")
    assert index.status_code == 200 and '<div id="root">' in index.text
    deep = httpx.get(f"{stack.api_url}/jobs/3f0c6f52-8a53-4a43-9d0b-6a7c2e0f9d11")
    assert deep.status_code == 200 and deep.text == index.text
    assert httpx.get(f"{stack.api_url}/api/nope").status_code == 404
    assert httpx.get(f"{stack.api_url}/../pyproject.toml").text == index.text  # nothing outside web/dist

    job_id = post_job(api, short_song).json()["job_id"]
    early = api.get(f"/api/jobs/{job_id}/summary").json()
    assert early["audio_duration"] == pytest.approx(13.0, abs=0.2)
    assert early["budget_total"] == pytest.approx(1.5 * early["audio_duration"] / 60, abs=1e-3)
    last = ws_events(stack, job_id)[-1]
    assert last["status"] == "complete"

    analysis = api.get(f"/api/jobs/{job_id}/analysis").json()
    assert analysis["beats"] and analysis["energy_curve"] and analysis["boundaries"]
    plan = api.get(f"/api/jobs/{job_id}/plan").json()
    prompts = api.get(f"/api/jobs/{job_id}/prompts").json()
    assert len(plan["clips"]) == len(prompts) == len(analysis["boundaries"])
    ref = api.get(f"/api/jobs/{job_id}/reference").json()
    assert ref["image_url"] == f"/api/jobs/{job_id}/reference.png"
    png = api.get(ref["image_url"])
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert httpx.get(f"{stack.api_url}/api/jobs/{job_id}/analysis").status_code == 401  # token still required
