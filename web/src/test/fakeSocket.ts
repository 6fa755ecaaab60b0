import type { SocketLike } from "../hooks/useJobEvents";
import { pendingStages, type JobStatus, type JobUpdate, type ProgressEvent, type Stage, type StageView } from "../api/types";

export const JOB = "3f0c6f52-8a53-4a43-9d0b-6a7c2e0f9d11";

/** A controllable stand-in for the browser WebSocket; it sends what the gateway sends, JobUpdate messages. */
export class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  closed = false;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  static open = (url: string) => new FakeSocket(url);
  static latest(): FakeSocket {
    const s = FakeSocket.all[FakeSocket.all.length - 1];
    if (!s) throw new Error("no socket opened");
    return s;
  }

  get lastEventId(): string | null {
    return new URL(this.url).searchParams.get("last_event_id");
  }

  accept() {
    this.onopen?.(new Event("open"));
  }
  send(message: JobUpdate) {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(message) }));
  }
  drop(code = 1006, reason = "") {
    this.closed = true;
    this.onclose?.({ code, reason } as CloseEvent);
  }
  close() {
    this.closed = true;
  }
}

let seq = 0;
export function event(p: Partial<ProgressEvent> & Pick<ProgressEvent, "stage" | "status">, id?: string): ProgressEvent {
  seq += 1;
  return {
    job_id: JOB, progress: 0, message: "", clip_index: null, clip_count: null, cost: 0,
    timestamp: "2024-01-01T00:00:00Z", event_id: id ?? `1700000000000-${seq}`, ...p,
  };
}

/** The stage list with some stages' states (and any other StageView fields) set; the rest pending. */
export function stages(states: Partial<Record<Stage, Partial<StageView> | StageView["state"]>> = {}): StageView[] {
  return pendingStages().map((s) => {
    const p = states[s.id];
    return { ...s, ...(typeof p === "string" ? { state: p, progress: p === "running" ? 0 : 100 } : p) };
  });
}

/** A whole JobStatus as the gateway sends it, with overrides. */
export function jobStatus(p: Partial<JobStatus> = {}): JobStatus {
  return {
    job_id: JOB, status: "processing", progress: 0, stage: null, stage_progress: 0, message: "", stages: stages(),
    cost: { by_stage: {}, total: 0, currency: "USD" }, error: null, clip_count: null, clips_ready: [],
    clips_failed: [], updated_at: null, last_event_id: null, created_at: null, prompt: "", flow_run_id: null,
    flow_run_state: null, video_url: null, clips_url: `/api/jobs/${JOB}/clips`, ...p,
  };
}

/** One socket message: the event and the status after it (its last_event_id is the event's id). */
export function update(ev: ProgressEvent, status: Partial<JobStatus> = {}): JobUpdate {
  return { event: ev, status: jobStatus({ last_event_id: ev.event_id, message: ev.message, ...status }) };
}
