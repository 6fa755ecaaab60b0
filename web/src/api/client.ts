// The one typed client of the gateway. Same origin by default (the API serves this app); the bearer token, when
// the gateway wants one, is kept in localStorage and sent as a header (and as ?token= on the WebSocket).
// Each method's result type is read off the generated OpenAPI paths, so a changed route fails the type check.
import type { Problem, paths } from "./types";

type JsonOf<R> = R extends { content: { "application/json": infer T } } ? T : never;
/** The JSON body of a GET route's 200 response. */
type Get<P extends keyof paths> = paths[P] extends { get: { responses: { 200: infer R } } } ? JsonOf<R> : never;
/** The JSON body of a POST route's 201 response. */
type Created<P extends keyof paths> = paths[P] extends { post: { responses: { 201: infer R } } } ? JsonOf<R> : never;

const TOKEN_KEY = "videogen.token";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface JobForm {
  audio: File;
  prompt: string;
  style?: string;
  mood?: string;
  durationHint?: number | null;
  aspect?: string;
  /** the song's lyrics, plain text or LRC (aligned to the vocals; captions come out) */
  lyrics?: string;
  captions?: "none" | "soft" | "karaoke";
  /** director mode: stop after planning, in `awaiting_review` */
  review?: boolean;
}

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

function headers(): HeadersInit {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function problem(res: Response): Promise<ApiError> {
  let detail = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as Partial<Problem>;
    detail = body.detail || body.title || detail;
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, detail);
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { headers: headers(), signal });
  if (!res.ok) throw await problem(res);
  return (await res.json()) as T;
}

/** Media elements and download links cannot send headers: with a token set, the file is fetched as a blob. */
export async function fetchBlobUrl(path: string, signal?: AbortSignal): Promise<string> {
  const res = await fetch(path, { headers: headers(), signal });
  if (!res.ok) throw await problem(res);
  return URL.createObjectURL(await res.blob());
}

async function sendJson<T>(method: "POST" | "PUT", path: string, payload: unknown): Promise<T> {
  const res = await fetch(path, { method, body: JSON.stringify(payload), headers: { ...headers(), "Content-Type": "application/json" } });
  if (!res.ok) throw await problem(res);
  return (await res.json()) as T;
}

type Storyboard = Get<"/api/jobs/{job_id}/storyboard">;
type DirectorRun = JsonOf<paths["/api/jobs/{job_id}/approve"]["post"]["responses"][200]>;
type StoryboardEdit = JsonOf<NonNullable<paths["/api/jobs/{job_id}/storyboard/edits"]["post"]["requestBody"]>>;

/** Director mode (issue 14): the storyboard in review, approval, a finished job's clip versions. */
const director = {
  getStoryboard: (id: string, signal?: AbortSignal) => getJson<Storyboard>(`/api/jobs/${id}/storyboard`, signal),
  putStoryboard: (id: string, board: Storyboard) => sendJson<Storyboard>("PUT", `/api/jobs/${id}/storyboard`, board),
  /** split (on a beat: `at`, or the one nearest the clip's middle), merge with the next, lock or unlock a clip */
  editStoryboard: (id: string, edit: StoryboardEdit) => sendJson<Storyboard>("POST", `/api/jobs/${id}/storyboard/edits`, edit),
  approve: (id: string) => sendJson<DirectorRun>("POST", `/api/jobs/${id}/approve`, {}),
  regenerate: (id: string, clip: number, body: { prompt?: string | null; seed?: number | null; variants: number }) =>
    sendJson<DirectorRun>("POST", `/api/jobs/${id}/clips/${clip}/regenerate`, body),
  getVersions: (id: string, clip: number, signal?: AbortSignal) =>
    getJson<Get<"/api/jobs/{job_id}/clips/{index}/versions">>(`/api/jobs/${id}/clips/${clip}/versions`, signal),
  choose: (id: string, clip: number, version: number) => sendJson<DirectorRun>("POST", `/api/jobs/${id}/clips/${clip}/choose`, { version }),
};

export const api = {
  async createJob(form: JobForm): Promise<Created<"/api/jobs">> {
    const body = new FormData();
    body.append("audio", form.audio, form.audio.name);
    body.append("prompt", form.prompt);
    if (form.style) body.append("style", form.style);
    if (form.mood) body.append("mood", form.mood);
    if (form.durationHint) body.append("duration_hint", String(form.durationHint));
    if (form.aspect) body.append("aspect", form.aspect);
    if (form.lyrics?.trim()) body.append("lyrics", form.lyrics);
    if (form.captions) body.append("captions", form.captions);
    if (form.review) body.append("review", "true");
    const res = await fetch("/api/jobs", { method: "POST", body, headers: headers() });
    if (!res.ok) throw await problem(res);
    return (await res.json()) as Created<"/api/jobs">;
  },
  getLimits: (signal?: AbortSignal) => getJson<Get<"/api/limits">>("/api/limits", signal),
  listJobs: (signal?: AbortSignal) => getJson<Get<"/api/jobs">>("/api/jobs?limit=20", signal),
  getJob: (id: string, signal?: AbortSignal) => getJson<Get<"/api/jobs/{job_id}">>(`/api/jobs/${id}`, signal),
  getClips: (id: string, signal?: AbortSignal) => getJson<Get<"/api/jobs/{job_id}/clips">>(`/api/jobs/${id}/clips`, signal),
  getSummary: (id: string, signal?: AbortSignal) => getJson<Get<"/api/jobs/{job_id}/summary">>(`/api/jobs/${id}/summary`, signal),
  getAnalysis: (id: string, signal?: AbortSignal) => getJson<Get<"/api/jobs/{job_id}/analysis">>(`/api/jobs/${id}/analysis`, signal),
  getPlan: (id: string, signal?: AbortSignal) => getJson<Get<"/api/jobs/{job_id}/plan">>(`/api/jobs/${id}/plan`, signal),
  getTimeline: (id: string, signal?: AbortSignal) => getJson<Get<"/api/jobs/{job_id}/timeline">>(`/api/jobs/${id}/timeline`, signal),
  getPrompts: (id: string, signal?: AbortSignal) => getJson<Get<"/api/jobs/{job_id}/prompts">>(`/api/jobs/${id}/prompts`, signal),
  getReference: (id: string, signal?: AbortSignal) => getJson<Get<"/api/jobs/{job_id}/reference">>(`/api/jobs/${id}/reference`, signal),
  getComposition: (id: string, signal?: AbortSignal) => getJson<Get<"/api/jobs/{job_id}/composition">>(`/api/jobs/${id}/composition`, signal),
  captionsUrl: (id: string) => `/api/jobs/${id}/captions.vtt`,
  ...director,
  videoUrl: (id: string, format: "mp4" | "mov" = "mp4") =>
    format === "mp4" ? `/api/jobs/${id}/video` : `/api/jobs/${id}/video?format=mov`,
  referenceImageUrl: (id: string) => `/api/jobs/${id}/reference.png`,
  /** The job's event socket; resumes after `lastEventId` (exclusive) when given. */
  eventsUrl(id: string, lastEventId: string | null): string {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const params = new URLSearchParams();
    if (lastEventId) params.set("last_event_id", lastEventId);
    const token = getToken();
    if (token) params.set("token", token);
    const q = params.toString();
    return `${proto}//${location.host}/ws/jobs/${id}${q ? `?${q}` : ""}`;
  },
};
