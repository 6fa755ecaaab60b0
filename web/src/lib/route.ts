// Two pages: "/" (new video + recent jobs) and "/jobs/<id>", with the history API (the gateway serves index.html).
import { useEffect, useState } from "react";

export type Route = { page: "home" } | { page: "job"; jobId: string };

const JOB = /^\/jobs\/([0-9a-f-]{36})\/?$/i;

export function parseRoute(path: string): Route {
  const m = JOB.exec(path);
  return m?.[1] ? { page: "job", jobId: m[1].toLowerCase() } : { page: "home" };
}

export function navigate(path: string): void {
  if (path === location.pathname) return;
  history.pushState(null, "", path);
  dispatchEvent(new PopStateEvent("popstate"));
  window.scrollTo?.(0, 0);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(parseRoute(location.pathname));
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);
  return route;
}
