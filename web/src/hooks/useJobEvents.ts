// Live job status: the WebSocket with automatic reconnection (exponential backoff, equal jitter), resume from the
// last event id (the gateway replays what was missed; ids are checked so nothing is applied twice), and polling of
// GET /api/jobs/{id} while the socket is unavailable. The whole protocol lives in this file. The server folds the
// events (core.progress): each message carries the job's status after its event, and the page renders that status.
import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { JobStatus, JobUpdate, ProgressEvent } from "../api/types";
import { compareEventIds, isNewer } from "../lib/eventIds";

export type Connection = "connecting" | "live" | "reconnecting" | "polling" | "closed" | "failed";

/** The part of the browser WebSocket the hook uses (tests pass a fake). */
export interface SocketLike {
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  close(code?: number, reason?: string): void;
}

export interface JobEventsOptions {
  openSocket?: (url: string) => SocketLike;
  fetchStatus?: (jobId: string) => Promise<JobStatus>;
  /** first reconnect delay; doubles per failed attempt up to maxDelayMs */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** consecutive socket failures before polling starts */
  pollAfterFailures?: number;
  pollIntervalMs?: number;
  random?: () => number;
}

export interface JobEvents {
  /** the newest status the server sent (a socket message's, or a polled one that is not older) */
  status: JobStatus | null;
  /** events received over the socket, each once */
  eventCount: number;
  connection: Connection;
  /** failed socket attempts in a row */
  failures: number;
  lastEventId: string | null;
  error: string | null;
}

/** Close codes after which retrying cannot help: policy violation (token), bad job id, unknown job. */
const FATAL_CLOSE = new Set([1008, 4400, 4401, 4403, 4404]);

export function backoffDelay(attempt: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2); // equal jitter: never 0, never above the ceiling
}

function isTerminal(ev: ProgressEvent): boolean {
  return ev.stage === "job" && (ev.status === "complete" || ev.status === "error");
}

/** Whether `next` may replace the shown status: unless it tells of fewer events. Equal ids: the later one wins
 * (a polled status may add what the flow run's state says, e.g. a crash no event reported). */
export function supersedes(next: JobStatus, shown: JobStatus | null): boolean {
  if (!shown || !shown.last_event_id) return true;
  return !!next.last_event_id && compareEventIds(next.last_event_id, shown.last_event_id) >= 0;
}

export function useJobEvents(jobId: string | null, options: JobEventsOptions = {}): JobEvents {
  const [state, setState] = useState<JobEvents>(initial);
  const {
    openSocket = (url: string) => new WebSocket(url) as SocketLike,
    fetchStatus = (id: string) => api.getJob(id),
    baseDelayMs = 500,
    maxDelayMs = 15_000,
    pollAfterFailures = 2,
    pollIntervalMs = 2_000,
    random = Math.random,
  } = options;

  useEffect(() => {
    setState(initial());
    if (!jobId) return;
    const id = jobId;
    let disposed = false;
    let done = false;
    let lastId: string | null = null;
    let failures = 0;
    let socket: SocketLike | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let pollTimer: ReturnType<typeof setInterval> | undefined;

    const patch = (p: Partial<JobEvents>) => {
      if (!disposed) setState((s) => ({ ...s, ...p }));
    };

    const show = (status: JobStatus, counted: boolean) => {
      if (disposed) return;
      const last = lastId;
      setState((s) => ({
        ...s,
        status: supersedes(status, s.status) ? status : s.status,
        eventCount: s.eventCount + (counted ? 1 : 0),
        lastEventId: last,
      }));
    };

    const stopPolling = () => {
      clearInterval(pollTimer);
      pollTimer = undefined;
    };

    const finish = (connection: Connection) => {
      done = true;
      stopPolling();
      clearTimeout(retryTimer);
      patch({ connection });
    };

    const poll = async () => {
      try {
        const snap = await fetchStatus(id);
        if (disposed) return;
        show(snap, false);
        if (snap.status === "complete" || snap.status === "error") {
          stopPolling();
          if (socket === null) finish("closed"); // the socket is down and nothing more will happen
        }
      } catch (err) {
        patch({ error: err instanceof Error ? err.message : String(err) });
      }
    };

    const startPolling = () => {
      if (pollTimer !== undefined || done) return;
      patch({ connection: "polling" });
      void poll();
      pollTimer = setInterval(() => void poll(), pollIntervalMs);
    };

    const scheduleReconnect = () => {
      failures += 1;
      patch({ failures });
      if (failures >= pollAfterFailures) startPolling();
      else patch({ connection: "reconnecting" });
      retryTimer = setTimeout(connect, backoffDelay(failures, baseDelayMs, maxDelayMs, random));
    };

    function connect() {
      if (disposed || done) return;
      let ws: SocketLike;
      try {
        ws = openSocket(api.eventsUrl(id, lastId));
      } catch {
        scheduleReconnect(); // no WebSocket at all: polling takes over
        return;
      }
      socket = ws;
      patch({ connection: failures ? (pollTimer ? "polling" : "reconnecting") : "connecting" });
      ws.onopen = () => {
        failures = 0;
        stopPolling();
        patch({ connection: "live", failures: 0, error: null });
      };
      ws.onmessage = (msg: MessageEvent) => {
        let update: JobUpdate;
        try {
          update = JSON.parse(String(msg.data)) as JobUpdate;
        } catch {
          return;
        }
        const ev = update.event;
        if (!ev || !update.status) return; // not a JobUpdate
        if (ev.event_id) {
          if (!isNewer(ev.event_id, lastId)) return; // a replayed event we already have
          lastId = ev.event_id;
        }
        show(update.status, true);
        if (isTerminal(ev)) finish("closed");
      };
      ws.onerror = () => {
        /* onclose follows and decides */
      };
      ws.onclose = (ev: CloseEvent) => {
        if (socket !== ws) return;
        socket = null;
        if (disposed || done) return;
        if (FATAL_CLOSE.has(ev.code)) {
          patch({ error: ev.reason || `connection refused (${ev.code})` });
          startPolling(); // GET still reports whatever can be reported
          return;
        }
        scheduleReconnect();
      };
    }

    void poll();
    connect();
    return () => {
      disposed = true;
      clearTimeout(retryTimer);
      stopPolling();
      const ws = socket;
      socket = null;
      ws?.close(1000, "page left");
    };
    // options are read once per job: pass stable values
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [jobId]);

  return state;
}

function initial(): JobEvents {
  return { status: null, eventCount: 0, connection: "connecting", failures: 0, lastEventId: null, error: null };
}
