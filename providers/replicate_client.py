"""Replicate plumbing shared by the image, video and whisper providers: client, one prediction, downloads.

Retries, one layer per kind of request: creating a prediction is a POST the client never retries; a 429/5xx or a
timeout there becomes TransientProviderError and the Prefect task retries the whole call (a new prediction).
Polling is GET, which replicate-python's RetryTransport already retries on 429/503/504, so a flaky poll never
duplicates a paid prediction. A prediction that ends ``failed`` is permanent (ProviderError: bad input, content
policy) unless its error reads like infrastructure trouble (out of memory, timeout, unavailable), which is
transient. Outputs are downloaded at once: Replicate file URLs expire after an hour.
"""

from __future__ import annotations

import base64
import contextlib
import io
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from replicate.client import Client
from replicate.exceptions import ReplicateError

from core.errors import ProviderError, TransientProviderError
from core.settings import ReplicateSettings, require_key

PROVIDER = "replicate"
_TRANSIENT_FAILURE = re.compile(r"out of memory|timed? ?out|temporar|unavailable|try again|interrupted|capacity", re.I)


def make_client(cfg: ReplicateSettings) -> Client:
    """Real client; ConfigError naming the variable when no token is set (only when this provider is selected)."""
    return Client(
        api_token=require_key(cfg),
        base_url=cfg.base_url,
        timeout=httpx.Timeout(60.0, connect=10.0),
    )


class PredictionFailed(ProviderError):
    """The prediction ran and ended failed/canceled; carries the GPU time it used (time-billed models pay it)."""

    def __init__(self, message: str, *, predict_time: float, status: int | None = None, stage: str | None = None):
        super().__init__(message, provider=PROVIDER, status=status, stage=stage)
        self.predict_time = predict_time


class TransientPredictionFailed(PredictionFailed, TransientProviderError):
    pass


@dataclass
class Finished:
    id: str
    output: Any
    predict_time: float


def _wrap(exc: Exception, stage: str) -> ProviderError:
    if isinstance(exc, ReplicateError):
        status = exc.status
        transient = status is not None and (status == 429 or status >= 500)
        cls = TransientProviderError if transient else ProviderError
        return cls(f"HTTP {status}: {exc.detail or exc.title}", provider=PROVIDER, status=status, stage=stage)
    if isinstance(exc, httpx.TimeoutException | httpx.TransportError):
        return TransientProviderError(f"{type(exc).__name__}: {exc}", provider=PROVIDER, stage=stage)
    return ProviderError(f"{type(exc).__name__}: {exc}", provider=PROVIDER, stage=stage)


def predict(
    client: Client,
    model: str,
    data: dict[str, Any],
    *,
    stage: str,
    timeout: float,
    poll_interval: float,
) -> Finished:
    """Create one prediction (``owner/name`` for official models, ``owner/name:version`` otherwise) and wait."""
    name, _, version = model.partition(":")
    try:
        if version:
            prediction = client.predictions.create(version=version, input=data)
        else:
            prediction = client.predictions.create(model=name, input=data)
    except (ReplicateError, httpx.HTTPError) as exc:
        raise _wrap(exc, stage) from exc
    deadline = time.monotonic() + timeout
    try:
        while prediction.status not in ("succeeded", "failed", "canceled"):
            if time.monotonic() > deadline:
                _cancel(client, prediction.id)
                raise TransientProviderError(
                    f"prediction {prediction.id} still {prediction.status} after {timeout:g} s (canceled)",
                    provider=PROVIDER,
                    stage=stage,
                )
            time.sleep(poll_interval)
            prediction.reload()
    except (ReplicateError, httpx.HTTPError) as exc:
        _cancel(client, prediction.id)  # we stop watching it: do not let it run (and bill) unseen
        raise _wrap(exc, stage) from exc
    predict_time = float((prediction.metrics or {}).get("predict_time") or 0.0)
    if prediction.status != "succeeded":
        error = str(prediction.error or prediction.status)
        cls = TransientPredictionFailed if _TRANSIENT_FAILURE.search(error) else PredictionFailed
        raise cls(f"prediction {prediction.id} {prediction.status}: {error}", predict_time=predict_time, stage=stage)
    return Finished(id=prediction.id, output=prediction.output, predict_time=predict_time)


def _cancel(client: Client, prediction_id: str) -> None:
    with contextlib.suppress(Exception):  # best effort; the original error matters more
        client.predictions.cancel(prediction_id)


def first_url(output: Any) -> str:
    """Image models return a list of URLs, video models one URL."""
    if isinstance(output, list) and output:
        output = output[0]
    if not isinstance(output, str):
        raise ProviderError(f"unexpected output {output!r:.200}", provider=PROVIDER)
    return output


def download(url: str, out: Path, *, stage: str, timeout: float = 120.0) -> Path:
    """Stream ``url`` into ``out`` atomically (a partial file never looks like a finished one)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as resp:
            resp.raise_for_status()
            with tmp.open("wb") as f:
                for chunk in resp.iter_bytes(1 << 16):
                    f.write(chunk)
    except httpx.HTTPStatusError as exc:
        tmp.unlink(missing_ok=True)
        status = exc.response.status_code
        cls = TransientProviderError if status == 429 or status >= 500 else ProviderError
        raise cls(f"download of {url} failed: HTTP {status}", provider=PROVIDER, status=status, stage=stage) from exc
    except httpx.HTTPError as exc:
        tmp.unlink(missing_ok=True)
        raise TransientProviderError(f"download of {url} failed: {exc}", provider=PROVIDER, stage=stage) from exc
    tmp.replace(out)
    return out


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def image_data_uri(path: Path, *, max_side: int = 1280) -> str:
    """A reference image as a JPEG data URI (a ~100 KB inline input beats a file upload round trip)."""
    with Image.open(path) as img:
        rgb = img.convert("RGB")
        rgb.thumbnail((max_side, max_side))
        buf = io.BytesIO()
        rgb.save(buf, "JPEG", quality=90)
    return data_uri(buf.getvalue(), "image/jpeg")
