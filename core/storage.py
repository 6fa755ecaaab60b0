"""Job storage: the interface and the key layout. The implementations (a local directory, the default, or any
S3-compatible server through boto3) live in ``providers/storage/``.

Keys are organised by job, and each object belongs to a retention class that the bucket's lifecycle rules expire::

    jobs/{job_id}/input/audio.mp3                   input         (VIDEOGEN_STORAGE__INPUT_DAYS, 7)
    jobs/{job_id}/intermediate/analysis.json        intermediate  (VIDEOGEN_STORAGE__INTERMEDIATE_DAYS, 1)
    jobs/{job_id}/intermediate/clips/clip-000.mp4   intermediate
    jobs/{job_id}/intermediate/clips/0/v1.mp4       intermediate  (director mode: versions of clip 0)
    jobs/{job_id}/final/final.mp4                   final         (VIDEOGEN_STORAGE__FINAL_DAYS, 7)
    prefect-results/<cache key>                     Prefect task results (VIDEOGEN_STORAGE__RESULTS_DAYS, 7)

S3 lifecycle filters match a key prefix or a tag, and the class sits after the job id in the key, so objects are
tagged ``videogen-class=<class>`` on upload and the rules filter on the tag. Files travel between stages as URIs
(``file://`` or ``s3://bucket/key``); a stage that needs bytes on disk asks :meth:`Storage.local`, which for S3
downloads once into the local cache (keyed by ETag, so a replaced object is fetched again).
"""

from __future__ import annotations

import mimetypes
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from core.errors import StorageError
from core.stages import stage as stage_spec
from core.uris import to_path

Kind = Literal["input", "intermediate", "final"]
TAG_KEY = "videogen-class"


class JobKeys:
    """The key layout of one job (the same under the local root and in the bucket)."""

    def __init__(self, job_id: str) -> None:
        if not job_id or "/" in job_id or job_id.startswith("."):
            raise ValueError(f"invalid job id {job_id!r}")
        self.job_id = job_id
        self.prefix = f"jobs/{job_id}/"

    def input(self, name: str) -> str:
        return f"{self.prefix}input/{_name(name)}"

    def intermediate(self, name: str) -> str:
        return f"{self.prefix}intermediate/{name}"

    def stage(self, stage: str) -> str:
        """The record of a stage's output (written by the flow while the job runs, read by the API)."""
        record = stage_spec(stage).record
        if record is None:
            raise ValueError(f"stage {stage!r} keeps no record of its own")
        return self.intermediate(record)

    def clip(self, index: int, suffix: str) -> str:
        return self.intermediate(f"clips/clip-{index:03d}{suffix}")

    def clip_version(self, index: int, version: int) -> str:
        """Version ``version`` of clip ``index`` (director mode: v0 is the first render, v1.. regenerations)."""
        return self.intermediate(f"clips/{index}/v{version}.mp4")

    def clip_versions(self, index: int) -> str:
        """The manifest of clip ``index``'s versions."""
        return self.intermediate(f"clips/{index}/versions.json")

    def final(self, name: str) -> str:
        return f"{self.prefix}final/{name}"


def _name(name: str) -> str:
    base = Path(name).name
    if not base or base in (".", ".."):
        raise ValueError(f"invalid file name {name!r}")
    return base


def content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class Storage(ABC):
    """Put, read, list and hand out job files; ``uri`` values are what contracts carry."""

    scheme: str

    @abstractmethod
    def uri(self, key: str) -> str: ...

    @abstractmethod
    def key(self, uri: str) -> str | None:
        """The key of a URI of this storage, else None (a file elsewhere)."""

    @abstractmethod
    def put_file(self, key: str, src: Path, kind: Kind) -> str:
        """Store a local file under ``key``; returns its URI."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, kind: Kind) -> str: ...

    @abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """The object's bytes; ``FileNotFoundError`` when there is none."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Keys under ``prefix``, sorted."""

    @abstractmethod
    def copy(self, src_key: str, key: str, kind: Kind) -> str: ...

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int: ...

    @abstractmethod
    def local_path(self, key: str) -> Path:
        """A local file with the object's bytes (S3: downloaded into the cache once per ETag)."""

    def signed_url(self, key: str, *, filename: str | None = None) -> str | None:
        """A time-limited download URL, or None where files are served by the API itself (local storage)."""
        return None

    # URIs of any origin ------------------------------------------------------------------------------------

    def local(self, uri: str) -> Path:
        """A local file for any URI the pipeline carries: ours (downloaded if remote) or a plain ``file://``."""
        key = self.key(uri)
        if key is not None:
            return self.local_path(key)
        if urlparse(uri).scheme == "s3":
            raise StorageError(f"{uri} is not in the configured storage ({self.uri('')})")
        return to_path(uri)

    def has(self, uri: str) -> bool:
        key = self.key(uri)
        if key is not None:
            return self.exists(key)
        return urlparse(uri).scheme != "s3" and to_path(uri).is_file()

    def adopt(self, uri: str, key: str, kind: Kind) -> str:
        """Make ``uri`` available as ``key``: nothing when it already is, a server-side copy from elsewhere in the
        storage, an upload of an outside file."""
        src = self.key(uri)
        if src == key:
            return self.uri(key)
        if src is not None:
            return self.copy(src, key, kind)
        return self.put_file(key, self.local(uri), kind)
