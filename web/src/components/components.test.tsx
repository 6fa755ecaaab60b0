import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { api } from "../api/client";
import type { AudioAnalysis, ClipInfo, CompositionResult, CutSync, Limits, Timeline, VideoPlan } from "../api/types";
import { FakeSocket, JOB, event, stages, update } from "../test/fakeSocket";
import { ClipGallery } from "./ClipGallery";
import { CostTracker } from "./CostTracker";
import { ErrorMessage } from "./ErrorMessage";
import { FinalVideo } from "./FinalVideo";
import { ClipDirector } from "./Director";
import { JobPage } from "./JobPage";
import { SongAnalysis } from "./SongAnalysis";
import { StageProgress } from "./StageProgress";
import { Storyboard } from "./Storyboard";
import { SyncReport } from "./SyncReport";
import { UploadForm } from "./UploadForm";

const song = (name = "song.mp3", type = "audio/mpeg", size = 1000) => new File([new Uint8Array(size)], name, { type });

// deliberately not the defaults of core/settings.py: the form must show whatever the server says
const LIMITS: Limits = {
  max_upload_mb: 20, max_prompt_chars: 300, max_style_chars: 40, max_mood_chars: 30, min_duration: 8, max_duration: 240,
  min_clip: 3, max_clip: 7,
  audio_formats: ["mp3", "wav", "ogg"],
  aspects: ["16:9", "9:16", "1:1"],
  max_lyrics_bytes: 5000, max_variants: 3, review_default: false,
};
const limitsOk = async () => LIMITS;

describe("UploadForm", () => {
  it("requires a song and a prompt before creating the job", async () => {
    const createJob = vi.fn();
    render(<UploadForm onCreated={() => {}} createJob={createJob} measure={async () => 30} loadLimits={limitsOk} />);
    await waitFor(() => expect((screen.getByTestId("submit") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("submit"));
    expect(await screen.findByText("Choose a song first.")).toBeTruthy();
    fireEvent.change(screen.getByTestId("audio-input"), { target: { files: [song()] } });
    await waitFor(() => expect(screen.queryByText("Choose a song first.")).toBeNull());
    fireEvent.click(screen.getByTestId("submit"));
    expect(await screen.findByText("Describe the video you want.")).toBeTruthy();
    expect(createJob).not.toHaveBeenCalled();
  });

  it("checks the file against the server's limits: type, size, song length", async () => {
    render(<UploadForm onCreated={() => {}} createJob={vi.fn()} measure={async () => 300} loadLimits={limitsOk} />);
    expect(await screen.findByTestId("audio-limits")).toHaveProperty("textContent", "(MP3, WAV, OGG · up to 4 minutes, 20 MB)");
    expect(screen.getByTestId("audio-input").getAttribute("accept")).toBe("audio/*,.mp3,.wav,.ogg");
    fireEvent.change(screen.getByTestId("audio-input"), { target: { files: [song("notes.txt", "text/plain")] } });
    expect(await screen.findByText("“notes.txt” is not an audio file: choose an MP3, WAV or OGG song.")).toBeTruthy();
    fireEvent.change(screen.getByTestId("audio-input"), { target: { files: [song("big.mp3", "audio/mpeg", 21_000_000)] } });
    expect(await screen.findByText(/is 21.0 MB; the limit is 20 MB/)).toBeTruthy();
    fireEvent.change(screen.getByTestId("audio-input"), { target: { files: [song()] } });
    expect(await screen.findByText("The song is 5:00; the limit is 4 minutes.")).toBeTruthy();
  });

  it("bounds the clip length and the text fields by the server's limits", async () => {
    render(<UploadForm onCreated={() => {}} createJob={vi.fn()} measure={async () => 30} loadLimits={limitsOk} />);
    const hint = await screen.findByTestId("duration-input");
    await waitFor(() => expect(hint.getAttribute("max")).toBe("7"));
    expect(hint.getAttribute("min")).toBe("3");
    expect(screen.getByTestId("prompt-input").getAttribute("maxLength")).toBe("300");
    expect(screen.getByTestId("style-input").getAttribute("maxLength")).toBe("40");
    expect(screen.getByTestId("mood-input").getAttribute("maxLength")).toBe("30");
    fireEvent.change(hint, { target: { value: "10" } });
    expect(screen.getByText("Use 3–7 seconds, or leave empty.")).toBeTruthy();
    fireEvent.change(hint, { target: { value: "6.5" } });
    expect(screen.queryByText("Use 3–7 seconds, or leave empty.")).toBeNull();
    fireEvent.change(screen.getByTestId("prompt-input"), { target: { value: "neon fox" } });
    expect(screen.getByTestId("prompt-count").textContent).toBe(" 8/300");
  });

  it("sends the lyrics and the karaoke choice with the job", async () => {
    const createJob = vi.fn(async () => ({ job_id: "abc", status: "queued" as const, flow_run_id: "f", events_url: "", status_url: "" }));
    render(<UploadForm onCreated={() => {}} createJob={createJob} measure={async () => 30} loadLimits={limitsOk} />);
    const lyrics = await screen.findByTestId("lyrics-input");
    await waitFor(() => expect(lyrics.getAttribute("maxLength")).toBe("5000"));
    fireEvent.change(screen.getByTestId("audio-input"), { target: { files: [song()] } });
    fireEvent.change(screen.getByTestId("prompt-input"), { target: { value: "a ghost in a hat" } });
    fireEvent.change(lyrics, { target: { value: "[00:17.60]soy un fantasma que\n" } });
    fireEvent.click(screen.getByTestId("karaoke-input"));
    await waitFor(() => expect((screen.getByTestId("submit") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("submit"));
    await waitFor(() => expect(createJob).toHaveBeenCalled());
    expect(createJob).toHaveBeenCalledWith(expect.objectContaining({ lyrics: "[00:17.60]soy un fantasma que\n", captions: "karaoke" }));
  });

  it("waits for the limits before it submits, then works without them if the server does not say", async () => {
    let fail: (e: Error) => void = () => {};
    const loadLimits = () => new Promise<Limits>((_, reject) => (fail = reject));
    const createJob = vi.fn(async () => ({ job_id: "abc", status: "queued" as const, flow_run_id: "f", events_url: "", status_url: "" }));
    render(<UploadForm onCreated={() => {}} createJob={createJob} measure={async () => 1000} loadLimits={loadLimits} />);
    const submit = screen.getByTestId("submit") as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    expect(submit.textContent).toBe("Loading…");
    await act(async () => fail(new Error("404 Not Found")));
    expect(submit.disabled).toBe(false);
    expect(screen.queryByTestId("audio-limits")).toBeNull();
    expect(screen.getByTestId("duration-input").getAttribute("max")).toBeNull();
    fireEvent.change(screen.getByTestId("audio-input"), { target: { files: [song()] } });
    fireEvent.change(screen.getByTestId("prompt-input"), { target: { value: "neon fox" } });
    fireEvent.change(screen.getByTestId("duration-input"), { target: { value: "20" } }); // the server judges it
    await screen.findByText(/16:40/);
    fireEvent.click(submit);
    expect(await screen.findByText("Job abc created")).toBeTruthy();
    expect(createJob).toHaveBeenCalledWith(expect.objectContaining({ durationHint: 20 }));
  });

  it("sends the fields and shows the new job id", async () => {
    const createJob = vi.fn(async () => ({ job_id: "abc", status: "queued" as const, flow_run_id: "f", events_url: "", status_url: "" }));
    const onCreated = vi.fn();
    render(<UploadForm onCreated={onCreated} createJob={createJob} measure={async () => 42} loadLimits={limitsOk} />);
    fireEvent.change(screen.getByTestId("audio-input"), { target: { files: [song()] } });
    fireEvent.change(screen.getByTestId("prompt-input"), { target: { value: "  neon fox  " } });
    fireEvent.change(screen.getByTestId("style-input"), { target: { value: "watercolor" } });
    fireEvent.change(screen.getByTestId("duration-input"), { target: { value: "4" } });
    expect(await screen.findByText(/0:42/)).toBeTruthy();
    fireEvent.click(screen.getByTestId("submit"));
    expect(await screen.findByText("Job abc created")).toBeTruthy();
    expect(createJob).toHaveBeenCalledWith(expect.objectContaining({ prompt: "neon fox", style: "watercolor", mood: "", durationHint: 4 }));
    expect(onCreated).toHaveBeenCalled();
  });

  it("offers the server's output formats and sends the chosen one", async () => {
    const createJob = vi.fn(async () => ({ job_id: "v", status: "queued" as const, flow_run_id: "f", events_url: "", status_url: "" }));
    render(<UploadForm onCreated={() => {}} createJob={createJob} measure={async () => 42} loadLimits={limitsOk} />);
    const select = (await screen.findByTestId("aspect-select")) as HTMLSelectElement;
    expect(Array.from(select.options).map((o) => o.value)).toEqual(["16:9", "9:16", "1:1"]);
    expect(select.value).toBe("16:9");
    fireEvent.change(screen.getByTestId("audio-input"), { target: { files: [song()] } });
    fireEvent.change(screen.getByTestId("prompt-input"), { target: { value: "neon fox" } });
    fireEvent.change(select, { target: { value: "9:16" } });
    expect(await screen.findByText(/0:42/)).toBeTruthy();
    fireEvent.click(screen.getByTestId("submit"));
    expect(await screen.findByText("Job v created")).toBeTruthy();
    expect(createJob).toHaveBeenCalledWith(expect.objectContaining({ aspect: "9:16" }));
  });
});

describe("job view components", () => {
  const running = stages({ audio: "done", plan: { state: "running", progress: 10, message: "Planning characters" } });

  it("StageProgress draws the server's stages: titles, states, progress and the message", () => {
    render(<StageProgress stages={running} progress={12} message="Planning characters: file:///data/x/plan.json" />);
    const el = screen.getByTestId("stage-progress");
    const titles = [...el.querySelectorAll(".stage-title")].map((t) => t.textContent);
    expect(titles).toEqual(["Analysing audio", "Planning scenes", "Style reference", "Writing prompts", "Generating clips", "Composing video"]);
    expect(el.querySelector('[data-stage="audio"]')?.getAttribute("data-state")).toBe("done");
    expect(el.querySelector('[data-stage="plan"]')?.getAttribute("data-state")).toBe("running");
    expect(el.querySelector('[data-stage="plan"]')?.textContent).toContain("in progress · 10%");
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("12");
    expect(screen.getByTestId("job-message").textContent).toBe("Planning characters");
  });

  it("StageProgress shows a failed stage as failed", () => {
    render(<StageProgress stages={stages({ audio: "done", plan: "done", reference: "failed", prompts: "running" })} progress={20} message="" />);
    const ref = screen.getByTestId("stage-progress").querySelector('[data-stage="reference"]');
    expect(ref?.getAttribute("data-state")).toBe("failed");
    expect(ref?.className).toContain("stage-failed");
    expect(ref?.textContent).toContain("!");
    expect(ref?.textContent).toContain("failed");
  });

  it("CostTracker shows the server's cost by stage and total against the budget", () => {
    const cost = { by_stage: { audio: 0.02, plan: 0.005 }, total: 0.025, currency: "USD" as const };
    const { container } = render(<CostTracker stages={stages({ audio: "done", plan: "cached" })} cost={cost} budget={0.75} perMinute={1.5} />);
    expect(screen.getByTestId("cost-total").textContent).toBe("$0.03 of $0.75");
    expect(screen.getByTestId("cost-total").getAttribute("data-value")).toBe("0.0250");
    const row = (id: string) => container.querySelector(`tr[data-stage="${id}"] td`)?.textContent;
    expect([row("audio"), row("plan"), row("video")]).toEqual(["$0.02", "$0.0050", "—"]);
  });

  it("ClipGallery shows one preview per clip file, failed and rendering slots for the rest", () => {
    const clip = (index: number): ClipInfo => ({ index, status: "succeeded", url: `/api/jobs/j/clips/${index}`, duration: 4, target_duration: 4, width: 1920, height: 1080, fps: 24, provider: "offline", cost: 0, error: null, consistency: null });
    const { container } = render(<ClipGallery clips={[clip(0), clip(2)]} ready={[0, 2]} failed={[1]} expected={4} />);
    expect(screen.getAllByTestId("clip-preview").map((c) => c.getAttribute("data-index"))).toEqual(["0", "2"]);
    expect(container.querySelector(".clip-failed")?.getAttribute("data-index")).toBe("1");
    expect(container.querySelector(".clip-pending")?.getAttribute("data-index")).toBe("3");
    expect(screen.getByTestId("clips-count").textContent).toBe("2 of 4 ready · 1 failed");
  });

  it("ClipGallery shows each clip's consistency figures and flags the off-look ones", () => {
    const base = { status: "succeeded" as const, url: null, duration: 4, target_duration: 4, width: 1080, height: 1920, fps: 24, provider: "replicate", cost: 0, error: null };
    const ok: ClipInfo = { ...base, index: 0, consistency: { palette_distance: 0.19, reference_similarity: 0.25, characters_used: ["fox"], flagged: false, reasons: [] } };
    const off: ClipInfo = { ...base, index: 1, consistency: { palette_distance: 0.22, reference_similarity: 0.14, characters_used: [], flagged: true, reasons: ["looks unlike its references (0.14 < 0.2)"] } };
    render(<ClipGallery clips={[ok, off]} ready={[0, 1]} failed={[]} expected={2} />);
    const [first, second] = screen.getAllByTestId("clip-consistency") as [HTMLElement, HTMLElement];
    expect(first.textContent).toBe("Look: palette 0.19 · refs 0.25 · fox");
    expect(first.getAttribute("data-flagged")).toBe("false");
    expect(second.textContent).toContain("Off-look");
    expect(second.getAttribute("title")).toContain("unlike its references");
  });

  it("ErrorMessage names the failing stage by its registry title", () => {
    render(<ErrorMessage stage="video" message="only 1 of 4 clips" />);
    expect(screen.getByTestId("error-message").textContent).toContain("Failed at “Generating clips”");
    expect(screen.getByRole("alert")).toBeTruthy();
  });

  it("Storyboard places each shot by its Timeline slot", () => {
    const camera = { shot: "wide", movement: "pan_left" as const, angle: "eye level" };
    const script = (index: number) => ({ index, scene_id: "s1", characters: [], visual_description: `shot ${index}`, motion: "drifts", motion_intensity: 0.5, camera, lyrics_context: "", energy: 0.5 });
    const plan: VideoPlan = {
      summary: "a fox", characters: [], scenes: [{ id: "s1", name: "forest", environment: "neon", time_of_day: "night", palette_shift: 0 }],
      objects: [], style: { palette: ["#ff00aa"], visual_style: "watercolor", mood: "dreamy", lighting: "neon", keywords: [], avoid: [] },
      clips: [script(0), script(1)], transitions: [], fade_in: 0, fade_out: 0, planner: "offline", cost: 0,
    };
    const slot = (index: number, start: number, end: number) => ({ index, start_frame: start * 30, end_frame: end * 30, start, end, duration: end - start, beats: [] });
    const timeline: Timeline = { fps: 30, aspect: "16:9", width: 1920, height: 1080, frames: 300, slots: [slot(0, 0, 4.5), slot(1, 4.5, 10)], windows: [{ to_index: 1, kind: "cut", frames: 0 }], fade_in: 0, fade_out: 0 };
    render(<Storyboard plan={plan} timeline={timeline} prompts={null} reference={null} />);
    expect(screen.getAllByTestId("storyboard-shot").map((s) => s.querySelector(".shot-head .muted")?.textContent)).toEqual([
      "0.0–4.5 s · wide, pan left",
      "4.5–10.0 s · wide, pan left",
    ]);
  });

  it("SongAnalysis draws beats, cuts and sections", () => {
    const analysis: AudioAnalysis = {
      source: "file:///song.mp3", sha256: "0".repeat(64), format: "mp3", duration: 10, sample_rate: 22050, tempo: 120,
      beats: [0.5, 1, 1.5, 2], downbeats: [0.5], meter: "4/4", beats_per_bar: 4, meter_confidence: 0.8, onsets: [0.5, 1],
      beat_strength: [1, 1, 1, 1], beat_confidence: 0.9, energy: 0.5,
      energy_curve: [0.1, 0.5, 0.9, 0.4], energy_hop: 2.5,
      sections: [{ start: 0, end: 5, label: 0, energy: 0.3 }, { start: 5, end: 10, label: 1, energy: 0.6 }],
      boundaries: [{ index: 0, start: 0, end: 4, duration: 4 }, { index: 1, start: 4, end: 7, duration: 3 }, { index: 2, start: 7, end: 10, duration: 3 }],
      fallback_used: false, fallback_reason: null,
      lyrics: { text: "", segments: [], words: [], confidence: 0, supplied: false, alignment: null, voiced: [], language: null, instrumental: true, provider: "offline", fallback_used: false, error: null, cost: 0 },
      validation: { beats_detected: true, boundaries_valid: true, min_clip_duration: 3, max_clip_duration: 4, cuts_on_beats: true, messages: [] },
    };
    const { container } = render(<SongAnalysis analysis={analysis} />);
    expect(container.querySelectorAll("line.beat, line.downbeat")).toHaveLength(4);
    expect(container.querySelectorAll("line.downbeat")).toHaveLength(1);
    expect(container.querySelectorAll("line.cut")).toHaveLength(2);
    expect(container.querySelectorAll("rect")).toHaveLength(2);
    expect(screen.getByText(/120 BPM · 4\/4/)).toBeTruthy();
  });

  // three cuts: +10 ms on a downbeat, -20 ms, +80 ms (past the 50 ms tolerance); one loop restart 70 ms off
  const cut = (index: number, time: number, beat: number | null, onset: number | null, down = false): CutSync => ({
    index, time, frame: Math.round(time * 30), beat_offset_ms: beat, beat_offset_frames: beat === null ? null : (beat * 30) / 1000,
    onset_offset_ms: onset, onset_offset_frames: onset === null ? null : (onset * 30) / 1000, on_downbeat: down, transition: "cut",
  });
  const composition = (sync: CutSync[], restarts: CompositionResult["loop_restarts"] = []): CompositionResult => ({
    uri: "file:///final.mp4", duration: 20, audio_duration: 20, sync_drift: 0.008, width: 1920, height: 1080, fps: 30,
    video_codec: "h264", audio_codec: "aac", clips_used: [0, 1, 2, 3], clips_failed: [], clips_trimmed: 0, clips_looped: restarts.length,
    clips_slowed: 0, loop_restarts: restarts, speed_factor: 1, transitions: sync.map(() => "cut"), cuts: sync.map((c) => c.time), sync,
    wall_time: 3, captions: "none", captions_srt: null, captions_vtt: null,
    validation: { duration_ok: true, sync_ok: true, resolution_ok: true, fps_ok: true, cuts_on_beats: false, beat_tolerance_ms: 50, messages: ["cuts off the beat: [15.0]"] },
  });

  it("SyncReport counts the cuts off the beat, on downbeats and within a frame, and draws each cut", () => {
    const c = composition([cut(0, 5, 10, 4, true), cut(1, 10, -20, null), cut(2, 15, 80, 30)], [{ clip: 2, time: 17, beat_offset_ms: 70 }]);
    const { container } = render(<SyncReport composition={c} analysis={null} />);
    expect(screen.getByTestId("sync-verdict").textContent).toBe("1 of 3 cuts more than 50 ms from a beat");
    expect(screen.getByTestId("sync-within-frame").textContent).toBe("2 / 3"); // 0.3 and 0.6 frames; 2.4 is not
    expect(screen.getByTestId("sync-downbeats").textContent).toBe("1 / 3");
    expect(screen.getByTestId("sync-worst").textContent).toBe("80 ms");
    expect(screen.getByTestId("sync-restarts").textContent).toBe("1 (1 off the beat)");
    expect(screen.getAllByTestId("sync-cut")).toHaveLength(3);
    expect(container.querySelectorAll("circle.sync-off")).toHaveLength(1);
    expect(container.querySelectorAll("rect.sync-onset")).toHaveLength(2); // the cut with no onset draws none
    expect(screen.getByTestId("sync-messages").textContent).toContain("cuts off the beat");
    expect(screen.getByTestId("sync-table").querySelectorAll("tbody tr")).toHaveLength(3);
  });

  it("SyncReport says all cuts are on the beat, with the meter, when they are", () => {
    const analysis = { tempo: 96.4, meter: "3/4", meter_confidence: 0.62 } as AudioAnalysis;
    render(<SyncReport composition={composition([cut(0, 5, 3, 3, true), cut(1, 9, -33, -10)])} analysis={analysis} />);
    expect(screen.getByTestId("sync-verdict").textContent).toBe("All 2 cuts within 50 ms of a beat");
    expect(screen.getByTestId("sync-meter").textContent).toBe("96 BPM · 3/4 (confidence 62 %)");
  });
});

describe("JobPage renders the status the server sends", () => {
  beforeEach(() => {
    FakeSocket.all = [];
    // the stage outputs are not there (409): the page must not need them to draw the status
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ detail: "not yet" }), { status: 409 })));
  });
  afterEach(() => vi.unstubAllGlobals());

  const page = () => {
    const fetchStatus = () => new Promise<never>(() => {}); // the socket is enough here
    render(<JobPage jobId={JOB} socket={{ openSocket: FakeSocket.open, fetchStatus }} />);
    const ws = FakeSocket.latest();
    act(() => ws.accept());
    return ws;
  };
  const stateOf = (id: string) => screen.getByTestId("stage-progress").querySelector(`[data-stage="${id}"]`)?.getAttribute("data-state");

  it("shows every stage waiting before the first status", () => {
    render(<JobPage jobId={JOB} socket={{ openSocket: FakeSocket.open, fetchStatus: () => new Promise<never>(() => {}) }} />);
    expect(screen.getByTestId("job-status").getAttribute("data-status")).toBe("");
    expect(["audio", "plan", "reference", "prompts", "video", "compose"].map(stateOf)).toEqual(Array(6).fill("pending"));
  });

  it("draws a message's stages, progress, cost and clips as sent, without folding the event itself", () => {
    const ws = page();
    // the event alone would say little; the status says what the server folded
    act(() => ws.send(update(event({ stage: "video", status: "running", clip_index: 1, clip_count: 3, progress: 100 }, "7-0"), {
      status: "processing", stage: "video", progress: 55.5, message: "Clip 2 of 3 ready",
      stages: stages({ audio: "done", plan: "cached", reference: "done", prompts: "done", video: { state: "running", progress: 33 } }),
      cost: { by_stage: { audio: 0.01, video: 0.2 }, total: 0.21, currency: "USD" }, clip_count: 3, clips_ready: [1],
      prompt: "a neon fox",
    })));
    expect(screen.getByTestId("job-status").getAttribute("data-status")).toBe("processing");
    expect(["audio", "plan", "video", "compose"].map(stateOf)).toEqual(["done", "cached", "running", "pending"]);
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("56");
    expect(screen.getByTestId("job-message").textContent).toBe("Clip 2 of 3 ready");
    expect(screen.getByTestId("cost-total").getAttribute("data-value")).toBe("0.2100");
    expect(screen.getByTestId("clips-count").textContent).toBe("1 of 3 ready");
    expect(screen.getByText("“a neon fox”")).toBeTruthy();
    expect(screen.getByTestId("connection").getAttribute("data-events")).toBe("1");
    expect(screen.getByTestId("connection").getAttribute("data-last-event-id")).toBe("7-0");
  });

  it("shows a failed stage as failed, and the job's error naming it", () => {
    const ws = page();
    act(() => ws.send(update(event({ stage: "job", status: "error", message: "Planning scenes failed: plan invalid" }, "9-0"), {
      status: "error", stage: "plan", message: "Planning scenes failed: plan invalid",
      stages: stages({ audio: "done", plan: "failed" }), error: { stage: "plan", message: "Planning scenes failed: plan invalid" },
    })));
    expect(screen.getByTestId("job-status").getAttribute("data-status")).toBe("error");
    expect(stateOf("plan")).toBe("failed");
    expect(stateOf("reference")).toBe("pending");
    const error = screen.getByTestId("error-message");
    expect(error.getAttribute("data-stage")).toBe("plan");
    expect(error.textContent).toContain("Failed at “Planning scenes”");
    expect(error.textContent).toContain("plan invalid");
    expect(screen.getByTestId("connection").getAttribute("data-connection")).toBe("closed");
  });
});

describe("ClipDirector", () => {
  it("regenerates the clip chosen in the list, not the first", async () => {
    const regenerate = vi.spyOn(api, "regenerate").mockResolvedValue({ job_id: "j", flow_run_id: "r", status_url: "/api/jobs/j" });
    vi.spyOn(api, "getLimits").mockResolvedValue(LIMITS);
    vi.spyOn(api, "getVersions").mockResolvedValue({ clip: 1, chosen: 0, versions: [] } as never);
    render(<ClipDirector jobId="j" clipCount={3} />);
    fireEvent.change(screen.getByTestId("regen-clip"), { target: { value: "1" } });
    expect((screen.getByTestId("regen-clip") as HTMLSelectElement).value).toBe("1");
    fireEvent.click(screen.getByTestId("regenerate"));
    await waitFor(() => expect(regenerate).toHaveBeenCalledWith("j", 1, { variants: 2 }));
  });
});

describe("FinalVideo", () => {
  const createObjectURL = URL.createObjectURL;
  afterEach(() => {
    vi.unstubAllGlobals();
    localStorage.clear();
    URL.createObjectURL = createObjectURL;
  });

  // tried: a gateway with a token; the captions exist (200), then an instrumental song (404)
  it.each([
    [200, true],
    [404, false],
  ])("fetches the captions with the bearer token like the video (captions %i -> track %s)", async (status, track) => {
    localStorage.setItem("videogen.token", "s3cret");
    const calls: Array<[string, string | null]> = [];
    vi.stubGlobal("fetch", vi.fn(async (path: string, init?: RequestInit) => {
      calls.push([path, new Headers(init?.headers).get("Authorization")]);
      const body = path.includes("captions") ? (status === 200 ? "WEBVTT\n" : JSON.stringify({ detail: "no captions" })) : "mp4";
      return new Response(body, { status: path.includes("captions") ? status : 200 });
    }));
    let n = 0;
    URL.createObjectURL = vi.fn(() => `blob:test/${++n}`);
    URL.revokeObjectURL = vi.fn();
    const { container } = render(<FinalVideo jobId={JOB} duration={12} />);
    await screen.findByTestId("final-video");
    await waitFor(() => expect(calls.map(([p]) => p).some((p) => p.includes("captions.vtt"))).toBe(true));
    expect(calls.every(([, auth]) => auth === "Bearer s3cret")).toBe(true);
    if (track) {
      await waitFor(() => expect(container.querySelector("track")?.getAttribute("src")).toMatch(/^blob:test\//));
    } else {
      await new Promise((r) => setTimeout(r, 20));
      expect(container.querySelector("track")).toBeNull();
    }
  });
});
