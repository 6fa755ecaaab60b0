"""Issue 11 #7, over every error this suite produces: no response may name a server path, an internal URL or an
exception class. Every httpx response (TestClient included: it is an httpx.Client) with a 4xx/5xx status is checked
as it arrives; a test that provoked a leaking answer fails at teardown, naming the request."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

LEAKS = [
    (
        "a server path",
        re.compile(r"(?<![\w.])/(?:tmp|work|root|home|usr|var|opt|srv|proc)/|upload\.part|site-packages"),
    ),
    ("an internal URL", re.compile(r"\b(?:https?|redis|rediss|postgres(?:ql)?|s3|file)://", re.I)),
    ("an exception class", re.compile(r"\b[A-Z][A-Za-z0-9]*(?:Error|Exception)\b|Traceback \(most recent")),
]


def leaks_in(text: str) -> list[str]:
    return [f"{what}: {m.group(0)!r}" for what, rx in LEAKS for m in [rx.search(text)] if m]


_found: list[str] = []
_checked = [0]


def _check(response: httpx.Response) -> None:
    if response.status_code < 400 or response.status_code == 101:
        return
    try:
        text = response.read().decode("utf-8", "replace")
    except (httpx.StreamError, RuntimeError):  # a streamed body the test reads itself
        return
    text += " " + " ".join(f"{k}: {v}" for k, v in response.headers.items() if k.lower() != "date")
    _checked[0] += 1
    if problems := leaks_in(text):
        _found.append(f"{response.request.method} {response.request.url.path} -> {response.status_code}: {problems}")


@pytest.fixture(autouse=True)
def no_leaks_in_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real = httpx.Client.send

    def send(self: httpx.Client, request: httpx.Request, **kw: Any) -> httpx.Response:
        response = real(self, request, **kw)
        if not kw.get("stream"):
            _check(response)
        return response

    monkeypatch.setattr(httpx.Client, "send", send)
    _found.clear()
    yield
    assert not _found, "error responses leak internals:\n" + "\n".join(_found)
