import { act, renderHook } from "@testing-library/react";
import type { JobStatus } from "../api/types";
import { FakeSocket, JOB, event, jobStatus, stages, update } from "../test/fakeSocket";
import { backoffDelay, supersedes, useJobEvents, type JobEventsOptions } from "./useJobEvents";

const status = (p: Partial<JobStatus> = {}) =>
  jobStatus({ progress: 40, stage: "video", stage_progress: 50, message: "polled", prompt: "p", ...p });

function setup(extra: Partial<JobEventsOptions> = {}, polled = false) {
  FakeSocket.all = [];
  // by default the status request never answers (no state updates outside act); polling tests let it answer
  const fetchStatus = vi.fn(polled ? async () => status() : () => new Promise<JobStatus>(() => {}));
  const options: JobEventsOptions = {
    openSocket: FakeSocket.open, fetchStatus, baseDelayMs: 100, maxDelayMs: 1000, pollAfterFailures: 2,
    pollIntervalMs: 500, random: () => 1, ...extra,
  };
  const hook = renderHook(() => useJobEvents(JOB, options));
  return { hook, fetchStatus };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("backoffDelay", () => {
  it("doubles up to the cap, with jitter in [ceiling/2, ceiling]", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 100, 1000, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(200);
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(4, 100, 1000, Math.random);
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
  });
});

describe("supersedes", () => {
  it("lets a status replace the shown one unless it tells of fewer events", () => {
    expect(supersedes(status({ last_event_id: null }), null)).toBe(true);
    expect(supersedes(status({ last_event_id: "2-0" }), status({ last_event_id: null }))).toBe(true);
    expect(supersedes(status({ last_event_id: "10-0" }), status({ last_event_id: "9-0" }))).toBe(true);
    expect(supersedes(status({ last_event_id: "9-0" }), status({ last_event_id: "9-0" }))).toBe(true);
    expect(supersedes(status({ last_event_id: "9-0" }), status({ last_event_id: "10-0" }))).toBe(false);
    expect(supersedes(status({ last_event_id: null }), status({ last_event_id: "1-0" }))).toBe(false);
  });
});

describe("useJobEvents", () => {
  it("opens the job's socket from the start and shows the status each message carries", () => {
    const { hook } = setup();
    const ws = FakeSocket.latest();
    expect(ws.url).toContain(`/ws/jobs/${JOB}`);
    expect(ws.lastEventId).toBeNull();
    expect(hook.result.current.status).toBeNull();
    act(() => {
      ws.accept();
      ws.send(update(event({ stage: "job", status: "queued" }, "1-0"), { status: "queued" }));
      ws.send(update(event({ stage: "audio", status: "running", progress: 5, message: "Detecting beats" }, "2-0"), {
        stage: "audio", progress: 0.4, stages: stages({ audio: { state: "running", progress: 5 } }),
      }));
    });
    const { current } = hook.result;
    expect(current.connection).toBe("live");
    expect(current.eventCount).toBe(2);
    expect(current.lastEventId).toBe("2-0");
    expect(current.status).toMatchObject({ status: "processing", stage: "audio", progress: 0.4, message: "Detecting beats" });
    expect(current.status?.stages.find((s) => s.id === "audio")).toMatchObject({ state: "running", progress: 5 });
  });

  it("ignores messages that are not a JobUpdate (a bare event, or not JSON)", () => {
    const { hook } = setup();
    const ws = FakeSocket.latest();
    act(() => {
      ws.accept();
      ws.onmessage?.(new MessageEvent("message", { data: JSON.stringify(event({ stage: "audio", status: "running" }, "1-0")) }));
      ws.onmessage?.(new MessageEvent("message", { data: "{nope" }));
    });
    expect(hook.result.current.eventCount).toBe(0);
    expect(hook.result.current.status).toBeNull();
  });

  it("reconnects with backoff, resumes from the last event id, and drops replayed duplicates", () => {
    const { hook } = setup();
    const first = FakeSocket.latest();
    act(() => {
      first.accept();
      first.send(update(event({ stage: "audio", status: "running" }, "5-0")));
      first.send(update(event({ stage: "audio", status: "completed" }, "5-1"), { stages: stages({ audio: "done" }) }));
      first.drop();
    });
    expect(hook.result.current.connection).toBe("reconnecting");
    expect(FakeSocket.all).toHaveLength(1);
    act(() => vi.advanceTimersByTime(99));
    expect(FakeSocket.all).toHaveLength(1);
    act(() => vi.advanceTimersByTime(1));
    const second = FakeSocket.latest();
    expect(second).not.toBe(first);
    expect(second.lastEventId).toBe("5-1");
    act(() => {
      second.accept();
      second.send(update(event({ stage: "audio", status: "completed" }, "5-1"))); // a duplicate must not count twice
      second.send(update(event({ stage: "plan", status: "running" }, "10-0"), { stages: stages({ audio: "done", plan: "running" }) }));
    });
    expect(hook.result.current.eventCount).toBe(3);
    expect(hook.result.current.lastEventId).toBe("10-0");
    expect(hook.result.current.status?.stages.map((s) => s.state)).toEqual(["done", "running", "pending", "pending", "pending", "pending"]);
  });

  it("compares ids numerically, not as text", () => {
    const { hook } = setup();
    const ws = FakeSocket.latest();
    act(() => {
      ws.accept();
      ws.send(update(event({ stage: "audio", status: "running" }, "9-0")));
      ws.send(update(event({ stage: "audio", status: "running" }, "10-0")));
    });
    expect(hook.result.current.eventCount).toBe(2);
    expect(hook.result.current.status?.last_event_id).toBe("10-0");
  });

  it("falls back to polling GET /api/jobs/{id} while the socket keeps failing, and stops once it is back", async () => {
    const { hook, fetchStatus } = setup({}, true);
    await act(async () => {}); // the initial status fetch
    expect(fetchStatus).toHaveBeenCalledTimes(1);
    act(() => FakeSocket.latest().drop()); // failure 1: retry in 100 ms
    act(() => vi.advanceTimersByTime(100));
    await act(async () => FakeSocket.latest().drop()); // failure 2: polling starts, retry in 200 ms
    expect(hook.result.current.connection).toBe("polling");
    expect(hook.result.current.failures).toBe(2);
    expect(fetchStatus).toHaveBeenCalledTimes(2);
    expect(hook.result.current.status?.message).toBe("polled");
    await act(async () => vi.advanceTimersByTime(200)); // third socket, and
    expect(FakeSocket.all).toHaveLength(3);
    await act(async () => vi.advanceTimersByTime(300)); // a poll at 500 ms
    expect(fetchStatus).toHaveBeenCalledTimes(3);
    act(() => FakeSocket.latest().accept());
    expect(hook.result.current.connection).toBe("live");
    await act(async () => vi.advanceTimersByTime(5000));
    expect(fetchStatus).toHaveBeenCalledTimes(3); // polling stopped
  });

  it("stops after the terminal event: no reconnect when the server closes", () => {
    const { hook } = setup();
    const ws = FakeSocket.latest();
    act(() => {
      ws.accept();
      ws.send(update(event({ stage: "job", status: "complete", progress: 100 }, "3-0"), { status: "complete", progress: 100 }));
      ws.drop(1000);
    });
    act(() => vi.advanceTimersByTime(10_000));
    expect(FakeSocket.all).toHaveLength(1);
    expect(hook.result.current.connection).toBe("closed");
  });

  it("does not retry a socket the server refused for good (unknown job), but polls", async () => {
    const { hook, fetchStatus } = setup({}, true);
    await act(async () => FakeSocket.latest().drop(4404, "no job"));
    await act(async () => vi.advanceTimersByTime(10_000));
    expect(FakeSocket.all).toHaveLength(1);
    expect(hook.result.current.error).toBe("no job");
    expect(fetchStatus.mock.calls.length).toBeGreaterThan(1);
  });

  it("ends when polling reports the job finished while the socket is down", async () => {
    const fetchStatus = vi.fn(async () => status({ status: "complete", progress: 100 }));
    const { hook } = setup({ fetchStatus, pollAfterFailures: 1 });
    await act(async () => FakeSocket.latest().drop());
    expect(hook.result.current.connection).toBe("closed");
    expect(hook.result.current.status?.status).toBe("complete");
    act(() => vi.advanceTimersByTime(10_000));
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("keeps the socket's newer status over an older polled one, and takes a newer polled one", async () => {
    let polled = status({ last_event_id: "4-0", message: "polled late" });
    const fetchStatus = vi.fn(async () => polled);
    const { hook } = setup({ fetchStatus, pollAfterFailures: 1 });
    const ws = FakeSocket.latest();
    act(() => {
      ws.accept();
      ws.send(update(event({ stage: "video", status: "running", message: "from the socket" }, "7-0")));
    });
    await act(async () => {}); // the initial status fetch answers now, with an older status
    expect(hook.result.current.status?.message).toBe("from the socket");
    polled = status({ last_event_id: "9-0", message: "polled newer", status: "error", error: { stage: "video", message: "boom" } });
    await act(async () => ws.drop()); // polling starts at once
    expect(hook.result.current.connection).toBe("closed"); // the polled status is terminal and the socket is down
    expect(hook.result.current.status).toMatchObject({ message: "polled newer", status: "error" });
    expect(hook.result.current.eventCount).toBe(1); // polling adds no events
  });

  it("closes its socket when the page goes away", () => {
    const { hook } = setup();
    const ws = FakeSocket.latest();
    hook.unmount();
    expect(ws.closed).toBe(true);
    act(() => vi.advanceTimersByTime(10_000));
    expect(FakeSocket.all).toHaveLength(1);
  });
});
