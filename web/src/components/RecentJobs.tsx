import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { JobStatus } from "../api/types";
import { navigate } from "../lib/route";
import { StatusBadge } from "./StatusBadge";

/** The latest jobs, newest first, each linking to its page. */
export function RecentJobs({ load = api.listJobs }: { load?: typeof api.listJobs }) {
  const [jobs, setJobs] = useState<JobStatus[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    load(ctl.signal).then(
      (r) => setJobs(r.jobs),
      (e: unknown) => !ctl.signal.aborted && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => ctl.abort();
  }, [load]);
  return (
    <section className="card" aria-labelledby="recent-title">
      <h2 id="recent-title">Recent videos</h2>
      {error && <p className="field-error">{error}</p>}
      {jobs === null && !error && <p className="muted">Loading…</p>}
      {jobs?.length === 0 && <p className="muted">No videos yet — your first one will show up here.</p>}
      <ul className="jobs" data-testid="recent-jobs">
        {jobs?.map((j) => (
          <li key={j.job_id}>
            <a
              href={`/jobs/${j.job_id}`}
              onClick={(e) => {
                if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                e.preventDefault();
                navigate(`/jobs/${j.job_id}`);
              }}
            >
              <span className="job-prompt">{j.prompt || j.job_id}</span>
              <span className="job-meta">
                <StatusBadge status={j.status} />
                <span className="muted small">{j.created_at ? new Date(j.created_at).toLocaleString() : ""}</span>
              </span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
