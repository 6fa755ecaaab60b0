import { useState } from "react";
import { api, fetchBlobUrl, getToken } from "../api/client";
import { useMediaSrc } from "../hooks/useJobData";

function ExportButton({ jobId, format }: { jobId: string; format: "mp4" | "mov" }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const href = api.videoUrl(jobId, format);
  const filename = `videogen-${jobId.slice(0, 8)}.${format}`;
  const label = `Download ${format.toUpperCase()}`;
  if (!getToken()) {
    return (
      <a className="button" href={href} download={filename} data-testid={`export-${format}`}>
        {label}
      </a>
    );
  }
  // with a bearer token the file must be fetched with the header, then saved from a blob
  const onClick = async () => {
    setBusy(true);
    setError(null);
    try {
      const url = await fetchBlobUrl(href);
      const a = document.createElement("a");
      a.href = url;
      a.download = filename;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="button" onClick={onClick} disabled={busy} data-testid={`export-${format}`}>
        {busy ? "Preparing…" : label}
      </button>
      {error && <span className="field-error">{error}</span>}
    </>
  );
}

/** The finished video with controls, and its downloads. ``revision`` names the composition (the event that
 * completed it): a director's recompose replaces the file behind the same URL, so each gets its own URL (the
 * browser would replay the old one). */
export function FinalVideo({ jobId, duration, size = null, revision = null }: { jobId: string; duration: number | null; size?: string | null; revision?: string | null }) {
  const rev = revision ? `?v=${encodeURIComponent(revision)}` : "";
  const src = useMediaSrc(`${api.videoUrl(jobId)}${rev}`);
  // a <track> cannot send the bearer header either: fetched like the video (null on 404, an instrumental song)
  const captions = useMediaSrc(`${api.captionsUrl(jobId)}${rev}`);
  return (
    <section className="card card-hero" aria-labelledby="video-title">
      <div className="card-head">
        <h2 id="video-title">Your video</h2>
        {duration !== null && <span className="muted">{duration.toFixed(1)} s{size ? ` · ${size}` : ""}</span>}
      </div>
      <div className="player">
        {src ? (
          <video data-testid="final-video" src={src} controls playsInline preload="metadata" aria-label="Final music video">
            {/* the lyrics: none when the song has none (404) */}
            {captions && <track kind="captions" src={captions} srcLang="und" label="Lyrics" default data-testid="captions-track" />}
          </video>
        ) : (
          <div className="clip-missing shimmer">Loading video…</div>
        )}
      </div>
      <div className="actions">
        <ExportButton jobId={jobId} format="mp4" />
        <ExportButton jobId={jobId} format="mov" />
      </div>
    </section>
  );
}
