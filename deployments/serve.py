"""Serve the ``music-video`` deployment from this process: ``python -m deployments.serve``.

The served deployment is named ``music-video/music-video`` (the API's default ``VIDEOGEN_API__DEPLOYMENT``); each
flow run executes in a subprocess. Needs ``PREFECT_API_URL`` (a ``prefect server start``). For a work pool instead,
see ``prefect.yaml``.

SIGTERM is Prefect's: it cancels the runs in flight and stops. SIGHUP (a closed terminal, or ``make up``'s honcho
gone: the Procfile's ``setpriv --pdeathsig HUP``) stops the whole process group, flow runs included, the way honcho
would have: SIGTERM, then SIGKILL after a grace period. Nothing may outlive ``make up``.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any, cast

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from core.storyboard import CHOOSE_DEPLOYMENT, REGENERATE_DEPLOYMENT
from flows.director import choose_version, regenerate_clip
from flows.music_video import music_video

HANGUP_GRACE_SECONDS = 5.0  # honcho's own wait between SIGTERM and SIGKILL


def _stop_group(signum: int, frame: FrameType | None) -> None:
    group = os.getpgrp()
    # not daemonic: this process lives on until the SIGKILL, so the group is gone within the grace period
    threading.Timer(HANGUP_GRACE_SECONDS, os.killpg, (group, signal.SIGKILL)).start()
    os.killpg(group, signal.SIGTERM)  # this process too: Prefect's handler cancels the runs


def _deployment(flow: Any, name: str) -> RunnerDeployment:
    return cast(RunnerDeployment, flow.to_deployment(name=name, tags=["videogen"]))


def main() -> None:
    limit = int(os.environ.get("VIDEOGEN_SERVE_LIMIT", "2"))
    signal.signal(signal.SIGHUP, _stop_group)
    print(f"serve: deployment music-video/music-video and director mode's (max {limit} runs at once)", flush=True)
    serve(
        _deployment(music_video, "music-video"),
        _deployment(regenerate_clip, REGENERATE_DEPLOYMENT.split("/")[1]),
        _deployment(choose_version, CHOOSE_DEPLOYMENT.split("/")[1]),
        limit=limit,
        pause_on_shutdown=False,
    )


if __name__ == "__main__":
    main()
