from __future__ import annotations

from core.contracts import AudioAnalysis, JobRequest, VideoPlan
from core.plan import plan_video
from core.settings import get_settings
from providers.base import ScenePlanner


class HeuristicPlanner(ScenePlanner):
    provider_id = "offline"
    model = "heuristic-v1"
    code_modules = ("core.plan",)

    def plan(self, request: JobRequest, audio: AudioAnalysis) -> VideoPlan:
        render = get_settings().render
        return plan_video(request, audio, crossfade=render.crossfade, fade=render.fade)
