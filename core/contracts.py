"""Stage contracts: one pydantic model per edge of the pipeline (PRD modules 3-8).

    AudioAnalysis -> VideoPlan -> ReferenceImage -> ClipPrompt -> ClipResult -> CompositionResult -> JobResult

Everything is JSON-serialisable; files travel as URIs (``file:///...`` locally, ``s3://...`` later), never bytes.
Times are seconds from the start of the song unless a field says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from core.settings import Quality
from core.stages import StageId
from core.timeline import Aspect, Timeline, TransitionKind

HexColor = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]

CameraMovement = Literal["static", "zoom_in", "zoom_out", "pan_left", "pan_right", "tilt_up", "tilt_down"]


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- module 3: audio parser


class Boundary(Contract):
    """One clip slot. Slots are contiguous: ``boundaries[i].end == boundaries[i+1].start``."""

    index: int = Field(ge=0)
    start: float = Field(ge=0)
    end: float = Field(gt=0)
    duration: float = Field(gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Boundary:
        if self.end <= self.start or abs(self.end - self.start - self.duration) > 1e-3:
            raise ValueError(f"boundary {self.index}: start/end/duration disagree")
        return self


class Section(Contract):
    """A stretch of the song with homogeneous timbre/harmony (verse, chorus, ... unlabelled)."""

    start: float = Field(ge=0)
    end: float = Field(gt=0)
    label: int = Field(ge=0, description="cluster id; equal ids sound alike")
    energy: Unit


class LyricSegment(Contract):
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str


CaptionMode = Literal["none", "soft", "karaoke"]
WordTiming = Literal["recognised", "matched", "interpolated", "spread"]


class LyricWord(Contract):
    """One word with its time in the song. ``timing``: ``recognised`` (the recogniser's own word), ``matched`` (a
    supplied word aligned onto a recognised one), ``interpolated`` (a supplied word the recogniser missed, timed
    between its matched neighbours), ``spread`` (supplied words timed over the vocal regions / LRC line times
    because recognition was skipped)."""

    text: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    confidence: Unit = 0.0
    line: int = Field(0, ge=0, description="index of its line in Lyrics.segments")
    timing: WordTiming = "recognised"


class Lyrics(Contract):
    text: str = ""
    segments: list[LyricSegment] = Field(default_factory=list)
    words: list[LyricWord] = Field(default_factory=list, description="word-level times, in song order")
    confidence: Unit = Field(0.0, description="mean word confidence of the recogniser")
    supplied: bool = Field(False, description="the words are the user's lyrics, aligned to the audio")
    alignment: str | None = Field(None, description="how supplied lyrics were timed, with counts")
    voiced: list[tuple[float, float]] = Field(
        default_factory=list, description="where the recogniser heard a voice at all (before its hallucination guard)"
    )
    language: str | None = None
    instrumental: bool = True
    provider: str = "offline"
    fallback_used: bool = False
    error: str | None = None
    cost: float = 0.0


class AudioValidation(Contract):
    beats_detected: bool
    boundaries_valid: bool
    min_clip_duration: float
    max_clip_duration: float
    cuts_on_beats: bool
    messages: list[str] = Field(default_factory=list)


class AudioAnalysis(Contract):
    source: str = Field(description="URI of the analysed audio")
    sha256: str
    format: str = Field(description="container sniffed from the bytes: mp3, wav, ogg, flac, m4a")
    duration: float = Field(gt=0)
    sample_rate: int
    tempo: float = Field(gt=0, description="BPM (median local tempo)")
    beats: list[float] = Field(description="detected beat times (or the tempo grid when fallback_used)")
    downbeats: list[float] = Field(default_factory=list, description="estimated bar starts (subset of beats)")
    meter: str = Field("4/4", description="detected time signature: 4/4, 3/4, 2/4 or 6/8")
    beats_per_bar: int = Field(4, ge=1, description="beats between downbeats (6/8: 2 dotted-quarter beats)")
    meter_confidence: Unit = Field(0.0, description="0 = a guess (results cached before meters were detected)")
    onsets: list[float] = Field(
        default_factory=list, description="attack times from a level-rise detector independent of the beat tracker"
    )
    beat_strength: list[float] = Field(default_factory=list, description="onset strength 0-1 per beat")
    beat_confidence: Unit
    energy: Unit = Field(description="overall loudness, 0-1")
    energy_curve: list[float] = Field(description="RMS energy 0-1 sampled every energy_hop seconds")
    energy_hop: float = Field(gt=0)
    sections: list[Section] = Field(default_factory=list)
    boundaries: list[Boundary]
    fallback_used: bool = False
    fallback_reason: str | None = None
    lyrics: Lyrics = Field(default_factory=Lyrics)
    validation: AudioValidation

    def energy_between(self, start: float, end: float) -> float:
        """Mean energy (0-1) of the curve over [start, end)."""
        i0 = int(start / self.energy_hop)
        i1 = max(i0 + 1, int(end / self.energy_hop))
        window = self.energy_curve[i0:i1] or self.energy_curve[-1:] or [self.energy]
        return float(sum(window) / len(window))


# --------------------------------------------------------------------------- module 4: scene planner


class Character(Contract):
    name: str
    description: str
    attributes: dict[str, str] = Field(default_factory=dict)


class Scene(Contract):
    id: str
    name: str
    environment: str
    time_of_day: str = ""
    palette_shift: int = Field(0, description="rotation of the style palette used by this scene")


class SceneObject(Contract):
    name: str
    attributes: dict[str, str] = Field(default_factory=dict)


class StyleInfo(Contract):
    palette: list[HexColor] = Field(min_length=3, max_length=8)
    visual_style: str
    mood: str
    lighting: str
    keywords: list[str] = Field(default_factory=list)
    avoid: list[str] = Field(
        default_factory=list, description="what the request rules out ('no people'); goes into negative prompts"
    )


class Camera(Contract):
    shot: str = "medium shot"
    movement: CameraMovement = "static"
    angle: str = "eye level"


class ClipScript(Contract):
    """What one clip shows. Its place in the video is slot ``index`` of the job's Timeline."""

    index: int = Field(ge=0)
    scene_id: str
    characters: list[str] = Field(default_factory=list)
    visual_description: str
    motion: str
    motion_intensity: Unit = Field(description="0 calm .. 1 frantic; drives render speed")
    camera: Camera
    lyrics_context: str = ""
    energy: Unit = 0.5


class Transition(Contract):
    """Transition from clip ``from_index`` into clip ``from_index + 1``, centred on their cut (the Timeline's)."""

    from_index: int = Field(ge=0)
    to_index: int = Field(ge=1)
    kind: TransitionKind
    duration: float = Field(ge=0, le=2.0)


class VideoPlan(Contract):
    summary: str
    characters: list[Character]
    scenes: list[Scene] = Field(min_length=1)
    objects: list[SceneObject] = Field(default_factory=list)
    style: StyleInfo
    clips: list[ClipScript] = Field(min_length=3)
    transitions: list[Transition]
    fade_in: float = Field(0.0, ge=0, le=3)
    fade_out: float = Field(0.0, ge=0, le=5)
    planner: str = "offline"
    cost: float = Field(0.0, ge=0, description="USD spent producing the plan")

    @model_validator(mode="after")
    def _consistent(self) -> VideoPlan:
        scene_ids = {s.id for s in self.scenes}
        names = {c.name for c in self.characters}
        for i, clip in enumerate(self.clips):
            if clip.index != i:
                raise ValueError(f"clip scripts out of order at {i}")
            if clip.scene_id not in scene_ids:
                raise ValueError(f"clip {i} uses unknown scene {clip.scene_id!r}")
            if unknown := set(clip.characters) - names:
                raise ValueError(f"clip {i} uses unknown characters {sorted(unknown)}")
        if len(self.transitions) != len(self.clips) - 1:
            raise ValueError("need exactly one transition between consecutive clips")
        for i, tr in enumerate(self.transitions):
            if (tr.from_index, tr.to_index) != (i, i + 1):
                raise ValueError(f"transition {i} joins {tr.from_index}->{tr.to_index}")
        return self

    def check_against(self, boundaries: list[Boundary]) -> None:
        """Raise ValueError unless there is one clip script per clip slot."""
        if len(boundaries) != len(self.clips):
            raise ValueError(f"{len(self.clips)} clip scripts for {len(boundaries)} boundaries")


# --------------------------------------------------------------------------- module 5: reference generator


class CharacterReference(Contract):
    """One main character's reference image (a portrait on a plain ground), cached by its description."""

    name: str
    uri: str | None = Field(description="PNG URI, or None when it failed (its clips use text + the style image)")
    description: str
    cache_key: str
    status: Literal["generated", "cached", "failed"]
    cost: float = 0.0
    error: str | None = None


class ReferenceImage(Contract):
    uri: str | None = Field(description="PNG URI, or None when generation failed (text-only fallback)")
    description: str
    cache_key: str
    palette: list[HexColor]
    provider: str
    model: str = ""
    width: int = 0
    height: int = 0
    status: Literal["generated", "cached", "failed"]
    attempts: int = 1
    cost: float = 0.0
    error: str | None = None
    characters: list[CharacterReference] = Field(default_factory=list, description="one per main character")


# --------------------------------------------------------------------------- module 6: prompt generator


class ClipPrompt(Contract):
    """The prompt for slot ``index`` of the Timeline (its length and beats are the slot's)."""

    index: int = Field(ge=0)
    prompt: str
    negative_prompt: str = ""
    palette: list[HexColor]
    visual_style: str
    mood: str
    lighting: str
    camera: Camera
    motion: str
    motion_intensity: Unit
    energy: Unit
    scene_id: str
    transition_in: TransitionKind = "cut"
    transition_out: TransitionKind = "cut"
    reference_uri: str | None = None
    seed: int = Field(ge=0)
    provider: str = "offline"
    cost: float = Field(0.0, ge=0, description="USD spent writing this prompt")
    aspect: Aspect = Field("16:9", description="the frame the clip is composed for (core.prompts.frame_for)")
    characters: list[str] = Field(default_factory=list, description="the characters this clip shows")
    character_uris: dict[str, str] = Field(
        default_factory=dict, description="name -> reference image of those that have one, for models that take them"
    )


# --------------------------------------------------------------------------- module 7: video generator


class ClipValidation(Contract):
    file_ok: bool
    duration_ok: bool
    resolution_ok: bool
    fps_ok: bool
    duration_diff: float = Field(description="actual - target duration, seconds")


class ClipConsistency(Contract):
    """How well a clip keeps the video's look (``core.consistency``): flagged beyond the thresholds."""

    palette_distance: float = Field(ge=0, le=1, description="mean distance of its colours to the plan's palette")
    reference_similarity: float = Field(ge=0, le=1, description="colour-histogram overlap with the references")
    characters_used: list[str] = Field(default_factory=list, description="character references sent with it")
    flagged: bool = False
    reasons: list[str] = Field(default_factory=list)


class ClipResult(Contract):
    index: int = Field(ge=0)
    status: Literal["succeeded", "failed"]
    uri: str | None = None
    provider: str
    model: str = ""
    target_duration: float = Field(gt=0, description="the slot length the composer must fill")
    requested_duration: float = Field(ge=0, description="closest duration the model offers")
    duration: float = Field(0.0, ge=0, description="actual duration of the returned file")
    width: int = 0
    height: int = 0
    fps: float = 0.0
    cost: float = 0.0
    generation_time: float = 0.0
    attempts: int = 1
    error: str | None = None
    validation: ClipValidation | None = None
    assets: list[str] = Field(default_factory=list, description="drawable assets the clip shows (offline model)")
    consistency: ClipConsistency | None = None


# --------------------------------------------------------------------------- module 8: composer


#: how far a cut (or a loop restart) may sit from a beat and still count as on it, seconds
BEAT_TOLERANCE = 0.05


class CompositionValidation(Contract):
    duration_ok: bool
    sync_ok: bool
    resolution_ok: bool
    fps_ok: bool
    cuts_on_beats: bool = Field(description="every cut within beat_tolerance_ms of a beat (the analysis' own)")
    beat_tolerance_ms: float = Field(BEAT_TOLERANCE * 1000, description="what 'on the beat' means here")
    messages: list[str] = Field(default_factory=list)


class CutSync(Contract):
    """Where one cut of the output lands, measured against the beats and against onsets that the beat tracker
    did not produce (``AudioAnalysis.onsets``). Offsets are signed: cut minus the nearest event."""

    index: int = Field(ge=0, description="the cut into slot index + 1")
    time: float = Field(ge=0, description="seconds, on the frame grid")
    frame: int = Field(ge=0)
    beat_offset_ms: float | None = Field(None, description="to the nearest beat; None without beats")
    beat_offset_frames: float | None = None
    onset_offset_ms: float | None = Field(None, description="to the nearest onset peak; None without onsets")
    onset_offset_frames: float | None = None
    on_downbeat: bool = False
    transition: TransitionKind = "cut"


class LoopRestart(Contract):
    """Where a looped clip (a hosted model's, shorter than its slot) starts again in the output."""

    clip: int = Field(ge=0)
    time: float = Field(ge=0, description="seconds, on the frame grid")
    beat_offset_ms: float | None = Field(None, description="to the nearest beat, signed; None without beats")


class CompositionResult(Contract):
    uri: str
    duration: float
    audio_duration: float
    sync_drift: float = Field(description="|video - audio| duration, seconds")
    width: int
    height: int
    fps: float
    video_codec: str
    audio_codec: str
    clips_used: list[int]
    clips_failed: list[int] = Field(default_factory=list)
    clips_trimmed: int
    clips_looped: int
    clips_slowed: int = Field(0, description="clips a little short of their slot, played up to 6 % slower")
    loop_restarts: list[LoopRestart] = Field(default_factory=list, description="every jump back of a looped clip")
    speed_factor: float = 1.0
    transitions: list[TransitionKind] = Field(default_factory=list, description="as applied (after fallbacks)")
    cuts: list[float] = Field(description="times of the cuts in the output")
    sync: list[CutSync] = Field(default_factory=list, description="per cut: offsets from beats and onsets")
    wall_time: float = 0.0
    captions: CaptionMode = Field("none", description="as made: none (no words), soft, karaoke")
    captions_srt: str | None = Field(None, description="URI of the .srt sidecar")
    captions_vtt: str | None = Field(None, description="URI of the .vtt sidecar")
    validation: CompositionValidation


# --------------------------------------------------------------------------- job


class StageCost(Contract):
    stage: StageId
    cost: float = 0.0
    calls: int = 0
    cached: bool = False
    seconds: float = 0.0


class CostReport(Contract):
    by_stage: dict[str, float]
    total: float
    currency: Literal["USD"] = "USD"

    @classmethod
    def from_stages(cls, stages: list[StageCost]) -> CostReport:
        by_stage = {s.stage: round(s.cost, 4) for s in stages}
        return cls(by_stage=by_stage, total=round(sum(by_stage.values()), 4))


class JobRequest(Contract):
    """What a user asks for; the flow's parameters."""

    audio_uri: str
    prompt: str = Field(min_length=1, description="its length limit is a setting (core.limits)")
    style: str | None = None
    mood: str | None = None
    duration_hint: float | None = Field(None, gt=0, description="preferred clip length, seconds (core.limits)")
    aspect: Aspect = Field("16:9", description="output format: 16:9 (1920x1080), 9:16 (1080x1920), 1:1 (1080x1080)")
    lyrics: str | None = Field(None, description="the user's lyrics, plain text or LRC (core.lyrics, core.limits)")
    captions: CaptionMode | None = Field(
        None, description="none, soft (a subtitle track + .srt/.vtt) or karaoke (burned in); default: soft"
    )
    quality: Quality | None = Field(None, description="render quality (core.settings.QUALITY); unset: the setting")


class JobResult(Contract):
    job_id: str
    request: JobRequest
    audio: AudioAnalysis
    plan: VideoPlan
    timeline: Timeline
    reference: ReferenceImage
    prompts: list[ClipPrompt]
    clips: list[ClipResult]
    composition: CompositionResult
    cost: CostReport
    stages: list[StageCost]
    output_uri: str


class ProgressEvent(Contract):
    """The one progress message: emitted by tasks, carried by Prefect events/Redis, shown by CLI/WebSocket/UI."""

    job_id: str
    stage: StageId | Literal["job"]
    status: Literal["queued", "running", "completed", "cached", "failed", "error", "complete", "awaiting_review"]
    progress: float = Field(ge=0, le=100, description="percent of the stage (or of the job for stage='job')")
    message: str = ""
    clip_index: int | None = None
    clip_count: int | None = Field(None, description="number of clips, on per-clip events")
    cost: float = Field(0.0, description="cost of the stage so far, USD")
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))
    event_id: str | None = Field(
        None, description="position in the job's event stream (set by the API); resume with ?last_event_id="
    )
