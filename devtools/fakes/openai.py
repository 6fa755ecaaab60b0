"""A loopback OpenAI chat-completions API with structured output: a deterministic "fake LLM".

For the planner's and prompt writer's schemas it reads the JSON the provider sent and answers with the offline
logic (``providers.offline.planner.plan_video``, ``core.prompts.build_prompt``) in the draft schema; any other
json_schema gets a
minimal instance generated from the schema. Faults: HTTP 429/5xx, malformed (schema-invalid) or truncated
replies, "contradicts" (a schema-valid plan that contradicts the prompt: ``contradict``), slow replies.
Every call is recorded with its token usage so tests can price it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from core.contracts import (
    AudioAnalysis,
    AudioValidation,
    Boundary,
    JobRequest,
    Lyrics,
    LyricSegment,
    ReferenceImage,
    Section,
    VideoPlan,
)
from core.prompts import build_prompt
from devtools.fakes.common import Faults
from providers.offline.planner import plan_video
from providers.openai_llm import PromptDraft, draft_from_plan


def tokens(text: str) -> int:
    """A deterministic stand-in for the tokenizer (~4 characters per token)."""
    return max(1, len(text) // 4)


def song_from_payload(song: dict[str, Any], *, hop: float = 0.25) -> AudioAnalysis:
    """An AudioAnalysis with what the planner sent: exact boundaries, per-clip energy, sections, lyrics."""
    bounds = song["boundaries"]
    duration = float(song["duration"])
    curve = []
    for i in range(int(duration / hop) + 1):
        t = i * hop
        b = next((b for b in bounds if b["start"] <= t < b["end"]), bounds[-1])
        curve.append(float(b.get("energy", song.get("energy", 0.5))))
    tempo = float(song.get("tempo", 120.0))
    beats = [round(i * 60 / tempo, 4) for i in range(int(duration * tempo / 60) + 1)]
    lyrics = song.get("lyrics") or {}
    return AudioAnalysis(
        source="fake://song", sha256="fake", format="mp3", duration=duration, sample_rate=22050, tempo=tempo,
        beats=beats, beat_confidence=1.0, energy=float(song.get("energy", 0.5)), energy_curve=curve, energy_hop=hop,
        sections=[Section(**s) for s in song.get("sections", [])],
        boundaries=[Boundary(**{k: b[k] for k in ("index", "start", "end", "duration")}) for b in bounds],
        lyrics=Lyrics(segments=[LyricSegment(**s) for s in lyrics.get("segments", [])],
                      instrumental=bool(lyrics.get("instrumental", True)), language=lyrics.get("language")),
        validation=AudioValidation(beats_detected=True, boundaries_valid=True, min_clip_duration=0,
                                   max_clip_duration=duration, cuts_on_beats=True),
    )  # fmt: skip


def example(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A minimal instance of a JSON schema (the generic fallback for schemas the fake does not know)."""
    if "$ref" in schema:
        return example(defs[schema["$ref"].split("/")[-1]], defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return example(schema[key][0], defs)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: example(v, defs) for k, v in props.items()}
    if kind == "array":
        return [example(schema.get("items", {}), defs) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "text"


def contradict(draft: dict[str, Any]) -> dict[str, Any]:
    """The issue-12 failures in one plan: night becomes dawn (and any other time night), every scene moves to open
    sky among clouds, every motion turns slow and flowing, the lighting turns high-contrast stage lighting."""
    out: dict[str, Any] = json.loads(json.dumps(draft))
    for scene in out["scenes"]:
        scene["time_of_day"] = "dawn" if scene["time_of_day"] == "night" else "night"
        scene["environment"] = "open sky among clouds"
    for clip in out["clips"]:
        clip["visual_description"] = "a lone figure in open sky among clouds at dawn"
        clip["motion"], clip["motion_intensity"] = "slow, flowing movement", 0.3
    out["style"]["lighting"] = "high-contrast stage lighting"
    return out


class FakeOpenAI:
    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.app = self._build()

    @property
    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.records)

    def reset(self) -> None:
        with self._lock:
            self.records.clear()

    def answer(self, body: dict[str, Any]) -> str:
        fmt = (body.get("response_format") or {}).get("json_schema") or {}
        payload: dict[str, Any] = {}
        for m in body.get("messages", []):
            if m.get("role") == "user":
                try:
                    payload = json.loads(m["content"])
                    break
                except (TypeError, ValueError):
                    continue
        name = fmt.get("name")
        if name == "PlanDraft" and payload.get("task") == "plan":
            request = JobRequest(audio_uri="fake://song", **payload["request"])
            plan = plan_video(request, song_from_payload(payload["song"]))
            return draft_from_plan(plan).model_dump_json()
        if name == "PromptDraft" and payload.get("task") == "prompt":
            plan = VideoPlan.model_validate(payload["plan"])
            clip = plan.clips[int(payload["clip_index"])]
            reference = ReferenceImage(
                uri="file:///reference.png" if payload.get("has_reference") else None, description="", cache_key="",
                palette=plan.style.palette, provider="fake", status="generated",
            )  # fmt: skip
            prompt = build_prompt(plan, clip, reference=reference)
            return PromptDraft(prompt=prompt.prompt, negative_prompt=prompt.negative_prompt).model_dump_json()
        schema = fmt.get("schema") or {"type": "object", "properties": {"answer": {"type": "string"}}}
        return json.dumps(example(schema, schema.get("$defs", {})))

    def _build(self) -> FastAPI:
        app = FastAPI(title="fake openai")

        @app.exception_handler(HTTPException)
        def error(request: Request, exc: HTTPException) -> JSONResponse:
            kind = "rate_limit_exceeded" if exc.status_code == 429 else "server_error"
            body = {"error": {"message": exc.detail, "type": kind, "param": None, "code": kind}}
            wait = self.faults.retry_after if exc.status_code == 429 else None
            headers = {"retry-after": f"{wait:g}"} if wait is not None else None
            return JSONResponse(body, status_code=exc.status_code, headers=headers)

        @app.post("/v1/chat/completions")
        def chat(body: dict[str, Any], request: Request) -> dict[str, Any]:
            if not request.headers.get("authorization", "").startswith("Bearer "):
                raise HTTPException(401, detail="missing API key")
            self.faults.maybe_slow()
            time.sleep(self.faults.runtime())
            fate = self.faults.draw(("malformed", "truncated"))
            last_user: dict[str, Any] = next(
                (m for m in reversed(body.get("messages", [])) if m.get("role") == "user"), {}
            )
            model = str(body.get("model", ""))
            prompt_tokens = tokens(json.dumps(body.get("messages", [])))
            schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
            record: dict[str, Any] = {"model": model, "fate": fate, "schema": schema,
                                      "prompt_tokens": 0, "completion_tokens": 0,
                                      "last_message": str(last_user.get("content", ""))[:4000]}  # fmt: skip
            if fate in ("429", "500", "503"):
                with self._lock:
                    self.records.append({**record, "status": int(fate)})
                raise HTTPException(
                    int(fate), detail="Rate limit reached" if fate == "429" else "The server had an error"
                )
            content = self.answer(body)
            finish = "stop"
            if fate == "malformed":
                data = json.loads(content)
                data.pop(next(iter(data)))  # drop a required field: parses as JSON, fails the schema
                content = json.dumps(data)
            elif fate == "contradicts" and schema == "PlanDraft":
                content = json.dumps(contradict(json.loads(content)))
            elif fate == "truncated":
                content, finish = content[: len(content) // 2], "length"
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": tokens(content)}
            with self._lock:
                self.records.append({**record, **usage, "status": 200})
            return {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": finish,
                        "logprobs": None,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                    }
                ],  # fmt: skip
                "usage": {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]},
            }

        @app.get("/_fake/calls")
        def calls() -> list[dict[str, Any]]:
            return self.calls

        return app
