import { event } from "../test/fakeSocket";
import { foldEvents } from "./jobView";

describe("foldEvents", () => {
  it("tracks stages, clip costs, clips ready and the total", () => {
    const view = foldEvents([
      event({ stage: "job", status: "queued" }),
      event({ stage: "audio", status: "running", progress: 5, message: "Detecting beats" }),
      event({ stage: "audio", status: "completed", progress: 100, cost: 0.01 }),
      event({ stage: "plan", status: "cached", progress: 100 }),
      event({ stage: "video", status: "running", progress: 100, clip_index: 0, clip_count: 3, cost: 0.2 }),
      event({ stage: "video", status: "running", progress: 100, clip_index: 2, clip_count: 3, cost: 0.3 }),
    ]);
    expect(view.status).toBe("processing");
    expect(view.stage).toBe("video");
    expect(view.stages.map((s) => s.state)).toEqual(["done", "cached", "done", "done", "running", "pending"]);
    expect(view.clipsReady).toEqual([0, 2]);
    expect(view.clipCount).toBe(3);
    expect(view.costByStage).toMatchObject({ audio: 0.01, plan: 0, video: 0.5 });
    expect(view.totalCost).toBeCloseTo(0.51);
  });

  it("reports the failing stage on error", () => {
    const view = foldEvents([
      event({ stage: "audio", status: "completed", progress: 100 }),
      event({ stage: "plan", status: "failed", progress: 100, message: "plan invalid" }),
      event({ stage: "job", status: "error", progress: 8, message: "Planning scenes failed: plan invalid" }),
    ]);
    expect(view.status).toBe("error");
    expect(view.error).toEqual({ stage: "plan", message: "Planning scenes failed: plan invalid" });
    expect(view.stages.find((s) => s.stage === "plan")?.state).toBe("failed");
  });

  it("lets a newer polled status win while the socket is down", () => {
    const view = foldEvents([event({ stage: "audio", status: "running" }, "5-0")], {
      job_id: "j", status: "processing", progress: 60, stage: "video", stage_progress: 40, message: "polled",
      cost: { by_stage: { audio: 0, video: 0.4 }, total: 0.4, currency: "USD" }, error: null, created_at: null,
      updated_at: null, prompt: "", flow_run_id: null, flow_run_state: null, last_event_id: "9-0", video_url: null,
      clips_url: "",
    });
    expect(view.message).toBe("polled");
    expect(view.stage).toBe("video");
    expect(view.stages.map((s) => s.state)).toEqual(["done", "done", "done", "done", "running", "pending"]);
    expect(view.totalCost).toBe(0.4);
  });
});
