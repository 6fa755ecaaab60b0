import type { JobStatusName } from "../api/types";

const LABELS: Record<JobStatusName, string> = {
  queued: "Queued",
  processing: "Processing",
  complete: "Complete",
  error: "Error",
};

export function StatusBadge({ status, testId }: { status: JobStatusName; testId?: string }) {
  return (
    <span className={`badge badge-${status}`} data-testid={testId} data-status={status}>
      <span className="badge-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
