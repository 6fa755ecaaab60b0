"""POST /api/jobs input: a streaming multipart reader that stops at the size limit, and the audio check.

Starlette's ``request.form()`` spools the whole body before a route runs, so a 2 GB upload would be read in full
before we could refuse it. Here the body is parsed chunk by chunk (python-multipart's push parser): the audio part
goes straight to its file, and the first byte past a limit ends the request with 413:

    the audio part           ``max_bytes`` (VIDEOGEN_API__MAX_UPLOAD_MB)
    the whole body           ``max_bytes + FORM_OVERHEAD``, counted as it arrives (chunked bodies have no length)
    the text parts           at most ``MAX_FIELDS`` of them, each at most ``MAX_FIELD_BYTES``, together at most
                             ``FORM_OVERHEAD``: only these are held in memory
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import anyio
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from api.errors import Problem
from core.audio_input import AudioFacts, inspect_audio, sniff_file
from core.errors import AudioError
from core.media import probe
from core.settings import AudioSettings

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 8  # prompt, style, mood, duration_hint and some slack
FORM_OVERHEAD = 256 * 1024  # headers and text fields allowed on top of the audio bytes


@dataclass
class JobForm:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    audio_bytes: int = 0


class _Collector:
    """python-multipart callbacks: text fields to memory, the ``audio`` part to ``dest``."""

    def __init__(self, dest: Path, max_bytes: int) -> None:
        self.dest = dest
        self.max_bytes = max_bytes
        self.form = JobForm()
        self.pending: list[bytes] = []  # audio bytes parsed but not yet written (written off the event loop)
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._value = bytearray()
        self._audio = False
        self._text_bytes = 0
        self._text_parts = 0

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: setattr(self, "_header_field", self._header_field + d[s:e]),
            "on_header_value": lambda d, s, e: setattr(self, "_header_value", self._header_value + d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers, self._name, self._value, self._audio = {}, None, bytearray(), False

    def _header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        if self._name == "audio":
            if self.form.filename is not None:
                raise Problem(422, "send exactly one 'audio' file")
            self._audio = True
            self.form.filename = params.get(b"filename", b"upload").decode("utf-8", "replace")
        elif self._text_parts >= MAX_FIELDS:  # every text part counts, named or not, repeated or not
            raise Problem(413, f"the form has more than {MAX_FIELDS} text fields")

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._audio:
            self.form.audio_bytes += len(chunk)
            if self.form.audio_bytes > self.max_bytes:
                raise Problem(413, f"the audio file exceeds the {self.max_bytes / 1e6:g} MB limit")
            self.pending.append(chunk)
        else:
            self._value += chunk
            self._text_bytes += len(chunk)
            if len(self._value) > MAX_FIELD_BYTES:
                raise Problem(413, f"the form field {self._name!r} is larger than {MAX_FIELD_BYTES // 1024} KB")
            if self._text_bytes > FORM_OVERHEAD:
                raise Problem(413, f"the form's text fields are larger than {FORM_OVERHEAD // 1024} KB together")

    def _part_end(self) -> None:
        if not self._audio:
            self._text_parts += 1
            if self._name:
                self.form.fields[self._name] = self._value.decode("utf-8", "replace")


async def read_job_form(request: Request, dest: Path, *, max_bytes: int) -> JobForm:
    """Parse the multipart body, writing the ``audio`` part to ``dest``; 413 as soon as it passes ``max_bytes``."""
    ctype, params = parse_options_header(request.headers.get("content-type"))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise Problem(415, "send multipart/form-data with an 'audio' file and a 'prompt' field")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes + FORM_OVERHEAD:
        raise Problem(413, f"the upload ({int(length) / 1e6:.1f} MB) exceeds the {max_bytes / 1e6:g} MB limit")
    collector = _Collector(dest, max_bytes)
    parser = MultipartParser(params[b"boundary"], callbacks=collector.callbacks())  # type: ignore[arg-type]
    dest.parent.mkdir(parents=True, exist_ok=True)
    fh: IO[bytes] = await anyio.to_thread.run_sync(lambda: open(dest, "wb"))  # noqa: SIM115 - closed below
    limit, received = max_bytes + FORM_OVERHEAD, 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise Problem(413, f"the request exceeds the {max_bytes / 1e6:g} MB limit")
            parser.write(chunk)
            if collector.pending:
                data, collector.pending = b"".join(collector.pending), []
                await anyio.to_thread.run_sync(fh.write, data)
        parser.finalize()
    except ClientDisconnect:
        raise Problem(400, "the client disconnected during the upload") from None
    except ValueError:  # python-multipart's FormParserError / MultipartParseError
        raise Problem(400, "malformed multipart body") from None
    finally:
        await anyio.to_thread.run_sync(fh.close)
    return collector.form


#: a header may announce this much more than decodes (encoder padding, a damaged last frame) before we refuse
TRUNCATION_SLACK = 1.0  # seconds, or 5 % of the announced length when that is more


def check_upload(path: Path, settings: AudioSettings) -> AudioFacts:
    """The input check every entry point makes (:func:`core.audio_input.inspect_audio`; its AudioError is a 422),
    with two HTTP nuances: bytes that are not audio at all are an unsupported media type, 415; and a file whose
    header announces much more than decodes (a cut-off download) is refused, since the video would outlast its
    sound. The song's duration is always the decoded one."""
    try:
        sniff_file(path)
    except AudioError as exc:
        if path.stat().st_size:
            raise Problem(415, str(exc)) from None
        raise
    facts = inspect_audio(path, settings=settings)
    try:
        info = probe(path, error=AudioError)
    except AudioError:  # it decoded; a header we cannot read announces nothing
        return facts
    announced = info.audio_duration or info.duration
    if announced - facts.duration > max(TRUNCATION_SLACK, 0.05 * announced):
        raise AudioError(
            f"the file is truncated: its header announces {announced:.1f} s but only {facts.duration:.1f} s of audio "
            "decode; upload the complete file, or re-export the part you want"
        )
    return facts
