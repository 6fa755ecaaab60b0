// The gateway's types, all generated from its pydantic models by `python -m devtools.schema_export` (generated.ts,
// stages.ts; `make web` fails when they are stale). This file only names them for the components: no type or
// stage is written by hand here.
import type { JobStatus, ProgressEvent, StageSpec, StageView } from "./generated";
import { STAGES } from "./stages";

export type {
  AudioAnalysis,
  Boundary,
  Camera,
  ClipInfo,
  ClipList,
  ClipPrompt,
  ClipScript,
  CompositionResult,
  Cost,
  CutSync,
  JobCreated,
  JobError,
  JobList,
  JobStatus,
  JobSummary,
  JobUpdate,
  Limits,
  Problem,
  ProgressEvent,
  ReferenceImage,
  ReferenceInfo,
  Section,
  Slot,
  StageSpec,
  StageView,
  Timeline,
  VideoPlan,
  paths,
} from "./generated";
export { STAGES };

export type Stage = StageSpec["id"];
export type StageState = StageView["state"];
export type JobStatusName = JobStatus["status"];
export type EventStatus = ProgressEvent["status"];

/** A stage's title from the registry (or the id itself, for a stage this build does not know). */
export function stageTitle(id: string): string {
  return STAGES.find((s) => s.id === id)?.title ?? id;
}

/** Every stage waiting: what the progress panel shows before the first status arrives. */
export function pendingStages(): StageView[] {
  return STAGES.map((s) => ({ id: s.id, title: s.title, state: "pending", progress: 0, message: "", cost: 0 }));
}
