import { useState, type FormEvent } from "react";
import { api, type JobForm } from "../api/client";
import type { JobCreated, Limits } from "../api/types";
import { useLimits } from "../hooks/useLimits";
import { checkDuration, checkFile, readDuration } from "../lib/audioFile";
import { AudioDropZone } from "./AudioDropZone";

interface Props {
  onCreated: (job: JobCreated) => void;
  createJob?: (form: JobForm) => Promise<JobCreated>;
  measure?: (file: File) => Promise<number | null>;
  loadLimits?: (signal: AbortSignal) => Promise<Limits>;
}

/** What each output format is for; the formats themselves come from the server (GET /api/limits). */
const ASPECT_LABELS: Record<string, string> = {
  "16:9": "16:9 landscape",
  "9:16": "9:16 vertical",
  "1:1": "1:1 square",
};

function hintProblem(value: number | null, limits: Limits | null): string | null {
  if (value === null) return null;
  if (!limits) return value > 0 ? null : "Use a positive number of seconds, or leave empty.";
  const { min_clip: min, max_clip: max } = limits;
  return value >= min && value <= max ? null : `Use ${min}–${max} seconds, or leave empty.`;
}

/** Song + prompt (+ optional style, mood, clip length) -> a new job. The limits are the server's (GET /api/limits);
 * while they load the form waits, and if the server does not say, its own checks answer on submit. */
export function UploadForm({ onCreated, createJob = api.createJob, measure = readDuration, loadLimits = api.getLimits }: Props) {
  const { limits, loading } = useLimits(loadLimits);
  const [file, setFile] = useState<File | null>(null);
  const [duration, setDuration] = useState<number | null>(null);
  const [undecodable, setUndecodable] = useState(false);
  const [checking, setChecking] = useState(false);
  const [prompt, setPrompt] = useState("");
  const [review, setReview] = useState<boolean | null>(null); // null: the server's default (review when paid)
  const [style, setStyle] = useState("");
  const [mood, setMood] = useState("");
  const [lyrics, setLyrics] = useState("");
  const [karaoke, setKaraoke] = useState(false);
  const [hint, setHint] = useState("");
  const [aspect, setAspect] = useState("");
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);

  const chooseFile = async (f: File) => {
    setFile(f);
    setDuration(null);
    setUndecodable(false);
    setChecking(true);
    const measured = f.size ? await measure(f) : null;
    setChecking(false);
    setDuration(measured);
    setUndecodable(measured === null);
  };

  // checked at every render, so limits that arrive after the file was chosen still apply
  const fileError = !file
    ? submitted
      ? "Choose a song first."
      : null
    : (checkFile(file, limits) ??
      (undecodable ? `The browser cannot decode “${file.name}”: is it a valid audio file?` : duration !== null ? checkDuration(duration, limits) : null));
  const promptError = submitted && !prompt.trim() ? "Describe the video you want." : null;
  const hintValue = hint ? Number(hint) : null;
  const hintError = hintProblem(hintValue, limits);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    setError(null);
    if (!file || fileError || checking || loading || !prompt.trim() || hintError) return;
    setBusy(true);
    try {
      const job = await createJob({ audio: file, prompt: prompt.trim(), style: style.trim(), mood: mood.trim(), durationHint: hintValue, aspect: aspect || undefined, lyrics, captions: karaoke ? "karaoke" : undefined, review: review ?? limits?.review_default ?? false });
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
      <AudioDropZone file={file} duration={duration} checking={checking} error={fileError} limits={limits} onFile={(f) => void chooseFile(f)} />
      <div className="field">
        <label htmlFor="prompt" className="label">
          What should the video show? <span className="required">required</span>
          {limits && (
            <span className="muted small" data-testid="prompt-count">
              {" "}
              {prompt.length}/{limits.max_prompt_chars}
            </span>
          )}
        </label>
        <textarea
          id="prompt"
          rows={3}
          maxLength={limits?.max_prompt_chars}
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
          <input id="style" placeholder="watercolor, synthwave…" value={style} maxLength={limits?.max_style_chars} onChange={(e) => setStyle(e.target.value)} data-testid="style-input" />
        </div>
        <div className="field">
          <label htmlFor="mood" className="label">
            Mood <span className="muted">optional</span>
          </label>
          <input id="mood" placeholder="dreamy, defiant…" value={mood} maxLength={limits?.max_mood_chars} onChange={(e) => setMood(e.target.value)} data-testid="mood-input" />
        </div>
        <div className="field field-narrow">
          <label htmlFor="hint" className="label">
            Clip length <span className="muted">{limits ? `${limits.min_clip}–${limits.max_clip} s` : "s"}</span>
          </label>
          <input id="hint" type="number" inputMode="decimal" min={limits?.min_clip} max={limits?.max_clip} step={0.5} placeholder="auto" value={hint} onChange={(e) => setHint(e.target.value)} aria-invalid={hintError ? true : undefined} aria-describedby={hintError ? "hint-error" : undefined} data-testid="duration-input" />
          {hintError && (
            <p id="hint-error" className="field-error">
              {hintError}
            </p>
          )}
        </div>
        {limits && limits.aspects.length > 1 && (
          <div className="field field-narrow">
            <label htmlFor="aspect" className="label" title="16:9 for YouTube, 9:16 for TikTok, Reels and Shorts, 1:1 for feeds">
              Format
            </label>
            <select id="aspect" value={aspect || limits.aspects[0]} onChange={(e) => setAspect(e.target.value)} data-testid="aspect-select">
              {limits.aspects.map((a) => (
                <option key={a} value={a}>
                  {ASPECT_LABELS[a] ?? a}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      <div className="field">
        <label htmlFor="lyrics" className="label">
          Lyrics <span className="muted">optional · one line per lyric line, or LRC</span>
        </label>
        <textarea id="lyrics" rows={4} placeholder={"[00:17.60] first line…"} value={lyrics} maxLength={limits?.max_lyrics_bytes} onChange={(e) => setLyrics(e.target.value)} data-testid="lyrics-input" />
        <label className="check muted">
          <input type="checkbox" checked={karaoke} onChange={(e) => setKaraoke(e.target.checked)} data-testid="karaoke-input" /> Burn in karaoke captions
        </label>
      </div>
      <label className="check">
        <input type="checkbox" checked={review ?? limits?.review_default ?? false} onChange={(e) => setReview(e.target.checked)} data-testid="review-input" />{" "}
        Review the storyboard and its estimate before any clip is generated
      </label>
      {error && (
        <div className="alert" role="alert">
          <strong>Could not start the job</strong>
          <p>{error}</p>
        </div>
      )}
      <div className="actions">
        <button type="submit" className="button button-primary" disabled={busy || checking || loading} data-testid="submit">
          {busy ? "Uploading…" : loading ? "Loading…" : "Create video"}
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
