import { useId, useState, type DragEvent } from "react";
import type { Limits } from "../api/types";
import { accept, formatDuration, formatLength } from "../lib/audioFile";

interface Props {
  file: File | null;
  duration: number | null;
  checking: boolean;
  error: string | null;
  /** the server's; null while unknown */
  limits: Limits | null;
  onFile: (file: File) => void;
}

/** Drop a song here or browse for one; shows what the server takes, what was chosen and why it cannot be used. */
export function AudioDropZone({ file, duration, checking, error, limits, onFile }: Props) {
  const id = useId();
  const [over, setOver] = useState(false);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const dropped = e.dataTransfer.files[0];
    if (dropped) onFile(dropped);
  };
  return (
    <div className="field">
      <span className="label" id={`${id}-label`}>
        Song{" "}
        {limits && (
          <span className="muted" data-testid="audio-limits">
            ({limits.audio_formats.map((f) => f.toUpperCase()).join(", ")} · up to {formatLength(limits.max_duration)}, {limits.max_upload_mb} MB)
          </span>
        )}
      </span>
      <label
        htmlFor={id}
        className={`dropzone ${over ? "dropzone-over" : ""} ${error ? "dropzone-error" : ""} ${file && !error ? "dropzone-ok" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        data-testid="dropzone"
      >
        <input
          id={id}
          className="sr-only"
          type="file"
          accept={accept(limits)}
          aria-labelledby={`${id}-label`}
          aria-describedby={`${id}-status`}
          aria-invalid={error ? true : undefined}
          data-testid="audio-input"
          onChange={(e) => {
            const chosen = e.target.files?.[0];
            if (chosen) onFile(chosen);
          }}
        />
        <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" className="dropzone-icon">
          <path d="M9 18V5l12-2v13" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
          <circle cx="6" cy="18" r="3" fill="none" stroke="currentColor" strokeWidth="1.8" />
          <circle cx="18" cy="16" r="3" fill="none" stroke="currentColor" strokeWidth="1.8" />
        </svg>
        {file ? (
          <span className="dropzone-file">
            <strong>{file.name}</strong>
            <span className="muted">
              {(file.size / 1_000_000).toFixed(1)} MB{duration !== null ? ` · ${formatDuration(duration)}` : ""}
              {checking ? " · checking…" : ""}
            </span>
          </span>
        ) : (
          <span>
            <strong>Drop your song here</strong> <span className="muted">or click to browse</span>
          </span>
        )}
      </label>
      <p id={`${id}-status`} className={error ? "field-error" : "sr-only"} role={error ? "alert" : undefined}>
        {error ?? (file ? `${file.name} selected` : "No song selected")}
      </p>
    </div>
  );
}
