"""Offline providers with a call log and scripted failures that work across processes (workers run each flow in
a subprocess): selected by ``"tests.ops.scripted:ScriptedVideo"`` specs in VIDEOGEN_PROVIDERS__*, driven by files in
VIDEOGEN_SCRIPT_DIR.

    calls.log      one line per provider call: ``<kind> <clip index or -> <pid>``
    fail-<index>   while it exists, clip <index> fails permanently (a content-policy refusal: never retried)
    VIDEOGEN_SCRIPT_DELAY   seconds each clip takes on top of rendering (to kill a worker mid-run)
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from core.compose import ConformTarget
from core.contracts import AudioAnalysis, ClipPrompt, JobRequest, ReferenceImage, VideoPlan
from core.errors import ProviderError
from core.timeline import Slot
from providers.base import GeneratedClip
from providers.offline.planner import HeuristicPlanner
from providers.offline.reference import ProceduralReference
from providers.offline.video import ProceduralVideo


def script_dir() -> Path:
    return Path(os.environ["VIDEOGEN_SCRIPT_DIR"])


def log_call(kind: str, index: int | None = None) -> None:
    with open(script_dir() / "calls.log", "a") as f:  # O_APPEND: whole lines, even from parallel threads
        f.write(f"{kind} {'-' if index is None else index} {os.getpid()}\n")


def read_calls(folder: Path) -> list[tuple[str, int | None, int]]:
    path = folder / "calls.log"
    lines = path.read_text().splitlines() if path.exists() else []
    out = []
    for line in lines:
        kind, index, pid = line.split()
        out.append((kind, None if index == "-" else int(index), int(pid)))
    return out


class ScriptedVideo(ProceduralVideo):
    provider_id = "scripted"

    def generate(
        self, prompt: ClipPrompt, *, slot: Slot, reference: Path | None, out: Path, target: ConformTarget | None = None
    ) -> GeneratedClip:
        log_call("video", prompt.index)
        if (script_dir() / f"fail-{prompt.index}").exists():
            raise ProviderError("prompt rejected by the model (scripted)", provider=self.provider_id, status=422)
        time.sleep(float(os.environ.get("VIDEOGEN_SCRIPT_DELAY", "0")))
        return super().generate(prompt, slot=slot, reference=reference, out=out, target=target)


class ScriptedPlanner(HeuristicPlanner):
    provider_id = "scripted"

    def plan(self, request: JobRequest, audio: AudioAnalysis) -> VideoPlan:
        log_call("plan")
        return super().plan(request, audio)


class ScriptedReference(ProceduralReference):
    provider_id = "scripted"

    def generate(self, plan: VideoPlan, *, description: str, out: Path) -> ReferenceImage:
        log_call("reference")
        return super().generate(plan, description=description, out=out)
