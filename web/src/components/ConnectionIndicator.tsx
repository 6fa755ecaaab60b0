import type { Connection } from "../hooks/useJobEvents";

const TEXT: Record<Connection, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  polling: "Live updates interrupted — checking every few seconds",
  closed: "Up to date",
  failed: "Offline",
};

/** Whether updates are live; also carries the event count and last id (for the end-to-end test). */
export function ConnectionIndicator({ connection, events, lastEventId }: { connection: Connection; events: number; lastEventId: string | null }) {
  return (
    <span className={`conn conn-${connection}`} data-testid="connection" data-connection={connection} data-events={events} data-last-event-id={lastEventId ?? ""} role="status">
      <span className="conn-dot" aria-hidden="true" />
      {TEXT[connection]}
    </span>
  );
}
