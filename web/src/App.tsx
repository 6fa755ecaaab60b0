import { useState } from "react";
import { getToken, setToken } from "./api/client";
import { JobPage } from "./components/JobPage";
import { RecentJobs } from "./components/RecentJobs";
import { UploadForm } from "./components/UploadForm";
import { navigate, useRoute } from "./lib/route";

function TokenField() {
  const [value, setValue] = useState(getToken() ?? "");
  return (
    <details className="token">
      <summary>API token</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setToken(value.trim() || null);
          location.reload();
        }}
      >
        <label htmlFor="token" className="sr-only">
          API token
        </label>
        <input id="token" type="password" autoComplete="off" placeholder="only if the server needs one" value={value} onChange={(e) => setValue(e.target.value)} />
        <button className="button" type="submit">
          Save
        </button>
      </form>
    </details>
  );
}

export function App() {
  const route = useRoute();
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a
          className="brand"
          href="/"
          onClick={(e) => {
            e.preventDefault();
            navigate("/");
          }}
        >
          <span className="brand-mark" aria-hidden="true">▶</span> VideoGen
        </a>
        <nav aria-label="Main">
          <a
            href="/"
            onClick={(e) => {
              e.preventDefault();
              navigate("/");
            }}
          >
            New video
          </a>
          <TokenField />
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === "job" ? (
          <JobPage key={route.jobId} jobId={route.jobId} />
        ) : (
          <div className="home">
            <section className="hero">
              <h1>Turn a song into a music video</h1>
              <p className="lead">Upload a track, describe what you see. Every cut lands on the beat.</p>
            </section>
            <div className="grid">
              <div className="col-main">
                <UploadForm onCreated={(job) => navigate(`/jobs/${job.job_id}`)} />
              </div>
              <aside className="col-side">
                <RecentJobs />
              </aside>
            </div>
          </div>
        )}
      </main>
    </>
  );
}
