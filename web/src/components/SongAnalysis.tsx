import type { AudioAnalysis } from "../api/types";

const W = 1000;
const H = 200;
const TOP = 14;
const BASE = 168;
const SECTION_COLORS = ["#7c5cff", "#ff4d8d", "#21c7a8", "#ffb547", "#4da3ff", "#c86bff", "#8bd346", "#ff7a45"];

/** The song as a picture: energy curve, beats (downbeats taller), sections as bands, clip cuts as lines. */
export function SongAnalysis({ analysis }: { analysis: AudioAnalysis }) {
  const { duration, energy_curve: curve, energy_hop: hop } = analysis;
  const x = (t: number) => (Math.max(0, Math.min(duration, t)) / duration) * W;
  const peak = Math.max(1e-6, ...curve);
  const y = (e: number) => BASE - (e / peak) * (BASE - TOP);
  const points = curve.map((e, i) => `${x(i * hop).toFixed(1)},${y(e).toFixed(1)}`);
  const area = points.length ? `M0,${BASE} L${points.join(" L")} L${x(duration)},${BASE} Z` : "";
  const downbeats = new Set(analysis.downbeats.map((d) => d.toFixed(3)));
  const ticks = Array.from({ length: Math.floor(duration / 5) + 1 }, (_, i) => i * 5);
  return (
    <section className="card" aria-labelledby="analysis-title">
      <div className="card-head">
        <h2 id="analysis-title">The song</h2>
        <span className="muted">
          {analysis.tempo.toFixed(0)} BPM · {analysis.meter} · {analysis.beats.length} beats · {analysis.sections.length} sections · {analysis.boundaries.length} clips
        </span>
      </div>
      <svg className="analysis" viewBox={`0 0 ${W} ${H + 12}`} role="img" aria-label={`Energy curve of the ${duration.toFixed(1)} second song with beats, sections and clip boundaries`} data-testid="song-analysis">
        <defs>
          <linearGradient id="energy" x1="0" x2="0" y1="0" y2="1">
            <stop offset="0%" stopColor="#ff4d8d" stopOpacity="0.9" />
            <stop offset="100%" stopColor="#7c5cff" stopOpacity="0.15" />
          </linearGradient>
        </defs>
        {analysis.sections.map((s, i) => (
          <rect key={`s${i}`} x={x(s.start)} y={0} width={Math.max(0, x(s.end) - x(s.start))} height={BASE} fill={SECTION_COLORS[s.label % SECTION_COLORS.length]} opacity={0.1 + 0.12 * (i % 2)}>
            <title>{`Section ${i + 1} (type ${s.label}) ${s.start.toFixed(1)}–${s.end.toFixed(1)} s`}</title>
          </rect>
        ))}
        <path d={area} fill="url(#energy)" stroke="#ff8fb7" strokeWidth={1.5} vectorEffect="non-scaling-stroke" />
        {analysis.beats.map((b, i) => {
          const down = downbeats.has(b.toFixed(3));
          return <line key={`b${i}`} className={down ? "downbeat" : "beat"} x1={x(b)} x2={x(b)} y1={BASE + 2} y2={BASE + (down ? 16 : 9)} />;
        })}
        {analysis.boundaries.slice(1).map((b) => (
          <line key={`c${b.index}`} className="cut" x1={x(b.start)} x2={x(b.start)} y1={0} y2={BASE}>
            <title>{`Cut into clip ${b.index + 1} at ${b.start.toFixed(2)} s`}</title>
          </line>
        ))}
        {analysis.boundaries.map((b) => (
          <text key={`l${b.index}`} className="clip-label" x={x(b.start) + 4} y={12}>
            {b.index + 1}
          </text>
        ))}
        {ticks.map((t) => (
          <text key={`t${t}`} className="tick" x={x(t)} y={H + 10} textAnchor={t === 0 ? "start" : "middle"}>
            {t}s
          </text>
        ))}
      </svg>
      <ul className="legend" aria-label="Legend">
        <li><span className="key key-energy" /> energy</li>
        <li><span className="key key-beat" /> beats (tall: downbeats)</li>
        <li><span className="key key-cut" /> clip cuts</li>
        <li><span className="key key-section" /> sections</li>
      </ul>
      {analysis.fallback_used && <p className="muted small">Beat detection fell back to a tempo grid: {analysis.fallback_reason}</p>}
    </section>
  );
}
