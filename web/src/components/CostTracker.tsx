import { STAGE_TITLES, type Stage } from "../api/types";
import { usd } from "../lib/audioFile";
import type { StageView } from "../lib/jobView";

/** Spend per stage and in total, against the job's budget ($1.50 per minute of song by default). */
export function CostTracker({ stages, total, budget, perMinute }: { stages: StageView[]; total: number; budget: number | null; perMinute: number | null }) {
  const share = budget ? Math.min(100, (100 * total) / budget) : 0;
  return (
    <section className="card" aria-labelledby="cost-title">
      <div className="card-head">
        <h2 id="cost-title">Cost</h2>
        <span className="cost-total" data-testid="cost-total" data-value={total.toFixed(4)}>
          {usd(total)}
          {budget !== null && <span className="muted"> of {usd(budget)}</span>}
        </span>
      </div>
      {budget !== null && (
        <div className="bar bar-thin" role="meter" aria-label="Share of budget spent" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(share)}>
          <div className={`bar-fill ${share > 90 ? "bar-warn" : ""}`} style={{ width: `${share}%` }} />
        </div>
      )}
      <table className="cost-table">
        <caption className="sr-only">Cost by stage</caption>
        <tbody>
          {stages.map((s) => (
            <tr key={s.stage} data-stage={s.stage}>
              <th scope="row">{STAGE_TITLES[s.stage as Stage]}</th>
              <td>{s.state === "pending" ? "—" : usd(s.cost)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {perMinute !== null && <p className="muted small">Budget: {usd(perMinute)} per minute of song. Offline providers cost nothing.</p>}
    </section>
  );
}
