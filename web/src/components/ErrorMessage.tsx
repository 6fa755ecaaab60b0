import { stageTitle } from "../api/types";

export function ErrorMessage({ stage, message }: { stage: string | null; message: string }) {
  const title = stage ? stageTitle(stage) : null;
  return (
    <div className="alert" role="alert" data-testid="error-message" data-stage={stage ?? ""}>
      <strong>{title ? `Failed at “${title}”` : "The job failed"}</strong>
      <p>{message}</p>
    </div>
  );
}
