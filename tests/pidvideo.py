"""A video provider that records which process rendered each clip, to prove where per-clip tasks ran.

Select it with ``VIDEOGEN_PROVIDERS__VIDEO=tests.pidvideo:PidVideo`` (a spec every process resolves, Dask workers
included) and name a directory in ``VIDEOGEN_PID_DIR``: every clip writes ``clip-<index>.pid`` there holding
``os.getpid()``.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.compose import ConformTarget
from core.contracts import ClipPrompt
from core.timeline import Slot
from providers.base import GeneratedClip
from providers.offline.video import ProceduralVideo

NAME = "pid"
TARGET = f"{__name__}:PidVideo"
PID_DIR = "VIDEOGEN_PID_DIR"


class PidVideo(ProceduralVideo):
    """The offline renderer, plus one file per clip naming the process that rendered it."""

    provider_id = NAME

    def generate(
        self, prompt: ClipPrompt, *, slot: Slot, reference: Path | None, out: Path, target: ConformTarget | None = None
    ) -> GeneratedClip:
        clip = super().generate(prompt, slot=slot, reference=reference, out=out, target=target)
        pid_dir = Path(os.environ[PID_DIR])
        pid_dir.mkdir(parents=True, exist_ok=True)
        (pid_dir / f"clip-{prompt.index:03d}.pid").write_text(str(os.getpid()))
        return clip


def recorded(pid_dir: Path) -> dict[int, int]:
    """Clip index -> pid of the process that rendered it."""
    return {int(p.stem.removeprefix("clip-")): int(p.read_text()) for p in sorted(pid_dir.glob("clip-*.pid"))}
