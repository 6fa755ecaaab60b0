// Live job events: the WebSocket with automatic reconnection (exponential backoff, equal jitter), resume from the
// last event id (the gateway replays what was missed; ids are checked so nothing is applied twice), and polling of
// GET /api/jobs/{id} while the socket is unavailable. The whole protocol lives in this file.
import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { JobStatus, ProgressEvent } from "../api/types";
import { isNewer } from "../lib/eventIds";

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
  events: ProgressEvent[];
  /** latest GET /api/jobs/{id} (initial load and polling) */
  snapshot: JobStatus | null;
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
        patch({ snapshot: snap });
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
        let ev: ProgressEvent;
        try {
          ev = JSON.parse(String(msg.data)) as ProgressEvent;
        } catch {
          return;
        }
        if (ev.event_id) {
          if (!isNewer(ev.event_id, lastId)) return; // a replayed event we already have
          lastId = ev.event_id;
        }
        if (!disposed) {
          setState((s) => ({ ...s, events: [...s.events, ev], lastEventId: lastId }));
        }
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
  return { events: [], snapshot: null, connection: "connecting", failures: 0, lastEventId: null, error: null };
}
