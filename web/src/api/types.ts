// Types of what the gateway returns. ProgressEvent mirrors core.contracts.ProgressEvent and is checked against
// progress-event.schema.json (written by `python -m core.schema_export`) in types.test.ts.

export const STAGES = ["audio", "plan", "reference", "prompts", "video", "compose"] as const;
export type Stage = (typeof STAGES)[number];

export const STAGE_TITLES: Record<Stage, string> = {
  audio: "Analysing audio",
  plan: "Planning scenes",
  reference: "Style reference",
  prompts: "Writing prompts",
  video: "Generating clips",
  compose: "Composing video",
};

export const EVENT_STATUSES = ["queued", "running", "completed", "cached", "failed", "error", "complete"] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export interface ProgressEvent {
  job_id: string;
  stage: Stage | "job";
  status: EventStatus;
  progress: number;
  message?: string;
  clip_index?: number | null;
  clip_count?: number | null;
  cost?: number;
  timestamp?: string;
  event_id?: string | null;
}

export type JobStatusName = "queued" | "processing" | "complete" | "error";

export interface Cost {
  by_stage: Record<string, number>;
  total: number;
  currency: "USD";
}

export interface JobError {
  stage: string | null;
  message: string;
}

export interface JobStatus {
  job_id: string;
  status: JobStatusName;
  progress: number;
  stage: string | null;
  stage_progress: number;
  message: string;
  cost: Cost;
  error: JobError | null;
  created_at: string | null;
  updated_at: string | null;
  prompt: string;
  flow_run_id: string | null;
  flow_run_state: string | null;
  last_event_id: string | null;
  video_url: string | null;
  clips_url: string;
}

export interface JobCreated {
  job_id: string;
  status: JobStatusName;
  flow_run_id: string;
  events_url: string;
  status_url: string;
}

export interface ClipInfo {
  index: number;
  status: "succeeded" | "failed";
  url: string | null;
  duration: number;
  target_duration: number;
  width: number;
  height: number;
  fps: number;
  provider: string;
  cost: number;
  error: string | null;
}

export interface ClipList {
  job_id: string;
  complete: boolean;
  clips: ClipInfo[];
}

export interface JobSummary {
  job_id: string;
  filename: string;
  audio_duration: number | null;
  budget_per_minute: number;
  budget_total: number | null;
}

// --- the parts of the stage contracts the UI draws (core.contracts) ---

export interface Boundary {
  index: number;
  start: number;
  end: number;
  duration: number;
}

export interface Section {
  start: number;
  end: number;
  label: number;
  energy: number;
}

export interface AudioAnalysis {
  duration: number;
  tempo: number;
  beats: number[];
  downbeats: number[];
  energy_curve: number[];
  energy_hop: number;
  sections: Section[];
  boundaries: Boundary[];
  fallback_used: boolean;
  fallback_reason: string | null;
}

export interface Camera {
  shot: string;
  movement: string;
  angle: string;
}

export interface ClipScript {
  index: number;
  start: number;
  end: number;
  duration: number;
  scene_id: string;
  visual_description: string;
  motion: string;
  camera: Camera;
  energy: number;
}

export interface VideoPlan {
  summary: string;
  style: { palette: string[]; visual_style: string; mood: string; lighting: string; keywords: string[] };
  scenes: { id: string; name: string; environment: string }[];
  clips: ClipScript[];
}

export interface ClipPrompt {
  index: number;
  prompt: string;
  negative_prompt: string;
  start: number;
  end: number;
  duration: number;
  palette: string[];
  transition_in: string;
  transition_out: string;
}

export interface ReferenceImage {
  uri: string | null;
  description: string;
  palette: string[];
  provider: string;
  status: "generated" | "cached" | "failed";
  error: string | null;
}

export interface ReferenceInfo {
  reference: ReferenceImage;
  image_url: string | null;
}

/** An RFC 9457 problem from the gateway. */
export interface Problem {
  title?: string;
  status?: number;
  detail?: string;
}
