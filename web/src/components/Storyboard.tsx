import type { ClipPrompt, ReferenceInfo, Timeline, VideoPlan } from "../api/types";
import { useMediaSrc } from "../hooks/useJobData";

function ReferencePanel({ info, plan }: { info: ReferenceInfo | null; plan: VideoPlan | null }) {
  const src = useMediaSrc(info?.image_url ?? null);
  const palette = plan?.style.palette ?? info?.reference.palette ?? [];
  return (
    <div className="reference">
      {src ? (
        <img src={src} alt={`Style reference: ${info?.reference.description ?? ""}`} data-testid="reference-image" />
      ) : (
        <div className="clip-missing">{info?.reference.status === "failed" ? "No reference image — text-only prompts" : "Reference pending…"}</div>
      )}
      <div>
        {plan && (
          <>
            <p className="lead">{plan.summary}</p>
            <p className="muted small">
              {plan.style.visual_style} · {plan.style.mood} · {plan.style.lighting}
            </p>
          </>
        )}
        <ul className="palette" aria-label="Palette">
          {palette.map((c) => (
            <li key={c} style={{ background: c }} title={c}>
              <span className="sr-only">{c}</span>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

interface Props {
  plan: VideoPlan | null;
  /** the job's clip slots: a script or prompt refers to its slot by index */
  timeline: Timeline | null;
  prompts: ClipPrompt[] | null;
  reference: ReferenceInfo | null;
}

/** The plan as the director sees it: the style reference, then each clip's script, its place and its prompt. */
export function Storyboard({ plan, timeline, prompts, reference }: Props) {
  if (!plan && !reference && !prompts) return null;
  const byIndex = new Map((prompts ?? []).map((p) => [p.index, p]));
  const slotOf = new Map((timeline?.slots ?? []).map((s) => [s.index, s]));
  return (
    <section className="card" aria-labelledby="storyboard-title">
      <div className="card-head">
        <h2 id="storyboard-title">Storyboard</h2>
        {plan && <span className="muted">{plan.clips.length} shots</span>}
      </div>
      <ReferencePanel info={reference} plan={plan} />
      {plan && (
        <ol className="shots">
          {plan.clips.map((c) => {
            const prompt = byIndex.get(c.index);
            const slot = slotOf.get(c.index);
            return (
              <li key={c.index} className="shot" data-testid="storyboard-shot">
                <div className="shot-head">
                  <span className="shot-no">{c.index + 1}</span>
                  <span className="muted small">
                    {slot ? `${slot.start.toFixed(1)}–${slot.end.toFixed(1)} s · ` : ""}
                    {c.camera.shot}, {c.camera.movement.replace("_", " ")}
                  </span>
                </div>
                <p>{c.visual_description}</p>
                <p className="muted small">{c.motion}</p>
                {prompt && (
                  <details>
                    <summary>Prompt</summary>
                    <p className="prompt">{prompt.prompt}</p>
                  </details>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
