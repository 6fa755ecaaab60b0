"""A loopback Replicate: the predictions API the real ``replicate`` client speaks, serving real media.

POST /v1/models/{owner}/{name}/predictions, POST /v1/predictions (by version), GET /v1/predictions/{id},
POST /v1/predictions/{id}/cancel; statuses starting -> processing -> succeeded | failed | canceled; outputs are
files served by the same server; ``metrics.predict_time`` is the simulated run time. Video models render with
the offline renderer at the model's resolution and length (``core.catalog``), image models paint a reference,
Whisper and WhisperX answer a configurable transcript, each in its own wire format (WhisperX: aligned words, a
numeral left untimed as its aligner leaves it). Every create is recorded (``FakeReplicate.calls``).
"""

from __future__ import annotations

import base64
import hashlib
import re
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse

from core.catalog import VIDEO_MODELS, VideoModel, frame_size
from core.contracts import Camera, ClipPrompt, StyleInfo
from devtools.fakes.common import Faults, redact
from providers.offline.reference import paint_reference
from providers.offline.render import render_clip

#: versions of community models the fake knows (POST /v1/predictions names a version, not a model)
VERSIONS = {"8099696689d249cf8b122d833c36ac3f75505c666a395ca40ef26f68e7d3d16e": "openai/whisper",
            "655845d6190ef70573c669245f245892cd039df4b880a1e3a65852c09252f5cc": "victor-upmeet/whisperx"}  # fmt: skip
WHISPERX = "victor-upmeet/whisperx"
#: its inputs (github.com/victor-upmeet/whisperx-replicate, predict.py)
WHISPERX_INPUTS = frozenset({
    "audio_file", "language", "language_detection_min_prob", "language_detection_max_tries", "initial_prompt",
    "batch_size", "temperature", "vad_onset", "vad_offset", "align_output", "diarization", "huggingface_access_token",
    "min_speakers", "max_speakers", "debug",
})  # fmt: skip
IMAGE_MODELS = ("black-forest-labs/", "stability-ai/")
WhisperMode = Literal["instrumental", "hallucinated", "lyrics", "empty"]
LYRICS = [(0.5, 3.0, "Neon rain on the city streets"), (3.0, 6.0, "we dance till 4 in the morning light"),
          (6.0, 9.5, "hearts like engines in the night")]  # fmt: skip


@dataclass
class Prediction:
    id: str
    model: str
    version: str | None
    input: dict[str, Any]
    fate: str  # "ok" | "failed"
    created: float
    start_at: float
    done_at: float
    predict_time: float
    status: str = "starting"
    output: Any = None
    error: str | None = None
    files: dict[str, Path] = field(default_factory=dict)
    ready: threading.Event = field(default_factory=threading.Event)

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "model": self.model, "input": redact(self.input), "status": self.status,
                "predict_time": self.predict_time if self.status in ("succeeded", "failed") else None}  # fmt: skip


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _palette(text: str) -> list[str]:
    found = re.findall(r"#[0-9a-fA-F]{6}", text)
    if len(found) >= 3:
        return (found * 3)[: max(5, min(8, len(found)))]
    h = hashlib.sha256(text.encode()).hexdigest()
    return [f"#{h[i : i + 6]}" for i in range(0, 30, 6)]


def input_problems(spec: VideoModel, data: dict[str, Any]) -> list[str]:
    """What the real API's input validation would say about ``data`` (Replicate answers 422 and creates nothing):
    unknown inputs, an aspect ratio or resolution the model does not offer, too many reference images."""
    problems = [f"Additional property {k} is not allowed" for k in sorted(set(data) - spec.inputs())]
    if spec.aspect_param and spec.aspect_param in data and data[spec.aspect_param] not in spec.aspect_ratios:
        problems.append(f"{spec.aspect_param} must be one of the following: {', '.join(spec.aspect_ratios)}")
    if spec.resolution_param and spec.resolution_param in data:
        allowed = [spec.resolution_values.get(r, r) for r in spec.resolutions]
        if data[spec.resolution_param] not in allowed:
            problems.append(f"{spec.resolution_param} must be one of the following: {allowed}")
    refs = data.get(spec.reference_images_param or "", [])
    if spec.reference_images_param and (not isinstance(refs, list) or len(refs) > spec.max_reference_images):
        problems.append(f"{spec.reference_images_param}: at most {spec.max_reference_images} images")
    if spec.image == "required" and spec.image_param not in data:
        problems.append(f"{spec.image_param} is required")
    return problems


def whisperx_problems(data: dict[str, Any]) -> list[str]:
    problems = [f"Additional property {k} is not allowed" for k in sorted(set(data) - WHISPERX_INPUTS)]
    return problems + ([] if "audio_file" in data else ["audio_file is required"])


def _shape_of(image: Path | None) -> str:
    """Image-to-video models without an aspect input follow their first frame's shape."""
    if image is None:
        return "16:9"
    from PIL import Image

    with Image.open(image) as img:
        ratio = img.width / img.height
    return "16:9" if ratio > 1.3 else "9:16" if ratio < 0.77 else "1:1"


def _decode_image(value: Any, folder: Path) -> Path | None:
    if not isinstance(value, str) or not value.startswith("data:"):
        return None
    path = folder / "input-image"
    path.write_bytes(base64.b64decode(value.split(",", 1)[1]))
    return path


class FakeReplicate:
    def __init__(self, faults: Faults | None = None, *, whisper: WhisperMode = "instrumental") -> None:
        self.faults = faults or Faults()
        self.whisper = whisper
        self.base_url = ""  # set by the runner, for output file URLs
        self.predictions: dict[str, Prediction] = {}
        self.http_errors: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []  # creates refused with 422 (input validation failed)
        self.fail_next_video = 0  # the next N video predictions end failed (permanent)
        self.dir = Path(tempfile.mkdtemp(prefix="fake-replicate-"))
        self._lock = threading.Lock()
        self.app = self._build()

    # ------------------------------------------------------------------ what tests read
    @property
    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [p.record() for p in self.predictions.values()]

    def reset(self) -> None:
        with self._lock:
            self.predictions.clear()
            self.http_errors.clear()
            self.rejected.clear()

    # ------------------------------------------------------------------ behaviour
    def _create(self, model: str, version: str | None, data: dict[str, Any]) -> Prediction:
        known = model in VIDEO_MODELS or model in ("openai/whisper", WHISPERX) or model.startswith(IMAGE_MODELS)
        if not known:
            raise HTTPException(404, detail=f"model {model} not found")
        if model in VIDEO_MODELS or model == WHISPERX:
            problems = input_problems(VIDEO_MODELS[model], data) if model in VIDEO_MODELS else whisperx_problems(data)
            if problems:
                with self._lock:
                    self.rejected.append({"model": model, "input": redact(data), "problems": problems})
                raise HTTPException(422, detail="\n".join(f"- input: {p}" for p in problems))
        fate = self.faults.draw(("failed",))
        if fate in ("429", "500", "503"):
            self.http_errors.append({"model": model, "status": int(fate)})
            raise HTTPException(int(fate), detail="rate limited" if fate == "429" else "service unavailable")
        with self._lock:
            if model in VIDEO_MODELS and self.fail_next_video > 0:
                self.fail_next_video -= 1
                fate = "failed"
        runtime = self.faults.runtime()
        now = time.time()
        pred = Prediction(
            id=uuid.uuid4().hex[:20], model=model, version=version, input=data, fate=fate if fate == "failed" else "ok",
            created=now, start_at=now + min(0.05, runtime / 4), done_at=now + runtime,
            predict_time=round(runtime * self.faults.time_scale, 3),
        )  # fmt: skip
        with self._lock:
            self.predictions[pred.id] = pred
        threading.Thread(target=self._produce, args=(pred,), daemon=True).start()
        return pred

    def _produce(self, pred: Prediction) -> None:
        """Make the output file(s) while the simulated run time passes."""
        folder = self.dir / pred.id
        folder.mkdir(parents=True, exist_ok=True)
        try:
            if pred.fate == "failed":
                pred.error = "Prediction failed: the model could not generate an output for this input (E001)"
            elif pred.model in VIDEO_MODELS:
                pred.output = self._video(pred, folder)
            elif pred.model.startswith(IMAGE_MODELS):
                url = self._image(pred, folder)
                pred.output = [url] if "flux" in pred.model else url
            elif pred.model == WHISPERX:
                pred.output = self._whisperx()
            else:
                pred.output = self._transcript()
        except Exception as exc:  # noqa: BLE001 - a fake model crash is a failed prediction
            pred.fate, pred.error = "failed", f"{type(exc).__name__}: {exc}"
        pred.ready.set()

    def _url(self, pred: Prediction, name: str, path: Path) -> str:
        pred.files[name] = path
        return f"{self.base_url}/files/{pred.id}/{name}"

    def _video(self, pred: Prediction, folder: Path) -> str:
        spec = VIDEO_MODELS[pred.model]
        duration, resolution = spec.parse_input(pred.input)
        reference = _decode_image(pred.input.get(spec.image_param), folder)
        aspect = str(pred.input.get(spec.aspect_param or "", "")) or _shape_of(reference)
        width, height = frame_size(resolution, aspect if aspect in ("16:9", "9:16", "1:1") else "16:9")
        text = str(pred.input.get("prompt", ""))
        prompt = ClipPrompt(
            index=0, prompt=text or "clip", palette=_palette(text),
            visual_style="fake", mood="fake", lighting="fake", camera=Camera(), motion="drift", motion_intensity=0.5,
            energy=0.5, scene_id="fake", seed=int(pred.input.get("seed", 0)) % 2**31,
        )  # fmt: skip
        out = folder / "output.mp4"
        render_clip(prompt, out, duration=duration, reference=reference, width=width, height=height, fps=spec.fps)
        return self._url(pred, "output.mp4", out)

    def _image(self, pred: Prediction, folder: Path) -> str:
        text = str(pred.input.get("prompt", ""))
        style = StyleInfo(palette=_palette(text), visual_style=text[:80] or "fake", mood="fake", lighting="fake")
        out = paint_reference(style, folder / "output.png", seed=int(pred.input.get("seed", 0)), size=(1344, 768))
        return self._url(pred, "output.png", out)

    def _transcript(self) -> dict[str, Any]:
        def seg(i: int, start: float, end: float, text: str, no_speech: float = 0.05) -> dict[str, Any]:
            return {"id": i, "seek": 0, "start": start, "end": end, "text": f" {text}", "tokens": [1, 2, 3],
                    "temperature": 0.0, "avg_logprob": -0.3, "compression_ratio": 1.2,
                    "no_speech_prob": no_speech}  # fmt: skip

        if self.whisper == "lyrics":
            segments = [seg(i, *s) for i, s in enumerate(LYRICS)]
            language = "english"
        elif self.whisper == "hallucinated":
            segments = [seg(i, 2.0 * i, 2.0 * i + 2, "Thank you for watching!", 0.3) for i in range(6)]
            language = "english"
        elif self.whisper == "instrumental":
            segments = [seg(0, 0.0, 5.0, "♪", 0.9)]
            segments[0]["avg_logprob"] = -1.5
            language = "english"
        else:
            segments, language = [], None
        return {"segments": segments, "transcription": "".join(s["text"] for s in segments).strip(),
                "translation": None, "txt_file": None, "srt_file": None, "detected_language": language}  # fmt: skip

    def _whisperx(self) -> dict[str, Any]:
        """WhisperX with ``align_output``: segments with words; no no-speech figures (its VAD runs first)."""

        def seg(start: float, end: float, text: str) -> dict[str, Any]:
            words: list[dict[str, Any]] = []
            t = start + 0.1
            step = (end - start - 0.3) / sum(len(w) + 1 for w in text.split())
            for i, w in enumerate(text.split()):
                took = (len(w) + 1) * step
                if w.isdigit():  # no letter the wav2vec2 aligner knows: no start, end or score
                    words.append({"word": w})
                else:
                    words.append({"word": w, "start": round(t, 3), "end": round(t + 0.8 * took, 3),
                                  "score": round(0.95 - 0.1 * (i % 3), 3)})  # fmt: skip
                t += took
            timed = [w for w in words if "start" in w]
            return {"start": timed[0]["start"], "end": timed[-1]["end"], "text": f" {text}", "words": words}

        if self.whisper == "lyrics":
            segments = [seg(*s) for s in LYRICS]
        elif self.whisper == "hallucinated":
            segments = [seg(2.0 * i, 2.0 * i + 2, "Thank you for watching!") for i in range(6)]
        elif self.whisper == "instrumental":
            segments = [{"start": 0.0, "end": 5.0, "text": " ♪", "words": [{"word": "♪"}]}]
        else:
            segments = []
        return {"segments": segments, "detected_language": "en"}

    def _refresh(self, pred: Prediction) -> None:
        now = time.time()
        if pred.status in ("succeeded", "failed", "canceled"):
            return
        if now >= pred.done_at and pred.ready.is_set():
            pred.status = "failed" if pred.fate == "failed" else "succeeded"
            if pred.status == "failed":
                pred.predict_time = round(pred.predict_time / 2, 3)  # failed partway
        elif now >= pred.start_at:
            pred.status = "processing"

    def _json(self, pred: Prediction) -> dict[str, Any]:
        self._refresh(pred)
        done = pred.status in ("succeeded", "failed", "canceled")
        return {
            "id": pred.id,
            "model": pred.model,
            "version": pred.version or "official",
            "status": pred.status,
            "input": redact(pred.input),
            "output": pred.output if pred.status == "succeeded" else None,
            "error": pred.error if pred.status == "failed" else None,
            "logs": "",
            "metrics": {"predict_time": pred.predict_time} if done and pred.status != "canceled" else {},
            "created_at": _iso(pred.created),
            "started_at": _iso(pred.start_at) if pred.status != "starting" else None,
            "completed_at": _iso(pred.done_at) if done else None,
            "urls": {
                "get": f"{self.base_url}/v1/predictions/{pred.id}",
                "cancel": f"{self.base_url}/v1/predictions/{pred.id}/cancel",
            },  # fmt: skip
        }

    # ------------------------------------------------------------------ HTTP
    def _build(self) -> FastAPI:
        app = FastAPI(title="fake replicate")

        def auth(request: Request) -> None:
            if not request.headers.get("authorization", "").startswith(("Bearer ", "Token ")):
                raise HTTPException(401, detail="You did not pass an authentication token")
            self.faults.maybe_slow()

        @app.exception_handler(HTTPException)
        def problem(request: Request, exc: HTTPException) -> JSONResponse:
            return JSONResponse({"title": "error", "detail": exc.detail, "status": exc.status_code},
                                status_code=exc.status_code)  # fmt: skip

        @app.post("/v1/models/{owner}/{name}/predictions", status_code=201)
        def create_official(owner: str, name: str, body: dict[str, Any], request: Request) -> dict[str, Any]:
            auth(request)
            return self._json(self._create(f"{owner}/{name}", None, body.get("input") or {}))

        @app.post("/v1/predictions", status_code=201)
        def create_version(body: dict[str, Any], request: Request) -> dict[str, Any]:
            auth(request)
            version = str(body.get("version", ""))
            model = VERSIONS.get(version.split(":")[-1], version.split(":")[0])
            return self._json(self._create(model, version, body.get("input") or {}))

        @app.get("/v1/predictions/{pid}")
        def get(pid: str, request: Request) -> dict[str, Any]:
            auth(request)
            if pid not in self.predictions:
                raise HTTPException(404, detail="prediction not found")
            return self._json(self.predictions[pid])

        @app.post("/v1/predictions/{pid}/cancel")
        def cancel(pid: str, request: Request) -> dict[str, Any]:
            auth(request)
            pred = self.predictions.get(pid)
            if pred is None:
                raise HTTPException(404, detail="prediction not found")
            self._refresh(pred)
            if pred.status not in ("succeeded", "failed"):
                pred.status = "canceled"
            return self._json(pred)

        @app.get("/files/{pid}/{name}")
        def file(pid: str, name: str) -> FileResponse:
            pred = self.predictions.get(pid)
            if pred is None or name not in pred.files:
                raise HTTPException(404, detail="file not found")
            return FileResponse(pred.files[name])

        @app.get("/_fake/calls")
        def calls() -> dict[str, Any]:
            return {"predictions": self.calls, "http_errors": self.http_errors}

        return app
