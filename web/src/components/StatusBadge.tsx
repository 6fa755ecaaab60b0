import type { JobStatusName } from "../api/types";

const LABELS: Record<JobStatusName, string> = {
  queued: "Queued",
  processing: "Processing",
  awaiting_review: "Awaiting review",
  complete: "Complete",
  error: "Error",
};

/** The job's status; null while the first status is on its way. */
export function StatusBadge({ status, testId }: { status: JobStatusName | null; testId?: string }) {
  return (
    <span className={`badge badge-${status ?? "loading"}`} data-testid={testId} data-status={status ?? ""}>
      <span className="badge-dot" aria-hidden="true" />
      {status ? LABELS[status] : "Loading…"}
    </span>
  );
}
