"""OpenAI (or any OpenAI-compatible server) as scene planner and prompt writer, with schema-constrained output.

The model answers in a *draft* schema that is strict-structured-output compatible (every field required, no
free-form dicts); code then turns the draft into the pipeline's contract, filling what the model must not invent
(exact boundary times, song energy, transition timing) and validating the rest (``VideoPlan`` validators,
``check_against``) and, for plans, against the request (``core.faithful.check_faithful``). An invalid, truncated
or unfaithful reply gets exactly one repair turn (the errors or rule violations are sent back); a second bad reply
is a PlanningError: a plan that contradicts the request is not sent on to paid video generation.

Retries: one layer only. The SDK's own retries are off (``max_retries=0``); rate limits, timeouts, connection
errors and 5xx become TransientProviderError (with the reply's ``Retry-After``), which the Prefect task retries
with backoff, waiting at least ``Retry-After``. A prompt that still fails falls back to the template prompt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, TypeVar

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import BaseModel, ConfigDict, ValidationError

from core import budget, pricing
from core.contracts import (
    AudioAnalysis,
    Camera,
    CameraMovement,
    Character,
    ClipPrompt,
    ClipScript,
    JobRequest,
    ReferenceImage,
    Scene,
    SceneObject,
    StyleInfo,
    Transition,
    VideoPlan,
)
from core.errors import PlanningError, ProviderError, TransientProviderError
from core.faithful import RULES, Reading, check_faithful, read_request
from core.hashing import seed_of
from core.prompts import build_prompt
from core.settings import OpenAISettings, get_settings, require_key
from core.timeline import TransitionKind
from providers.base import PromptWriter, ScenePlanner

D = TypeVar("D", bound=BaseModel)


# --------------------------------------------------------------------------- wire schemas (what the model writes)


class Draft(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttributeDraft(Draft):
    key: str
    value: str


class CharacterDraft(Draft):
    name: str
    description: str
    attributes: list[AttributeDraft]


class SceneDraft(Draft):
    id: str
    name: str
    environment: str
    time_of_day: str
    palette_shift: int


class ObjectDraft(Draft):
    name: str
    attributes: list[AttributeDraft]


class StyleDraft(Draft):
    palette: list[str]
    visual_style: str
    mood: str
    lighting: str
    keywords: list[str]
    avoid: list[str]


class CameraDraft(Draft):
    shot: str
    movement: CameraMovement
    angle: str


class ClipDraft(Draft):
    index: int
    scene_id: str
    characters: list[str]
    visual_description: str
    motion: str
    motion_intensity: float
    camera: CameraDraft
    lyrics_context: str


class TransitionDraft(Draft):
    from_index: int
    kind: TransitionKind


class PlanDraft(Draft):
    summary: str
    characters: list[CharacterDraft]
    scenes: list[SceneDraft]
    objects: list[ObjectDraft]
    style: StyleDraft
    clips: list[ClipDraft]
    transitions: list[TransitionDraft]
    fade_in: float
    fade_out: float


class PromptDraft(Draft):
    prompt: str
    negative_prompt: str


def response_format(model: type[BaseModel]) -> ResponseFormatJSONSchema:
    """Strict json_schema response format: drafts have no defaults and forbid extras, as strict mode requires."""
    return {
        "type": "json_schema",
        "json_schema": {"name": model.__name__, "schema": model.model_json_schema(), "strict": True},
    }


# --------------------------------------------------------------------------- draft <-> contract


def must_keep(reading: Reading) -> dict[str, Any]:
    """The request's reading, as the model is told it (``core.faithful``)."""
    return {
        "subjects": [t.phrase for t in reading.of("subject")],
        "places": [t.phrase for t in reading.of("place")],
        "things": [t.phrase for t in reading.of("object")],
        "actions": list(reading.actions),
        "time_of_day": list(reading.times),
        "weather": list(reading.weather),
        "mood": list(reading.moods),
        "style_words": list(reading.style_words),
        "ruled_out": (["people"] if reading.no_people else []) + [w for w in reading.negated if w != "person"],
    }


def plan_payload(request: JobRequest, audio: AudioAnalysis) -> dict[str, Any]:
    """What the planner sends: the request, what it must keep, and the song facts (exact clip boundaries)."""
    lyrics = audio.lyrics
    return {
        "task": "plan",
        "request": request.model_dump(mode="json", include={"prompt", "style", "mood"}),
        "must_keep": must_keep(read_request(request)),
        "song": {
            "duration": audio.duration,
            "tempo": audio.tempo,
            "energy": audio.energy,
            "sections": [s.model_dump(mode="json") for s in audio.sections],
            "lyrics": {
                "instrumental": lyrics.instrumental,
                "language": lyrics.language,
                "segments": [s.model_dump(mode="json") for s in lyrics.segments],
            },
            "boundaries": [
                {**b.model_dump(mode="json"), "energy": round(audio.energy_between(b.start, b.end), 3)}
                for b in audio.boundaries
            ],
        },
    }


def plan_from_draft(draft: PlanDraft, audio: AudioAnalysis, *, crossfade: float, fade: float) -> VideoPlan:
    """Contract from the model's draft; raises ValueError/ValidationError when the draft is inconsistent."""
    if len(draft.clips) != len(audio.boundaries):
        raise ValueError(f"{len(draft.clips)} clips for {len(audio.boundaries)} boundaries: need one per boundary")
    clips = [
        ClipScript(
            index=c.index,
            scene_id=c.scene_id,
            characters=c.characters,
            visual_description=c.visual_description,
            motion=c.motion,
            motion_intensity=min(1.0, max(0.0, c.motion_intensity)),
            camera=Camera(**c.camera.model_dump()),
            lyrics_context=c.lyrics_context,
            energy=round(audio.energy_between(b.start, b.end), 3),
        )
        for c, b in zip(draft.clips, audio.boundaries, strict=True)
    ]
    lengths = {"cut": 0.0, "crossfade": crossfade, "fade": fade}
    transitions = [
        Transition(from_index=t.from_index, to_index=t.from_index + 1, kind=t.kind, duration=lengths[t.kind])
        for t in draft.transitions
    ]
    plan = VideoPlan(
        summary=draft.summary,
        characters=[
            Character(name=c.name, description=c.description, attributes={a.key: a.value for a in c.attributes})
            for c in draft.characters
        ],  # fmt: skip
        scenes=[Scene(**s.model_dump()) for s in draft.scenes],
        objects=[SceneObject(name=o.name, attributes={a.key: a.value for a in o.attributes}) for o in draft.objects],
        style=StyleInfo(**draft.style.model_dump()),
        clips=clips,
        transitions=transitions,
        fade_in=min(3.0, max(0.0, draft.fade_in)),
        fade_out=min(5.0, max(0.0, draft.fade_out)),
        planner="openai",
    )
    plan.check_against(audio.boundaries)
    return plan


def draft_from_plan(plan: VideoPlan) -> PlanDraft:
    """The inverse, used by the fake LLM to answer with the offline planner's plan."""
    return PlanDraft(
        summary=plan.summary,
        characters=[
            CharacterDraft(
                name=c.name,
                description=c.description,
                attributes=[AttributeDraft(key=k, value=v) for k, v in c.attributes.items()],
            )
            for c in plan.characters
        ],  # fmt: skip
        scenes=[SceneDraft(**s.model_dump()) for s in plan.scenes],
        objects=[
            ObjectDraft(name=o.name, attributes=[AttributeDraft(key=k, value=v) for k, v in o.attributes.items()])
            for o in plan.objects
        ],
        style=StyleDraft(**plan.style.model_dump()),
        clips=[
            ClipDraft(**c.model_dump(exclude={"energy", "camera"}), camera=CameraDraft(**c.camera.model_dump()))
            for c in plan.clips
        ],
        transitions=[TransitionDraft(from_index=t.from_index, kind=t.kind) for t in plan.transitions],
        fade_in=plan.fade_in,
        fade_out=plan.fade_out,
    )


def prompt_payload(plan: VideoPlan, clip: ClipScript, *, reference: ReferenceImage) -> dict[str, Any]:
    return {
        "task": "prompt",
        "clip_index": clip.index,
        "has_reference": reference.uri is not None,
        "plan": plan.model_dump(mode="json", exclude={"cost", "planner"}),
    }


PLAN_SYSTEM = (
    """You are the director of a music video. From the request and the song facts (JSON), write the video \
plan as JSON matching the schema. The plan must be faithful to the request: "must_keep" lists what the request \
names and rules out. Structure rules: exactly one clip per entry of song.boundaries, in order, with the same \
index; one transition between consecutive clips (from_index 0..n-2): "cut" on \
strong beats and high energy, "crossfade" in calm passages, "fade" at section changes; 3-8 palette colours as \
#rrggbb; scene ids and character names used by clips must be defined; motion_intensity 0..1 follows the clip's \
energy within the range the mood allows; use the lyrics (when not instrumental) for lyrics_context and imagery; \
keep characters consistent. Write concrete, plain words: name the subjects, the place, the time of day, the \
weather and the action in every visual_description.
"""
    + RULES
)

PROMPT_SYSTEM = """You write the text prompt for one clip of a music video, for an image-to-video model. Use the \
plan (JSON) and the clip index: subject and action from the clip script, the scene, the style (visual style, mood, \
lighting, palette), camera shot and movement, motion intensity, and the transition hints into and out of the clip. \
One dense paragraph under 120 words; a short negative prompt of artefacts to avoid."""


# --------------------------------------------------------------------------- the client


def make_client(cfg: OpenAISettings) -> openai.OpenAI:
    """Real client; ConfigError naming the variable when no key is set (only called when this provider is used)."""
    return openai.OpenAI(api_key=require_key(cfg), base_url=cfg.base_url, timeout=cfg.timeout, max_retries=0)


def vendor_error(exc: openai.OpenAIError, stage: str) -> ProviderError:
    """Map SDK errors: rate limits, timeouts, connection errors and 5xx are transient."""
    status = getattr(exc, "status_code", None)
    transient = (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError, openai.InternalServerError)
    message = f"{type(exc).__name__}: {exc}"
    if not isinstance(exc, transient):
        return ProviderError(message, provider="openai", status=status, stage=stage)
    response = getattr(exc, "response", None)
    wait = retry_after(response.headers) if response is not None else None
    return TransientProviderError(message, provider="openai", status=status, stage=stage, retry_after=wait)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The server's requested wait in seconds: ``retry-after-ms`` (OpenAI), else ``Retry-After`` as seconds or an
    HTTP date; None when absent or unreadable."""
    try:
        if ms := headers.get("retry-after-ms"):
            return max(0.0, float(ms) / 1000)
        value = (headers.get("retry-after") or "").strip()
        if not value:
            return None
        if value.replace(".", "", 1).isdigit():
            return float(value)
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


class _Chat:
    """Structured chat with one repair turn; accumulates the cost of every reply (invalid ones are billed too)."""

    def __init__(self, client: openai.OpenAI, model: str, stage: str) -> None:
        self.client, self.model, self.stage = client, model, stage
        self.cost = 0.0
        self.calls = 0

    def _call(
        self, messages: list[ChatCompletionMessageParam], fmt: type[BaseModel], max_tokens: int
    ) -> ChatCompletion:
        chars = sum(len(str(m.get("content", ""))) for m in messages)
        worst = pricing.token_cost(self.model, chars // 2 + 200, max_tokens)  # ~3-4 chars/token, so //2 is safe
        with budget.paid_call(worst, f"{self.stage}: {self.model} call") as charge:
            try:
                reply = self.client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    response_format=response_format(fmt),
                    max_completion_tokens=max_tokens,
                    temperature=0.7,
                )
            except openai.OpenAIError as exc:
                raise vendor_error(exc, self.stage) from exc
            self.calls += 1
            if reply.usage is not None:
                charge.actual = pricing.token_cost(self.model, reply.usage.prompt_tokens, reply.usage.completion_tokens)
            self.cost += charge.actual
        return reply

    def ask(
        self,
        system: str,
        payload: dict[str, Any],
        fmt: type[D],
        convert: Any,
        *,
        max_tokens: int,
    ) -> Any:
        """Ask, convert the draft with ``convert(draft)``; on an invalid/truncated reply repair once."""
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system},
            {"role": "user", "content": json.dumps(payload)},
        ]
        error = ""
        for attempt in range(2):
            reply = self._call(messages, fmt, max_tokens)
            choice = reply.choices[0]
            content = choice.message.content or ""
            try:
                if choice.finish_reason == "length":
                    raise ValueError(f"reply truncated at {max_tokens} tokens")
                if choice.message.refusal:
                    raise ValueError(f"model refused: {choice.message.refusal}")
                return convert(fmt.model_validate_json(content))
            except (ValueError, ValidationError) as exc:  # ValidationError is a ValueError; named for clarity
                error = str(exc)[:2000]
                if attempt == 1:
                    break
                messages += [
                    {"role": "assistant", "content": content},
                    {
                        "role": "user",
                        "content": f"That reply is invalid: {error}\nReply again with the complete, "
                        "corrected JSON only.",
                    },  # fmt: skip
                ]
        raise PlanningError(f"{self.model} gave an invalid reply twice: {error}", stage=self.stage)


class UnfaithfulPlan(ValueError):
    """A schema-valid plan that breaks the faithfulness rules; its message lists the violations."""


def faithful_plan(request: JobRequest, plan: VideoPlan) -> VideoPlan:
    """The plan, or UnfaithfulPlan naming what it breaks (sent back to the model in the repair turn)."""
    if violations := check_faithful(request, plan):
        raise UnfaithfulPlan("the plan breaks the faithfulness rules: " + "; ".join(violations[:20]))
    return plan


class OpenAIPlanner(ScenePlanner):
    provider_id = "openai"

    def __init__(self) -> None:
        self.settings = get_settings()
        self.model = self.settings.openai.planner_model

    def cache_identity(self) -> dict[str, Any]:
        return {**super().cache_identity(), "base_url": self.settings.openai.base_url, "prompt": seed_of(PLAN_SYSTEM)}

    def plan(self, request: JobRequest, audio: AudioAnalysis) -> VideoPlan:
        chat = _Chat(make_client(self.settings.openai), self.model, "plan")
        render = self.settings.render
        max_tokens = min(16000, 1200 + 300 * len(audio.boundaries))
        plan: VideoPlan = chat.ask(
            PLAN_SYSTEM,
            plan_payload(request, audio),
            PlanDraft,
            lambda d: faithful_plan(request, plan_from_draft(d, audio, crossfade=render.crossfade, fade=render.fade)),
            max_tokens=max_tokens,
        )
        return plan.model_copy(update={"cost": round(chat.cost, 6)})


class OpenAIPromptWriter(PromptWriter):
    provider_id = "openai"
    max_tokens: ClassVar[int] = 600

    def __init__(self) -> None:
        self.settings = get_settings()
        self.model = self.settings.openai.prompt_model

    def cache_identity(self) -> dict[str, Any]:
        return {**super().cache_identity(), "base_url": self.settings.openai.base_url, "prompt": seed_of(PROMPT_SYSTEM)}

    def write(
        self, plan: VideoPlan, clip: ClipScript, *, reference: ReferenceImage, audio: AudioAnalysis
    ) -> ClipPrompt:
        chat = _Chat(make_client(self.settings.openai), self.model, "prompts")
        # Everything but the text comes from the plan (timing, palette, camera...): the template builds it.
        base = build_prompt(plan, clip, reference=reference)

        def convert(d: PromptDraft) -> ClipPrompt:
            if not d.prompt.strip():
                raise ValueError("empty prompt")
            return base.model_copy(
                update={
                    "prompt": d.prompt.strip(),
                    "negative_prompt": d.negative_prompt.strip() or base.negative_prompt,
                }
            )

        prompt: ClipPrompt = chat.ask(
            PROMPT_SYSTEM, prompt_payload(plan, clip, reference=reference), PromptDraft, convert,
            max_tokens=self.max_tokens,
        )  # fmt: skip
        return prompt.model_copy(update={"provider": self.provider_id, "cost": round(chat.cost, 6)})
