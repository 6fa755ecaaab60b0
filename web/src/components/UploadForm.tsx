import { useState, type FormEvent } from "react";
import { api, type JobForm } from "../api/client";
import type { JobCreated } from "../api/types";
import { checkAudio, readDuration } from "../lib/audioFile";
import { AudioDropZone } from "./AudioDropZone";

interface Props {
  onCreated: (job: JobCreated) => void;
  createJob?: (form: JobForm) => Promise<JobCreated>;
  measure?: (file: File) => Promise<number | null>;
}

/** Song + prompt (+ optional style, mood, clip length) -> a new job. */
export function UploadForm({ onCreated, createJob = api.createJob, measure = readDuration }: Props) {
  const [file, setFile] = useState<File | null>(null);
  const [duration, setDuration] = useState<number | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const [prompt, setPrompt] = useState("");
  const [style, setStyle] = useState("");
  const [mood, setMood] = useState("");
  const [hint, setHint] = useState("");
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);

  const chooseFile = async (f: File) => {
    setFile(f);
    setDuration(null);
    setFileError(null);
    setChecking(true);
    const check = await checkAudio(f, measure);
    setChecking(false);
    setDuration(check.duration);
    setFileError(check.error);
  };

  const promptError = submitted && !prompt.trim() ? "Describe the video you want." : null;
  const hintValue = hint ? Number(hint) : null;
  const hintError = hintValue !== null && !(hintValue >= 2 && hintValue <= 15) ? "Use 2–15 seconds, or leave empty." : null;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    setError(null);
    if (!file) {
      setFileError("Choose a song first.");
      return;
    }
    if (fileError || checking || !prompt.trim() || hintError) return;
    setBusy(true);
    try {
      const job = await createJob({ audio: file, prompt: prompt.trim(), style: style.trim(), mood: mood.trim(), durationHint: hintValue });
      setCreated(job.job_id);
      onCreated(job);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card upload" onSubmit={onSubmit} noValidate aria-labelledby="new-title">
      <h2 id="new-title">New music video</h2>
      <AudioDropZone file={file} duration={duration} checking={checking} error={fileError} onFile={(f) => void chooseFile(f)} />
      <div className="field">
        <label htmlFor="prompt" className="label">
          What should the video show? <span className="required">required</span>
        </label>
        <textarea
          id="prompt"
          rows={3}
          maxLength={2000}
          placeholder="A neon city at night, a dancer in the rain…"
          value={prompt}
          onChange={(e) => setPrompt(e.target.value)}
          aria-invalid={promptError ? true : undefined}
          aria-describedby={promptError ? "prompt-error" : undefined}
          data-testid="prompt-input"
          required
        />
        {promptError && (
          <p id="prompt-error" className="field-error">
            {promptError}
          </p>
        )}
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor="style" className="label">
            Style <span className="muted">optional</span>
          </label>
          <input id="style" maxLength={500} placeholder="watercolor, synthwave…" value={style} onChange={(e) => setStyle(e.target.value)} data-testid="style-input" />
        </div>
        <div className="field">
          <label htmlFor="mood" className="label">
            Mood <span className="muted">optional</span>
          </label>
          <input id="mood" maxLength={200} placeholder="dreamy, defiant…" value={mood} onChange={(e) => setMood(e.target.value)} data-testid="mood-input" />
        </div>
        <div className="field field-narrow">
          <label htmlFor="hint" className="label">
            Clip length <span className="muted">s</span>
          </label>
          <input id="hint" type="number" inputMode="decimal" min={2} max={15} step={0.5} placeholder="auto" value={hint} onChange={(e) => setHint(e.target.value)} aria-invalid={hintError ? true : undefined} aria-describedby={hintError ? "hint-error" : undefined} data-testid="duration-input" />
          {hintError && (
            <p id="hint-error" className="field-error">
              {hintError}
            </p>
          )}
        </div>
      </div>
      {error && (
        <div className="alert" role="alert">
          <strong>Could not start the job</strong>
          <p>{error}</p>
        </div>
      )}
      <div className="actions">
        <button type="submit" className="button button-primary" disabled={busy || checking} data-testid="submit">
          {busy ? "Uploading…" : "Create video"}
        </button>
        {created && (
          <span className="muted" role="status" data-testid="created-job">
            Job {created} created
          </span>
        )}
      </div>
    </form>
  );
}
