import type { Cost, StageView } from "../api/types";
import { usd } from "../lib/audioFile";

/** Spend per stage and in total (the server's cost), against the job's budget ($1.50 per minute of song by
 * default). `cost` is null until the first status arrives. */
export function CostTracker({ stages, cost, budget, perMinute }: { stages: StageView[]; cost: Cost | null; budget: number | null; perMinute: number | null }) {
  const total = cost?.total ?? 0;
  const share = budget ? Math.min(100, (100 * total) / budget) : 0;
  return (
    <section className="card" aria-labelledby="cost-title">
      <div className="card-head">
        <h2 id="cost-title">Cost</h2>
        <span className="cost-total" data-testid="cost-total" data-value={cost ? total.toFixed(4) : ""}>
          {cost ? usd(total) : "—"}
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
            <tr key={s.id} data-stage={s.id}>
              <th scope="row">{s.title}</th>
              <td>{s.state === "pending" ? "—" : usd(cost?.by_stage[s.id] ?? 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {perMinute !== null && <p className="muted small">Budget: {usd(perMinute)} per minute of song. Offline providers cost nothing.</p>}
    </section>
  );
}
