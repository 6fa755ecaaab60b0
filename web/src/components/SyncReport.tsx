import type { AudioAnalysis, CompositionResult, CutSync } from "../api/types";

const W = 1000;
const H = 150;
const MID = H / 2;

const abs = (v: number | null) => (v === null ? null : Math.abs(v));

/** What the numbers say, in one line each: the cuts against the beats, the downbeats and the onsets. */
export function syncSummary(c: CompositionResult) {
  const tol = c.validation.beat_tolerance_ms;
  const beat = c.sync.map((s) => abs(s.beat_offset_ms)).filter((v): v is number => v !== null);
  const onset = c.sync.map((s) => abs(s.onset_offset_ms)).filter((v): v is number => v !== null).sort((a, b) => a - b);
  return {
    cuts: c.sync.length,
    onBeat: beat.filter((v) => v <= tol).length,
    withinFrame: c.sync.filter((s) => s.beat_offset_frames !== null && Math.abs(s.beat_offset_frames) <= 1).length,
    onDownbeat: c.sync.filter((s) => s.on_downbeat).length,
    worstMs: beat.length ? Math.max(...beat) : null,
    onsetMedianMs: onset[Math.floor(onset.length / 2)] ?? null,
    restarts: c.loop_restarts.length,
    restartsOff: c.loop_restarts.filter((r) => r.beat_offset_ms === null || Math.abs(r.beat_offset_ms) > tol).length,
    driftMs: c.sync_drift * 1000,
    tol,
  };
}

const ms = (v: number | null) => (v === null ? "–" : `${v > 0 ? "+" : ""}${v.toFixed(0)} ms`);

function Dot({ s, x, y, tol }: { s: CutSync; x: number; y: (v: number) => number; tol: number }) {
  const off = s.beat_offset_ms;
  const state = off === null ? "none" : Math.abs(off) <= tol ? "on" : "off";
  return (
    <g data-testid="sync-cut">
      <title>{`Cut ${s.index + 1} at ${s.time.toFixed(2)} s: ${ms(off)} from a beat, ${ms(s.onset_offset_ms)} from an onset${s.on_downbeat ? ", on a downbeat" : ""}`}</title>
      <line className="sync-stem" x1={x} x2={x} y1={MID} y2={y(off ?? 0)} />
      {s.onset_offset_ms !== null && <rect className="sync-onset" x={x - 4} y={y(s.onset_offset_ms) - 4} width={8} height={8} transform={`rotate(45 ${x} ${y(s.onset_offset_ms)})`} />}
      <circle className={`sync-dot sync-${state}`} cx={x} cy={y(off ?? 0)} r={s.on_downbeat ? 7 : 5} />
    </g>
  );
}

/** The composed video's sync report: where each cut landed against the song's beats (dots) and against onsets the
 * beat tracker did not produce (diamonds), with the meter and tempo it was cut to. Computed by the composer
 * (core.compose), drawn here. */
export function SyncReport({ composition, analysis }: { composition: CompositionResult; analysis: AudioAnalysis | null }) {
  const s = syncSummary(composition);
  const duration = composition.duration || 1;
  const span = Math.max(100, Math.ceil(((s.worstMs ?? 0) * 1.2) / 50) * 50);
  const y = (v: number) => MID - (Math.max(-span, Math.min(span, v)) / span) * (MID - 10);
  const x = (t: number) => 20 + (t / duration) * (W - 40);
  const allOn = s.cuts > 0 && s.onBeat === s.cuts;
  return (
    <section className="card" aria-labelledby="sync-title" data-testid="sync-report">
      <div className="card-head">
        <h2 id="sync-title">On the beat</h2>
        {analysis && (
          <span className="muted" data-testid="sync-meter">
            {analysis.tempo.toFixed(0)} BPM · {analysis.meter} (confidence {Math.round(analysis.meter_confidence * 100)} %)
          </span>
        )}
      </div>
      <p className={allOn ? "sync-verdict ok" : "sync-verdict warn"} data-testid="sync-verdict">
        {s.cuts === 0
          ? "One clip: no cuts to place."
          : allOn
            ? `All ${s.cuts} cuts within ${s.tol.toFixed(0)} ms of a beat`
            : `${s.cuts - s.onBeat} of ${s.cuts} cuts more than ${s.tol.toFixed(0)} ms from a beat`}
      </p>
      <dl className="sync-stats">
        <div><dt>within a frame</dt><dd data-testid="sync-within-frame">{s.withinFrame} / {s.cuts}</dd></div>
        <div><dt>on downbeats</dt><dd data-testid="sync-downbeats">{s.onDownbeat} / {s.cuts}</dd></div>
        <div><dt>worst cut</dt><dd data-testid="sync-worst">{s.worstMs === null ? "–" : `${s.worstMs.toFixed(0)} ms`}</dd></div>
        <div><dt>onsets (median)</dt><dd>{s.onsetMedianMs === null ? "–" : `${s.onsetMedianMs.toFixed(0)} ms`}</dd></div>
        <div><dt>loop restarts</dt><dd data-testid="sync-restarts">{s.restarts}{s.restartsOff ? ` (${s.restartsOff} off the beat)` : ""}</dd></div>
        <div><dt>audio drift</dt><dd>{s.driftMs.toFixed(0)} ms</dd></div>
      </dl>
      {s.cuts > 0 && (
        <svg className="sync-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Offsets of ${s.cuts} cuts from the nearest beat, within ±${span} ms`}>
          <rect className="sync-band" x={0} y={y(s.tol)} width={W} height={y(-s.tol) - y(s.tol)} />
          <line className="sync-axis" x1={0} x2={W} y1={MID} y2={MID} />
          <text className="tick" x={4} y={14}>+{span} ms</text>
          <text className="tick" x={4} y={H - 4}>−{span} ms</text>
          {composition.sync.map((c) => (
            <Dot key={c.index} s={c} x={x(c.time)} y={y} tol={s.tol} />
          ))}
        </svg>
      )}
      <ul className="legend" aria-label="Legend">
        <li><span className="key key-sync-on" /> cut (large: on a downbeat)</li>
        <li><span className="key key-sync-onset" /> nearest onset</li>
        <li><span className="key key-sync-band" /> ±{s.tol.toFixed(0)} ms</li>
      </ul>
      {composition.validation.messages.length > 0 && (
        <ul className="sync-messages small" data-testid="sync-messages">
          {composition.validation.messages.map((m) => <li key={m}>{m}</li>)}
        </ul>
      )}
      {s.cuts > 0 && (
        <details className="sync-details">
          <summary>Every cut</summary>
          <table className="cost-table sync-table" data-testid="sync-table">
            <thead>
              <tr><th>Cut</th><th>Time</th><th>Beat</th><th>Frames</th><th>Onset</th><th>Downbeat</th><th>Transition</th></tr>
            </thead>
            <tbody>
              {composition.sync.map((c) => (
                <tr key={c.index}>
                  <th>{c.index + 1}</th>
                  <td>{c.time.toFixed(2)} s</td>
                  <td>{ms(c.beat_offset_ms)}</td>
                  <td>{c.beat_offset_frames === null ? "–" : c.beat_offset_frames.toFixed(1)}</td>
                  <td>{ms(c.onset_offset_ms)}</td>
                  <td>{c.on_downbeat ? "yes" : "no"}</td>
                  <td>{c.transition}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </section>
  );
}
