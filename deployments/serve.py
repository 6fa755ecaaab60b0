"""Serve the ``music-video`` deployment from this process: ``python -m deployments.serve``.

The served deployment is named ``music-video/music-video`` (the API's default ``VIDEOGEN_API__DEPLOYMENT``); each
flow run executes in a subprocess. Needs ``PREFECT_API_URL`` (a ``prefect server start``). For a work pool instead,
see ``prefect.yaml``.
"""

from __future__ import annotations

import os

from flows.music_video import music_video


def main() -> None:
    limit = int(os.environ.get("VIDEOGEN_SERVE_LIMIT", "2"))
    print(f"serve: deployment music-video/music-video (max {limit} runs at once)", flush=True)
    music_video.serve(name="music-video", tags=["videogen"], limit=limit, pause_on_shutdown=False)


if __name__ == "__main__":
    main()
