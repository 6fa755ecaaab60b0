// What the server accepts (GET /api/limits): the upload form checks against these, never against its own numbers.
import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { Limits } from "../api/types";

export interface LimitsState {
  /** null while loading, or when the server did not say (its own checks still apply) */
  limits: Limits | null;
  loading: boolean;
}

export function useLimits(load: (signal: AbortSignal) => Promise<Limits> = api.getLimits): LimitsState {
  const [state, setState] = useState<LimitsState>({ limits: null, loading: true });
  useEffect(() => {
    const ctl = new AbortController();
    load(ctl.signal).then(
      (limits) => setState({ limits, loading: false }),
      () => !ctl.signal.aborted && setState({ limits: null, loading: false }),
    );
    return () => ctl.abort();
  }, [load]);
  return state;
}
