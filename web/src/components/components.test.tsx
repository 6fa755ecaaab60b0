import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { AudioAnalysis, ClipInfo } from "../api/types";
import { foldEvents } from "../lib/jobView";
import { event } from "../test/fakeSocket";
import { ClipGallery } from "./ClipGallery";
import { CostTracker } from "./CostTracker";
import { ErrorMessage } from "./ErrorMessage";
import { SongAnalysis } from "./SongAnalysis";
import { StageProgress } from "./StageProgress";
import { UploadForm } from "./UploadForm";

const song = (name = "song.mp3", type = "audio/mpeg", size = 1000) => new File([new Uint8Array(size)], name, { type });

describe("UploadForm", () => {
  it("requires a song and a prompt before creating the job", async () => {
    const createJob = vi.fn();
    render(<UploadForm onCreated={() => {}} createJob={createJob} measure={async () => 30} />);
    fireEvent.click(screen.getByTestId("submit"));
    expect(await screen.findByText("Choose a song first.")).toBeTruthy();
    fireEvent.change(screen.getByTestId("audio-input"), { target: { files: [song()] } });
    await waitFor(() => expect(screen.queryByText("Choose a song first.")).toBeNull());
    fireEvent.click(screen.getByTestId("submit"));
    expect(await screen.findByText("Describe the video you want.")).toBeTruthy();
    expect(createJob).not.toHaveBeenCalled();
  });

  it("rejects files that are not audio, and songs too long", async () => {
    render(<UploadForm onCreated={() => {}} createJob={vi.fn()} measure={async () => 900} />);
    fireEvent.change(screen.getByTestId("audio-input"), { target: { files: [song("notes.txt", "text/plain")] } });
    expect(await screen.findByText(/is not an audio file/)).toBeTruthy();
    fireEvent.change(screen.getByTestId("audio-input"), { target: { files: [song()] } });
    expect(await screen.findByText(/the limit is 10 minutes/)).toBeTruthy();
  });

  it("sends the fields and shows the new job id", async () => {
    const createJob = vi.fn(async () => ({ job_id: "abc", status: "queued" as const, flow_run_id: "f", events_url: "", status_url: "" }));
    const onCreated = vi.fn();
    render(<UploadForm onCreated={onCreated} createJob={createJob} measure={async () => 42} />);
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
});

describe("job view components", () => {
  const view = foldEvents([
    event({ stage: "audio", status: "completed", progress: 100, cost: 0.02 }),
    event({ stage: "plan", status: "running", progress: 10, message: "Planning characters" }),
  ]);

  it("StageProgress names every stage and shows the message", () => {
    render(<StageProgress stages={view.stages} progress={12} message={view.message} />);
    const el = screen.getByTestId("stage-progress");
    for (const t of ["Analysing audio", "Planning scenes", "Style reference", "Writing prompts", "Generating clips", "Composing video"]) {
      expect(el.textContent).toContain(t);
    }
    expect(el.querySelector('[data-stage="audio"]')?.getAttribute("data-state")).toBe("done");
    expect(el.querySelector('[data-stage="plan"]')?.getAttribute("data-state")).toBe("running");
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("12");
    expect(screen.getByText("Planning characters")).toBeTruthy();
  });

  it("CostTracker shows the total against the budget", () => {
    render(<CostTracker stages={view.stages} total={view.totalCost} budget={0.75} perMinute={1.5} />);
    expect(screen.getByTestId("cost-total").textContent).toBe("$0.02 of $0.75");
  });

  it("ClipGallery shows one preview per clip and placeholders for the rest", () => {
    const clip = (index: number): ClipInfo => ({ index, status: "succeeded", url: `/api/jobs/j/clips/${index}`, duration: 4, target_duration: 4, width: 1920, height: 1080, fps: 24, provider: "offline", cost: 0, error: null });
    const { container } = render(<ClipGallery clips={[clip(0), clip(1)]} expected={4} />);
    expect(screen.getAllByTestId("clip-preview")).toHaveLength(2);
    expect(container.querySelectorAll(".clip-pending")).toHaveLength(2);
    expect(screen.getByText("2 of 4 ready")).toBeTruthy();
  });

  it("ErrorMessage names the failing stage", () => {
    render(<ErrorMessage stage="video" message="only 1 of 4 clips" />);
    expect(screen.getByTestId("error-message").textContent).toContain("Failed at “Generating clips”");
    expect(screen.getByRole("alert")).toBeTruthy();
  });

  it("SongAnalysis draws beats, cuts and sections", () => {
    const analysis: AudioAnalysis = {
      duration: 10, tempo: 120, beats: [0.5, 1, 1.5, 2], downbeats: [0.5], energy_curve: [0.1, 0.5, 0.9, 0.4], energy_hop: 2.5,
      sections: [{ start: 0, end: 5, label: 0, energy: 0.3 }, { start: 5, end: 10, label: 1, energy: 0.6 }],
      boundaries: [{ index: 0, start: 0, end: 4, duration: 4 }, { index: 1, start: 4, end: 7, duration: 3 }, { index: 2, start: 7, end: 10, duration: 3 }],
      fallback_used: false, fallback_reason: null,
    };
    const { container } = render(<SongAnalysis analysis={analysis} />);
    expect(container.querySelectorAll("line.beat, line.downbeat")).toHaveLength(4);
    expect(container.querySelectorAll("line.downbeat")).toHaveLength(1);
    expect(container.querySelectorAll("line.cut")).toHaveLength(2);
    expect(container.querySelectorAll("rect")).toHaveLength(2);
  });
});
