import type { SocketLike } from "../hooks/useJobEvents";
import type { ProgressEvent } from "../api/types";

/** A controllable stand-in for the browser WebSocket. */
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
  send(ev: ProgressEvent) {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(ev) }));
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
  return { job_id: JOB, progress: 0, message: "", cost: 0, event_id: id ?? `1700000000000-${seq}`, ...p };
}

export const JOB = "3f0c6f52-8a53-4a43-9d0b-6a7c2e0f9d11";
