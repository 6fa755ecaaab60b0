from __future__ import annotations

from core.contracts import AudioAnalysis, ClipPrompt, ClipScript, ReferenceImage, VideoPlan
from core.prompts import build_prompt
from providers.base import PromptWriter


class TemplatePromptWriter(PromptWriter):
    provider_id = "offline"
    model = "template-v1"
    code_modules = ("core.prompts",)

    def write(
        self, plan: VideoPlan, clip: ClipScript, *, reference: ReferenceImage, audio: AudioAnalysis
    ) -> ClipPrompt:
        return build_prompt(plan, clip, reference=reference)
