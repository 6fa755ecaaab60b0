// The job's files and stage outputs, fetched when the events say they exist (and refetched as they grow).
import { useEffect, useState } from "react";
import { api, fetchBlobUrl, getToken } from "../api/client";
import type { AudioAnalysis, ClipList, ClipPrompt, JobSummary, ReferenceInfo, Timeline, VideoPlan } from "../api/types";

/** Fetch `load` whenever `key` changes (null = not yet); keeps the last good value. */
export function useFetched<T>(key: string | null, load: (signal: AbortSignal) => Promise<T>): T | null {
  const [value, setValue] = useState<T | null>(null);
  useEffect(() => {
    if (key === null) return;
    const ctl = new AbortController();
    load(ctl.signal).then(
      (v) => setValue(v),
      () => {
        /* not there yet (409) or gone: the next key change tries again */
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return value;
}

export interface Storyboard {
  plan: VideoPlan | null;
  /** where each clip sits (the scripts and prompts name their slot by index only) */
  timeline: Timeline | null;
  prompts: ClipPrompt[] | null;
  reference: ReferenceInfo | null;
}

export function useJobData(jobId: string, keys: { clips: string | null; analysis: string | null; storyboard: string | null }) {
  const summary = useFetched<JobSummary>(jobId, (s) => api.getSummary(jobId, s));
  const clips = useFetched<ClipList>(keys.clips && `${jobId}:${keys.clips}`, (s) => api.getClips(jobId, s));
  const analysis = useFetched<AudioAnalysis>(keys.analysis && `${jobId}:${keys.analysis}`, (s) => api.getAnalysis(jobId, s));
  const plan = useFetched<VideoPlan>(keys.storyboard && `${jobId}:${keys.storyboard}`, (s) => api.getPlan(jobId, s));
  const timeline = useFetched<Timeline>(keys.storyboard && `${jobId}:${keys.storyboard}`, (s) => api.getTimeline(jobId, s));
  const prompts = useFetched<ClipPrompt[]>(keys.storyboard && `${jobId}:${keys.storyboard}`, (s) => api.getPrompts(jobId, s));
  const reference = useFetched<ReferenceInfo>(keys.storyboard && `${jobId}:${keys.storyboard}`, (s) => api.getReference(jobId, s));
  return { summary, clips, analysis, storyboard: { plan, timeline, prompts, reference } satisfies Storyboard };
}

/** A URL a media element can load: the path itself, or (when the gateway wants a token) a blob fetched with it. */
export function useMediaSrc(path: string | null): string | null {
  const token = getToken();
  const [blob, setBlob] = useState<string | null>(null);
  useEffect(() => {
    if (!path || !token) return;
    const ctl = new AbortController();
    let url: string | null = null;
    fetchBlobUrl(path, ctl.signal).then(
      (u) => {
        url = u;
        setBlob(u);
      },
      () => setBlob(null),
    );
    return () => {
      ctl.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [path, token]);
  if (!path) return null;
  return token ? blob : path;
}
