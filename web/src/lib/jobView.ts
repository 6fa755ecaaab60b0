// Folds the job's events (and the latest polled status) into what the page shows. Mirrors api/jobstate.py.
import { STAGES, type JobStatus, type JobStatusName, type ProgressEvent, type Stage } from "../api/types";
import { isNewer } from "./eventIds";

export type StageState = "pending" | "running" | "done" | "cached" | "failed";

export interface StageView {
  stage: Stage;
  state: StageState;
  progress: number;
  message: string;
  cost: number;
}

export interface JobView {
  status: JobStatusName;
  progress: number;
  stage: Stage | null;
  message: string;
  stages: StageView[];
  costByStage: Partial<Record<Stage, number>>;
  totalCost: number;
  error: { stage: string | null; message: string } | null;
  clipCount: number | null;
  /** clip indices reported ready by video-stage events */
  clipsReady: number[];
  lastEventId: string | null;
}

const isStage = (s: string | null | undefined): s is Stage => STAGES.includes(s as Stage);

export function foldEvents(events: ProgressEvent[], snapshot: JobStatus | null = null): JobView {
  let status: JobStatusName = "queued";
  let progress = 0;
  let stage: Stage | null = null;
  let message = "";
  let total: number | null = null;
  let failed: { stage: string | null; message: string } | null = null;
  let error: { stage: string | null; message: string } | null = null;
  let clipCount: number | null = null;
  let lastEventId: string | null = null;
  const clipsReady = new Set<number>();
  const stageCost: Partial<Record<Stage, number>> = {};
  const clipCost: Partial<Record<Stage, Map<number, number>>> = {};
  const views = new Map<Stage, StageView>(
    STAGES.map((s) => [s, { stage: s, state: "pending", progress: 0, message: "", cost: 0 }]),
  );

  for (const ev of events) {
    lastEventId = ev.event_id ?? lastEventId;
    message = ev.message ?? "";
    status = ev.status === "queued" ? "queued" : ev.status === "complete" ? "complete" : ev.status === "error" ? "error" : "processing";
    if (ev.stage === "job") {
      progress = Math.max(progress, ev.progress);
      if (ev.status === "complete") {
        progress = 100;
        total = ev.cost ?? null;
      } else if (ev.status === "error") {
        error = { stage: failed?.stage ?? stage, message: ev.message ?? "" };
      }
      continue;
    }
    stage = ev.stage;
    const view = views.get(ev.stage)!;
    // every stage before this one has finished
    for (const s of STAGES.slice(0, STAGES.indexOf(ev.stage))) {
      const v = views.get(s)!;
      if (v.state === "pending" || v.state === "running") Object.assign(v, { state: "done", progress: 100 });
    }
    if (ev.clip_count != null) clipCount = ev.clip_count;
    if (ev.clip_index != null) {
      if (ev.status !== "failed") (clipCost[ev.stage] ??= new Map()).set(ev.clip_index, ev.cost ?? 0);
      if (ev.stage === "video" && ev.progress >= 100 && ev.status !== "failed") clipsReady.add(ev.clip_index);
      if (view.state === "pending") view.state = "running";
      if (ev.clip_count) {
        const finished = ev.stage === "video" ? clipsReady.size : (clipCost[ev.stage]?.size ?? 0);
        view.progress = Math.max(view.progress, Math.min(99, (100 * finished) / ev.clip_count));
      }
      view.message = ev.message ?? view.message;
      continue;
    }
    view.message = ev.message ?? "";
    if (ev.status === "failed") {
      failed = { stage: ev.stage, message: ev.message ?? "" };
      // the reference stage degrades to text-only prompts rather than failing the job
      view.state = "failed";
      view.progress = 100;
    } else if (ev.status === "completed" || ev.status === "cached") {
      view.state = ev.status === "cached" ? "cached" : "done";
      view.progress = 100;
      stageCost[ev.stage] = ev.status === "cached" ? 0 : (ev.cost ?? 0);
    } else {
      if (view.state === "pending") view.state = "running";
      view.progress = Math.max(view.progress, ev.progress);
      if (ev.cost) stageCost[ev.stage] = ev.cost;
    }
  }

  const costByStage: Partial<Record<Stage, number>> = {};
  for (const s of STAGES) {
    const clips = clipCost[s];
    if (clips) costByStage[s] = [...clips.values()].reduce((a, b) => a + b, 0);
    if (stageCost[s] !== undefined) costByStage[s] = stageCost[s];
  }
  let totalCost = total ?? Object.values(costByStage).reduce((a, b) => a + (b ?? 0), 0);

  // A newer polled status (the socket was down) wins for the headline fields.
  if (snapshot && (events.length === 0 || isNewer(snapshot.last_event_id, lastEventId))) {
    status = snapshot.status;
    progress = snapshot.progress;
    message = snapshot.message;
    error = snapshot.error;
    if (isStage(snapshot.stage)) {
      stage = snapshot.stage;
      const idx = STAGES.indexOf(stage);
      STAGES.forEach((s, i) => {
        const v = views.get(s)!;
        if (i < idx || status === "complete") {
          if (v.state !== "failed" && v.state !== "cached") Object.assign(v, { state: "done", progress: 100 });
        } else if (i === idx && v.state !== "failed") {
          Object.assign(v, { state: status === "error" ? "failed" : "running", progress: snapshot.stage_progress });
        }
      });
    }
    for (const [s, c] of Object.entries(snapshot.cost.by_stage)) if (isStage(s)) costByStage[s] = c;
    totalCost = snapshot.cost.total;
    lastEventId = snapshot.last_event_id ?? lastEventId;
  }
  if (status === "complete") {
    for (const v of views.values()) if (v.state === "running" || v.state === "pending") Object.assign(v, { state: "done", progress: 100 });
  }
  if (status === "error" && error?.stage && isStage(error.stage)) {
    views.get(error.stage)!.state = "failed";
  }
  for (const v of views.values()) v.cost = costByStage[v.stage] ?? 0;

  return {
    status,
    progress,
    stage,
    message,
    stages: STAGES.map((s) => views.get(s)!),
    costByStage,
    totalCost,
    error,
    clipCount,
    clipsReady: [...clipsReady].sort((a, b) => a - b),
    lastEventId,
  };
}
