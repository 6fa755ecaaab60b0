import schema from "./progress-event.schema.json";
import { EVENT_STATUSES, STAGES, type ProgressEvent } from "./types";

// Every field, so the compiler rejects this literal if ProgressEvent gains or loses one.
const everyField: Required<ProgressEvent> = {
  job_id: "j",
  stage: "audio",
  status: "running",
  progress: 1,
  message: "",
  clip_index: null,
  clip_count: null,
  cost: 0,
  timestamp: "2024-01-01T00:00:00Z",
  event_id: null,
};
// Only the required ones: compiles only if the rest are optional.
const minimal: ProgressEvent = { job_id: "j", stage: "job", status: "queued", progress: 0 };

type Prop = { enum?: string[]; const?: string; anyOf?: Prop[] };
const props = schema.properties as Record<string, Prop>;
const values = (p: Prop): string[] => [...(p.enum ?? []), ...(p.const ? [p.const] : []), ...(p.anyOf ?? []).flatMap(values)];

describe("ProgressEvent matches core.contracts.ProgressEvent's JSON schema", () => {
  it("has the same fields", () => {
    expect(Object.keys(everyField).sort()).toEqual(Object.keys(schema.properties).sort());
  });
  it("requires the same fields", () => {
    expect(Object.keys(minimal).sort()).toEqual([...schema.required].sort());
  });
  it("has the same stages and statuses", () => {
    expect(values(props.stage!).sort()).toEqual([...STAGES, "job"].sort());
    expect(values(props.status!).sort()).toEqual([...EVENT_STATUSES].sort());
  });
  it("forbids extra fields, as the Python model does", () => {
    expect(schema.additionalProperties).toBe(false);
  });
});
