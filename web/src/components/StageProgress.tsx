import type { StageView } from "../api/types";

const STATE_TEXT = { pending: "waiting", running: "in progress", done: "done", cached: "reused", failed: "failed" };

/** Server paths mean nothing to the viewer: "Video ready: file:///…/final.mp4" reads "Video ready". */
export const readable = (message: string) => message.replace(/:?\s*(file|s3):\/\/\S+/g, "").trim();

/** The pipeline as a row of steps (the server's stage views, in order) with the job's progress bar and message. */
export function StageProgress({ stages, progress, message }: { stages: StageView[]; progress: number; message: string }) {
  return (
    <section className="card" aria-labelledby="progress-title" data-testid="stage-progress">
      <div className="card-head">
        <h2 id="progress-title">Progress</h2>
        <span className="muted">{Math.round(progress)}%</span>
      </div>
      <div
        className="bar"
        role="progressbar"
        aria-label="Job progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(progress)}
      >
        <div className="bar-fill" style={{ width: `${Math.min(100, progress)}%` }} />
      </div>
      <ol className="stages">
        {stages.map((s, i) => (
          <li key={s.id} className={`stage stage-${s.state}`} data-stage={s.id} data-state={s.state} title={readable(s.message) || undefined}>
            <span className="stage-marker" aria-hidden="true">
              {s.state === "done" || s.state === "cached" ? "✓" : s.state === "failed" ? "!" : i + 1}
            </span>
            <span className="stage-text">
              <span className="stage-title">{s.title}</span>
              <span className="stage-state">
                {STATE_TEXT[s.state]}
                {s.state === "running" && s.progress > 0 ? ` · ${Math.round(s.progress)}%` : ""}
              </span>
            </span>
          </li>
        ))}
      </ol>
      <p className="message" aria-live="polite" data-testid="job-message">
        {readable(message) || "\u00a0"}
      </p>
    </section>
  );
}
