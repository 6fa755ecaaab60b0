import { useCallback, useEffect, useState } from "react";
import { pendingStages, type JobStatus, type Stage } from "../api/types";
import { useFetched, useJobData } from "../hooks/useJobData";
import { api } from "../api/client";
import { useJobEvents, type JobEventsOptions } from "../hooks/useJobEvents";
import { ClipGallery } from "./ClipGallery";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { CostTracker } from "./CostTracker";
import { ClipDirector, StoryboardEditor } from "./Director";
import { ErrorMessage } from "./ErrorMessage";
import { FinalVideo } from "./FinalVideo";
import { SongAnalysis } from "./SongAnalysis";
import { StageProgress } from "./StageProgress";
import { StatusBadge } from "./StatusBadge";
import { Storyboard } from "./Storyboard";
import { SyncReport } from "./SyncReport";

const finished = (status: JobStatus, stage: Stage) =>
  status.status === "complete" || status.stages.some((s) => s.id === stage && s.state !== "pending" && s.state !== "running");

/** A video was composed: stays true while a director regenerates or recomposes (the job is processing again). */
const rendered = (status: JobStatus | null) =>
  status?.status === "complete" || status?.stages.some((s) => s.id === "compose" && (s.state === "done" || s.state === "cached")) === true;

/** Which stage outputs exist, as keys that change when they grow (null: not yet): useJobData refetches on change. */
function dataKeys(status: JobStatus | null) {
  if (!status) return { clips: null, analysis: null, storyboard: null };
  const inVideo = status.stage === "video" || status.stage === "compose" || status.status === "complete";
  return {
    clips: inVideo ? `${status.clips_ready.length}|${status.clips_failed.length}|${status.status}` : null,
    analysis: finished(status, "audio") ? `${status.stage}|${status.status}` : null,
    storyboard: finished(status, "plan") ? `${status.stage}|${status.status}` : null,
  };
}

/** One job, live: status, stages, cost, clips as they land, the video, and the pictures of how it was made. The
 * status is the server's (core.progress folds the events); this page only draws it. */
export function JobPage({ jobId, socket }: { jobId: string; socket?: JobEventsOptions }) {
  const live = useJobEvents(jobId, socket);
  const status = live.status;
  const data = useJobData(jobId, dataKeys(status));
  const expected = status?.clip_count ?? data.storyboard.plan?.clips.length ?? null;
  const failedStage = status?.error?.stage ?? status?.stage ?? null;
  // Once composed, the director stays (its chosen clip and variants with it) while a regenerate or recompose
  // runs, and each new composition gets a fresh player.
  const [composed, setComposed] = useState(false);
  const [clipCount, setClipCount] = useState<number | null>(null);
  const complete = status?.status === "complete";
  useEffect(() => {
    if (rendered(status)) setComposed(true);
  }, [status]);
  useEffect(() => {
    if (expected !== null) setClipCount(expected); // a new run's status starts without it: keep the last known
  }, [expected]);
  // Each composition gets its own player URL: the event that completed the job names the first; after that the
  // socket is closed (the job was complete), so the director says when a chosen version has been recomposed.
  const [recomposed, setRecomposed] = useState(0);
  const onRecomposed = useCallback(() => setRecomposed((n) => n + 1), []);
  const revision = `${status?.last_event_id ?? ""}.${recomposed}`;
  const composition = useFetched(complete ? `${jobId}:${revision}` : null, (s) => api.getComposition(jobId, s));

  return (
    <div className="job">
      <header className="job-head">
        <div>
          <p className="eyebrow">Job</p>
          <h1 className="job-id" data-testid="job-id">{jobId}</h1>
          {status?.prompt && <p className="lead">“{status.prompt}”</p>}
        </div>
        <div className="job-head-side">
          <StatusBadge status={status?.status ?? null} testId="job-status" />
          <ConnectionIndicator connection={live.connection} events={live.eventCount} lastEventId={live.lastEventId} />
        </div>
      </header>

      {status?.status === "error" && <ErrorMessage stage={failedStage} message={status.error?.message || status.message} />}
      {live.error && status?.status !== "error" && live.eventCount === 0 && (
        <div className="alert" role="alert">
          <strong>Cannot follow this job</strong>
          <p>{live.error}</p>
        </div>
      )}

      <div className="grid">
        <div className="col-main">
          {status?.status === "awaiting_review" && <StoryboardEditor jobId={jobId} />}
          {complete && <FinalVideo key={revision} jobId={jobId} revision={revision} duration={data.analysis?.duration ?? data.summary?.audio_duration ?? null} size={composition ? `${composition.width}×${composition.height}` : null} />}
          {complete && composition && <SyncReport composition={composition} analysis={data.analysis} />}
          {composed && clipCount !== null && <ClipDirector jobId={jobId} clipCount={clipCount} onRecomposed={onRecomposed} />}
          <StageProgress stages={status?.stages ?? pendingStages()} progress={status?.progress ?? 0} message={status?.message ?? ""} />
          <ClipGallery clips={data.clips?.clips ?? []} ready={status?.clips_ready ?? []} failed={status?.clips_failed ?? []} expected={expected} />
          {data.analysis && <SongAnalysis analysis={data.analysis} />}
          <Storyboard {...data.storyboard} />
        </div>
        <aside className="col-side">
          <CostTracker stages={status?.stages ?? pendingStages()} cost={status?.cost ?? null} budget={data.summary?.budget_total ?? null} perMinute={data.summary?.budget_per_minute ?? null} />
        </aside>
      </div>
    </div>
  );
}
