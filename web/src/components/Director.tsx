// Director mode (issue 14): edit the storyboard before any clip is paid for, then regenerate clips as variants.
import { useEffect, useState } from "react";
import { api, fetchBlobUrl } from "../api/client";

type Board = Awaited<ReturnType<typeof api.getStoryboard>>;
type Versions = Awaited<ReturnType<typeof api.getVersions>>;
const KINDS = ["cut", "crossfade", "fade"] as const;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A stored file as a blob URL (media elements cannot send the bearer token); null until fetched or on error. */
function useBlobUrl(path: string): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    let made: string | null = null;
    fetchBlobUrl(path, ctl.signal).then((u) => setUrl((made = u)), () => setUrl(null));
    return () => {
      ctl.abort();
      if (made) URL.revokeObjectURL(made);
    };
  }, [path]);
  return url;
}

function VariantVideo({ path }: { path: string }) {
  const url = useBlobUrl(path);
  return url ? <video src={url} muted loop controls preload="metadata" /> : <div className="clip-missing">Loading…</div>;
}

/** The cuts over the energy curve: each cut is a handle that steps to the previous or next detected beat. */
function CutTimeline({ board, energy, onMove }: { board: Board; energy: number[]; onMove: (cut: number, step: -1 | 1) => void }) {
  const edges = [0, ...board.cuts, board.duration];
  const points = energy.map((e, i) => `${(100 * i) / Math.max(1, energy.length - 1)},${30 - 28 * e}`).join(" ");
  return (
    <div className="cut-timeline" data-testid="cut-timeline">
      <svg viewBox="0 0 100 30" preserveAspectRatio="none" className="energy" aria-hidden="true">
        <polyline points={points} fill="none" stroke="currentColor" strokeWidth="0.4" />
      </svg>
      {board.cuts.map((cut, k) => (
        <div key={k} className="cut-handle" style={{ left: `${(100 * cut) / board.duration}%` }} data-testid="cut-handle" data-time={cut.toFixed(3)}>
          <button type="button" aria-label={`move cut ${k + 1} to the previous beat`} onClick={() => onMove(k, -1)}>◀</button>
          <button type="button" aria-label={`move cut ${k + 1} to the next beat`} onClick={() => onMove(k, 1)}>▶</button>
        </div>
      ))}
      <p className="muted small">{edges.length - 1} clips: {board.cuts.map((c) => c.toFixed(2)).join(" · ")} s</p>
    </div>
  );
}

/** The storyboard of a job in review: cuts, one card per clip (script, prompt, transition), the estimate, Approve. */
export function StoryboardEditor({ jobId }: { jobId: string }) {
  const [board, setBoard] = useState<Board | null>(null);
  const [energy, setEnergy] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [approved, setApproved] = useState(false);
  const thumb = useBlobUrl(api.referenceImageUrl(jobId));
  useEffect(() => {
    const ctl = new AbortController();
    api.getStoryboard(jobId, ctl.signal).then(setBoard, (e) => !ctl.signal.aborted && setError(message(e)));
    api.getAnalysis(jobId, ctl.signal).then((a) => setEnergy(a.energy_curve), () => undefined);
    return () => ctl.abort();
  }, [jobId]);
  if (!board) return error ? <div className="alert" role="alert">{error}</div> : null;
  const edges = [0, ...board.cuts, board.duration];
  const move = (k: number, step: -1 | 1) => {
    const beats = [...board.beats].sort((a, b) => a - b);
    const cut = board.cuts[k] ?? 0;
    const at = beats.reduce((best, b, i) => (Math.abs(b - cut) < Math.abs((beats[best] ?? 0) - cut) ? i : best), 0);
    const next = beats[at + step];
    if (next === undefined) return;
    setBoard({ ...board, cuts: board.cuts.map((c, i) => (i === k ? next : c)) });
  };
  const edit = (i: number, prompt: string) => setBoard({ ...board, clips: board.clips.map((c, k) => (k === i ? { ...c, prompt } : c)) });
  const transition = (i: number, kind: (typeof KINDS)[number]) =>
    setBoard({ ...board, plan: { ...board.plan, transitions: board.plan.transitions.map((t, k) => (k === i - 1 ? { ...t, kind } : t)) } });
  type Style = Board["plan"]["style"];
  const restyle = (update: Partial<Style>) => setBoard({ ...board, plan: { ...board.plan, style: { ...board.plan.style, ...update } } });
  const save = async (): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      setBoard(await api.putStoryboard(jobId, board));
      return true;
    } catch (e) {
      setError(message(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  // split / merge / lock go to the server (core's one definition of them), after the edits made here are saved
  const restructure = async (edit: { op: "split" | "merge" | "lock" | "unlock"; clip: number }) => {
    if (!(await save())) return;
    setBusy(true);
    try {
      setBoard(await api.editStoryboard(jobId, { ...edit, at: null }));
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  const approve = async () => {
    if (!(await save())) return;
    try {
      await api.approve(jobId);
      setApproved(true);
    } catch (e) {
      setError(message(e));
    }
  };
  const total = (board.estimate?.lines ?? []).reduce((s, l) => s + l.cost, 0);
  return (
    <section className="card director" data-testid="storyboard-editor">
      <h2>Storyboard review</h2>
      <p className="muted">Nothing has been generated yet. Estimate: <strong data-testid="estimate">${total.toFixed(2)}</strong> for {board.clips.length} clips.</p>
      <CutTimeline board={board} energy={energy} onMove={move} />
      <fieldset className="look" data-testid="look-editor">
        <legend>Look of every clip</legend>
        <label>Style <input value={board.plan.style.visual_style} onChange={(e) => restyle({ visual_style: e.target.value })} data-testid="style-edit" /></label>
        <label>Mood <input value={board.plan.style.mood} onChange={(e) => restyle({ mood: e.target.value })} data-testid="mood-edit" /></label>
        <span className="palette-edit">Palette
          {board.plan.style.palette.map((colour, k) => (
            <input key={k} type="color" value={colour} aria-label={`palette colour ${k + 1}`} data-testid="palette-colour"
              onChange={(e) => restyle({ palette: board.plan.style.palette.map((c, j) => (j === k ? e.target.value : c)) })} />
          ))}
        </span>
      </fieldset>
      <div className="director-cards">
        {board.plan.clips.map((script, i) => (
          <article key={i} className="clip-card" data-testid="clip-card">
            {thumb ? <img src={thumb} alt="" className="clip-thumb" /> : <div className="clip-thumb" />}
            <h3>Clip {i + 1} <span className="muted small">{(edges[i] ?? 0).toFixed(2)}–{(edges[i + 1] ?? 0).toFixed(2)} s</span></h3>
            <p className="small">{script.visual_description}</p>
            <textarea rows={4} value={board.clips[i]?.prompt ?? ""} onChange={(e) => edit(i, e.target.value)} data-testid="clip-prompt" disabled={board.clips[i]?.locked} />
            <div className="clip-tools small">
              <label>
                <input type="checkbox" checked={board.clips[i]?.locked ?? false} disabled={busy || approved} data-testid="clip-lock"
                  onChange={(e) => void restructure({ op: e.target.checked ? "lock" : "unlock", clip: i })} />{" "}
                Locked
              </label>
              <button type="button" className="button" disabled={busy || approved || board.clips[i]?.locked} data-testid="clip-split"
                onClick={() => void restructure({ op: "split", clip: i })} title="cut this clip in two on the beat nearest its middle">Split</button>
              {i + 1 < board.plan.clips.length && (
                <button type="button" className="button" disabled={busy || approved || board.clips[i]?.locked || board.clips[i + 1]?.locked} data-testid="clip-merge"
                  onClick={() => void restructure({ op: "merge", clip: i })} title="join this clip with the next one">Merge with next</button>
              )}
            </div>
            {i > 0 && (
              <select value={board.plan.transitions[i - 1]?.kind ?? "cut"} onChange={(e) => transition(i, e.target.value as (typeof KINDS)[number])} aria-label={`transition into clip ${i + 1}`}>
                {KINDS.map((k) => <option key={k} value={k}>{k}</option>)}
              </select>
            )}
          </article>
        ))}
      </div>
      {error && <div className="alert" role="alert" data-testid="storyboard-error">{error}</div>}
      <div className="actions">
        <button type="button" className="button" onClick={() => void save()} disabled={busy || approved}>Save</button>
        <button type="button" className="button button-primary" onClick={() => void approve()} disabled={busy || approved} data-testid="approve">
          {approved ? "Approved: rendering…" : "Approve and render"}
        </button>
      </div>
    </section>
  );
}

/** After the render: regenerate a clip as variants, see them side by side, use one (the video is recomposed). */
export function ClipDirector({ jobId, clipCount, onRecomposed }: { jobId: string; clipCount: number; onRecomposed?: () => void }) {
  const [clip, setClip] = useState(0);
  const [maxVariants, setMaxVariants] = useState(1);
  useEffect(() => {
    const ctl = new AbortController();
    api.getLimits(ctl.signal).then((l) => setMaxVariants(l.max_variants), () => undefined);
    return () => ctl.abort();
  }, []);
  const [variants, setVariants] = useState(2);
  const [versions, setVersions] = useState<Versions | null>(null);
  // what the page waits for after a request: a number of versions, or a version in use
  const [waiting, setWaiting] = useState<{ count?: number; chosen?: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (waiting === null) return;
    const timer = setInterval(() => {
      api.getVersions(jobId, clip).then((v) => {
        setVersions(v);
        if (waiting.count !== undefined && v.versions.length >= waiting.count) setWaiting(null);
        if (waiting.chosen !== undefined && v.chosen === waiting.chosen) {
          setWaiting(null);
          onRecomposed?.(); // "chosen" is written once the new video is composed
        }
      }, () => undefined);
    }, 2000);
    return () => clearInterval(timer);
  }, [jobId, clip, waiting, onRecomposed]);
  const regenerate = async () => {
    setError(null);
    try {
      await api.regenerate(jobId, clip, { variants });
      setWaiting({ count: (versions?.versions.length || 1) + variants });
    } catch (e) {
      setError(message(e));
    }
  };
  const use = async (version: number) => {
    try {
      await api.choose(jobId, clip, version);
      setWaiting({ chosen: version });
    } catch (e) {
      setError(message(e));
    }
  };
  return (
    <section className="card director" data-testid="clip-director">
      <h2>Director</h2>
      <div className="row">
        <label>Clip <select value={clip} onChange={(e) => { setClip(Number(e.target.value)); setVersions(null); }} data-testid="regen-clip">
          {Array.from({ length: clipCount }, (_, i) => <option key={i} value={i}>{i + 1}</option>)}
        </select></label>
        <label>Variants <input type="number" min={1} max={maxVariants} value={variants} onChange={(e) => setVariants(Number(e.target.value))} data-testid="regen-variants" /></label>
        <button type="button" className="button" onClick={() => void regenerate()} disabled={waiting !== null} data-testid="regenerate">
          {waiting !== null ? "Generating…" : "Regenerate"}
        </button>
      </div>
      {error && <div className="alert" role="alert">{error}</div>}
      <div className="variants">
        {versions?.versions.map((v) => (
          <figure key={v.version} className="variant" data-testid="variant">
            <VariantVideo path={`/api/jobs/${jobId}/clips/${clip}/versions/${v.version}`} />
            <figcaption>
              v{v.version} · seed {v.seed}{" "}
              {v.version === versions.chosen ? <strong>in use</strong> : <button type="button" className="button" onClick={() => void use(v.version)} data-testid="use-version">Use this one</button>}
            </figcaption>
          </figure>
        ))}
      </div>
    </section>
  );
}
