"""``python -m devtools.fakes {replicate,openai,both} [--port 0] [--fail-rate 0.2] [--latency 2] ...``: print the
base URL(s) to export, then serve until interrupted."""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack

from devtools.fakes import Faults, serve_openai, serve_replicate


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m devtools.fakes", description=__doc__)
    ap.add_argument("vendor", choices=["replicate", "openai", "both"])
    ap.add_argument("--port", type=int, default=0, help="0: a free port (replicate; openai gets port+1 for both)")
    ap.add_argument("--fail-rate", type=float, default=0.0, help="transient HTTP errors on create (429/503)")
    ap.add_argument("--rate-429", type=float, default=0.0)
    ap.add_argument("--rate-5xx", type=float, default=0.0)
    ap.add_argument("--failed-rate", type=float, default=0.0, help="predictions ending 'failed'")
    ap.add_argument("--malformed-rate", type=float, default=0.0, help="chat replies invalid against the schema")
    ap.add_argument("--truncated-rate", type=float, default=0.0, help="chat replies cut off")
    ap.add_argument("--latency", type=float, default=1.0, help="prediction run time, seconds (min)")
    ap.add_argument("--latency-max", type=float, default=None, help="uniform(latency, latency-max)")
    ap.add_argument("--time-scale", type=float, default=1.0, help="reported predict_time = run time x this")
    ap.add_argument("--slow-rate", type=float, default=0.0)
    ap.add_argument("--slow-seconds", type=float, default=5.0)
    ap.add_argument("--whisper", choices=["instrumental", "hallucinated", "lyrics", "empty"], default="lyrics")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()

    def faults(latency: float) -> Faults:
        return Faults(fail_rate=a.fail_rate, rate_429=a.rate_429, rate_5xx=a.rate_5xx, failed_rate=a.failed_rate,
                      malformed_rate=a.malformed_rate, truncated_rate=a.truncated_rate, latency=latency,
                      latency_max=a.latency_max if latency else None, time_scale=a.time_scale,
                      slow_rate=a.slow_rate, slow_seconds=a.slow_seconds, seed=a.seed)  # fmt: skip

    with ExitStack() as stack:
        if a.vendor in ("replicate", "both"):
            _, url = stack.enter_context(serve_replicate(faults(a.latency), port=a.port, whisper=a.whisper))
            print(f"export REPLICATE_API_TOKEN=fake VIDEOGEN_REPLICATE__BASE_URL={url}", flush=True)
        if a.vendor in ("openai", "both"):
            port = a.port + 1 if a.port and a.vendor == "both" else a.port if a.vendor == "openai" else 0
            _, url = stack.enter_context(serve_openai(faults(0.0), port=port))
            print(f"export OPENAI_API_KEY=fake VIDEOGEN_OPENAI__BASE_URL={url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
