import { useMemo } from "react";
import { useJobData } from "../hooks/useJobData";
import { useJobEvents, type JobEventsOptions } from "../hooks/useJobEvents";
import { foldEvents } from "../lib/jobView";
import { ClipGallery } from "./ClipGallery";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { CostTracker } from "./CostTracker";
import { ErrorMessage } from "./ErrorMessage";
import { FinalVideo } from "./FinalVideo";
import { SongAnalysis } from "./SongAnalysis";
import { StageProgress } from "./StageProgress";
import { StatusBadge } from "./StatusBadge";
import { Storyboard } from "./Storyboard";

/** One job, live: status, stages, cost, clips as they land, the video, and the pictures of how it was made. */
export function JobPage({ jobId, socket }: { jobId: string; socket?: JobEventsOptions }) {
  const live = useJobEvents(jobId, socket);
  const view = useMemo(() => foldEvents(live.events, live.snapshot), [live.events, live.snapshot]);
  const done = (stage: string) => view.stages.some((s) => s.stage === stage && (s.state === "done" || s.state === "cached" || s.state === "failed"));
  const inVideo = view.stage === "video" || view.stage === "compose" || view.status === "complete";
  const data = useJobData(jobId, {
    clips: inVideo ? `${view.clipsReady.length}|${view.status}|${live.connection === "polling" ? view.lastEventId : ""}` : null,
    analysis: done("audio") || view.status === "complete" ? `${view.stage}|${view.status}` : null,
    storyboard: done("plan") || view.status === "complete" ? `${view.stage}|${view.status}` : null,
  });
  const clips = data.clips?.clips ?? [];
  const expected = view.clipCount ?? data.storyboard.plan?.clips.length ?? null;
  const prompt = live.snapshot?.prompt;

  return (
    <div className="job">
      <header className="job-head">
        <div>
          <p className="eyebrow">Job</p>
          <h1 className="job-id" data-testid="job-id">{jobId}</h1>
          {prompt && <p className="lead">“{prompt}”</p>}
        </div>
        <div className="job-head-side">
          <StatusBadge status={view.status} testId="job-status" />
          <ConnectionIndicator connection={live.connection} events={live.events.length} lastEventId={live.lastEventId} />
        </div>
      </header>

      {view.status === "error" && <ErrorMessage stage={view.error?.stage ?? view.stage} message={view.error?.message || view.message} />}
      {live.error && view.status !== "error" && live.events.length === 0 && (
        <div className="alert" role="alert">
          <strong>Cannot follow this job</strong>
          <p>{live.error}</p>
        </div>
      )}

      <div className="grid">
        <div className="col-main">
          {view.status === "complete" && <FinalVideo jobId={jobId} duration={data.analysis?.duration ?? data.summary?.audio_duration ?? null} />}
          <StageProgress stages={view.stages} progress={view.progress} message={view.message} />
          <ClipGallery clips={clips} expected={expected} />
          {data.analysis && <SongAnalysis analysis={data.analysis} />}
          <Storyboard {...data.storyboard} />
        </div>
        <aside className="col-side">
          <CostTracker stages={view.stages} total={view.totalCost} budget={data.summary?.budget_total ?? null} perMinute={data.summary?.budget_per_minute ?? null} />
        </aside>
      </div>
    </div>
  );
}
