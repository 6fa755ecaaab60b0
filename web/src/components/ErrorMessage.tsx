import { STAGE_TITLES, type Stage } from "../api/types";

export function ErrorMessage({ stage, message }: { stage: string | null; message: string }) {
  const title = stage && stage in STAGE_TITLES ? STAGE_TITLES[stage as Stage] : stage;
  return (
    <div className="alert" role="alert" data-testid="error-message" data-stage={stage ?? ""}>
      <strong>{title ? `Failed at “${title}”` : "The job failed"}</strong>
      <p>{message}</p>
    </div>
  );
}
