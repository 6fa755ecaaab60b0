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
      {clip.consistency && <Consistency check={clip.consistency} />}
    </figure>
  );
}

/** The clip's look check (palette distance, similarity to its references): flagged clips say why. */
function Consistency({ check }: { check: NonNullable<ClipInfo["consistency"]> }) {
  const figures = `palette ${check.palette_distance.toFixed(2)} · refs ${check.reference_similarity.toFixed(2)}`;
  return (
    <p className={`clip-consistency ${check.flagged ? "flagged" : ""}`} data-testid="clip-consistency" data-flagged={check.flagged} title={check.reasons.join("; ") || "consistent with the plan's look"}>
      {check.flagged ? "⚠ Off-look: " : "Look: "}
      {figures}
      {check.characters_used.length ? ` · ${check.characters_used.join(", ")}` : ""}
    </p>
  );
}

/** A clip the status counts but whose file is not listed yet: rendering, or failed for good. */
function ClipSlot({ index, failed }: { index: number; failed: boolean }) {
  return (
    <div className={`clip ${failed ? "clip-failed" : "clip-pending"}`} data-index={index} aria-hidden="true">
      <div className={`clip-missing ${failed ? "" : "shimmer"}`}>{failed ? "Failed — covered by its neighbours" : "Rendering…"}</div>
    </div>
  );
}

interface Props {
  /** the clip files so far (GET /api/jobs/{id}/clips) */
  clips: ClipInfo[];
  /** the status's clips_ready and clips_failed */
  ready: number[];
  failed: number[];
  expected: number | null;
}

/** The clips as they finish, one slot per clip of the plan: a preview once its file is listed, else a placeholder. */
export function ClipGallery({ clips, ready, failed, expected }: Props) {
  const listed = new Set(clips.map((c) => c.index));
  const count = Math.max(expected ?? 0, ...clips.map((c) => c.index + 1), ...ready.map((i) => i + 1), ...failed.map((i) => i + 1));
  const slots = Array.from({ length: count }, (_, i) => i).filter((i) => !listed.has(i));
  if (!clips.length && !slots.length) return null;
  const failedCount = new Set([...failed, ...clips.filter((c) => c.status === "failed").map((c) => c.index)]).size;
  return (
    <section className="card" aria-labelledby="clips-title">
      <div className="card-head">
        <h2 id="clips-title">Clips</h2>
        <span className="muted" data-testid="clips-count">
          {ready.length}
          {expected ? ` of ${expected}` : ""} ready{failedCount ? ` · ${failedCount} failed` : ""}
        </span>
      </div>
      <div className="clip-grid">
        {[...clips.map((c) => ({ index: c.index, clip: c })), ...slots.map((index) => ({ index, clip: null }))]
          .sort((a, b) => a.index - b.index)
          .map(({ index, clip }) => (clip ? <ClipCard key={index} clip={clip} /> : <ClipSlot key={index} index={index} failed={failed.includes(index)} />))}
      </div>
    </section>
  );
}
