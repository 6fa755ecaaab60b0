import type { ClipInfo } from "../api/types";
import { useMediaSrc } from "../hooks/useJobData";

function ClipCard({ clip }: { clip: ClipInfo }) {
  const src = useMediaSrc(clip.url);
  return (
    <figure className="clip" data-testid="clip-preview" data-index={clip.index} data-status={clip.status}>
      {clip.status === "succeeded" && src ? (
        <video src={src} muted loop playsInline preload="metadata" controls aria-label={`Clip ${clip.index + 1}`} />
      ) : (
        <div className="clip-missing">{clip.status === "failed" ? "Failed — covered by its neighbours" : "Loading…"}</div>
      )}
      <figcaption>
        <span>Clip {clip.index + 1}</span>
        <span className="muted">{clip.duration ? `${clip.duration.toFixed(1)} s` : ""}</span>
      </figcaption>
    </figure>
  );
}

/** The clips as they finish, with placeholders for the ones still rendering. */
export function ClipGallery({ clips, expected }: { clips: ClipInfo[]; expected: number | null }) {
  const pending = Math.max(0, (expected ?? 0) - clips.length);
  if (!clips.length && !pending) return null;
  return (
    <section className="card" aria-labelledby="clips-title">
      <div className="card-head">
        <h2 id="clips-title">Clips</h2>
        <span className="muted">
          {clips.length}
          {expected ? ` of ${expected}` : ""} ready
        </span>
      </div>
      <div className="clip-grid">
        {clips.map((c) => (
          <ClipCard key={c.index} clip={c} />
        ))}
        {Array.from({ length: pending }, (_, i) => (
          <div key={`p${i}`} className="clip clip-pending" aria-hidden="true">
            <div className="clip-missing shimmer">Rendering…</div>
          </div>
        ))}
      </div>
    </section>
  );
}
