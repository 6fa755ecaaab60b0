"""Job storage: one interface, a local directory (the default) or any S3-compatible server through boto3.

Keys are organised by job, and each object belongs to a retention class that the bucket's lifecycle rules expire::

    jobs/{job_id}/input/audio.mp3                   input         (VIDEOGEN_STORAGE__INPUT_DAYS, 7)
    jobs/{job_id}/intermediate/analysis.json        intermediate  (VIDEOGEN_STORAGE__INTERMEDIATE_DAYS, 1)
    jobs/{job_id}/intermediate/clips/clip-000.mp4   intermediate
    jobs/{job_id}/final/final.mp4                   final         (VIDEOGEN_STORAGE__FINAL_DAYS, 7)
    prefect-results/<cache key>                     Prefect task results (VIDEOGEN_STORAGE__RESULTS_DAYS, 7)

S3 lifecycle filters match a key prefix or a tag, and the class sits after the job id in the key, so objects are
tagged ``videogen-class=<class>`` on upload and the rules filter on the tag. Files travel between stages as URIs
(``file://`` or ``s3://bucket/key``); a stage that needs bytes on disk asks :meth:`Storage.local`, which for S3
downloads once into the local cache (keyed by ETag, so a replaced object is fetched again).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
import threading
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlparse

from core.errors import StorageError
from core.settings import Settings, StorageSettings, get_settings
from core.uris import to_path, to_uri

Kind = Literal["input", "intermediate", "final"]
TAG_KEY = "videogen-class"
#: stage -> the name of its record under jobs/{id}/intermediate/
STAGE_RECORDS = {
    "audio": "analysis.json",
    "plan": "plan.json",
    "reference": "reference.json",
    "prompts": "prompts.json",
}


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
        return self.intermediate(STAGE_RECORDS[stage])

    def clip(self, index: int, suffix: str) -> str:
        return self.intermediate(f"clips/clip-{index:03d}{suffix}")

    def final(self, name: str) -> str:
        return f"{self.prefix}final/{name}"


def _name(name: str) -> str:
    base = Path(name).name
    if not base or base in (".", ".."):
        raise ValueError(f"invalid file name {name!r}")
    return base


def _content_type(key: str) -> str:
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


class LocalStorage(Storage):
    """Files under a root directory (``VIDEOGEN_DATA_DIR``); URIs are ``file://``. Retention is not enforced."""

    scheme = "file"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise StorageError(f"key {key!r} escapes the storage root")
        return path

    def uri(self, key: str) -> str:
        return to_uri(self.root / key)

    def key(self, uri: str) -> str | None:
        if urlparse(uri).scheme == "s3":
            return None
        path = to_path(uri).resolve()
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else None

    def _write(self, key: str, fill: Any) -> str:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
        try:
            fill(tmp)
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)
        return self.uri(key)

    def put_file(self, key: str, src: Path, kind: Kind) -> str:
        if src.resolve() == self._path(key):
            return self.uri(key)

        def fill(tmp: Path) -> None:
            try:  # a hard link costs nothing: cache files are never modified in place
                os.link(src, tmp)
            except OSError:
                shutil.copyfile(src, tmp)

        return self._write(key, fill)

    def put_bytes(self, key: str, data: bytes, kind: Kind) -> str:
        return self._write(key, lambda tmp: tmp.write_bytes(data))

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if base.is_file():
            return [prefix]
        if not base.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file()
                      and not p.name.endswith(".tmp"))  # fmt: skip

    def copy(self, src_key: str, key: str, kind: Kind) -> str:
        return self.put_file(key, self._path(src_key), kind)

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list(prefix)
        for key in keys:
            self._path(key).unlink(missing_ok=True)
        return len(keys)

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(f"no such file in storage: {key}")
        return path


class S3Storage(Storage):
    """A bucket on AWS S3 or any S3-compatible server (``endpoint_url``); URIs are ``s3://bucket/key``."""

    scheme = "s3"

    def __init__(self, config: StorageSettings, cache_dir: Path) -> None:
        self.config = config
        self.bucket = config.bucket
        self.cache_dir = cache_dir
        self.client = s3_client(config)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def key(self, uri: str) -> str | None:
        parsed = urlparse(uri)
        if parsed.scheme != "s3" or parsed.netloc != self.bucket:
            return None
        return parsed.path.lstrip("/")

    def _extra(self, key: str, kind: Kind) -> dict[str, str]:
        return {"Tagging": f"{TAG_KEY}={kind}", "ContentType": _content_type(key)}

    def put_file(self, key: str, src: Path, kind: Kind) -> str:
        try:
            self.client.upload_file(str(src), self.bucket, key, ExtraArgs=self._extra(key, kind))
        except Exception as exc:  # boto3's transfer errors wrap ClientError
            raise StorageError(f"upload of {key} to s3://{self.bucket} failed: {exc}") from exc
        return self.uri(key)

    def put_bytes(self, key: str, data: bytes, kind: Kind) -> str:
        self._call("put", key, "put_object", Bucket=self.bucket, Key=key, Body=data, **self._extra(key, kind))
        return self.uri(key)

    def read_bytes(self, key: str) -> bytes:
        reply = self._call("get", key, "get_object", Bucket=self.bucket, Key=key)
        return bytes(reply["Body"].read())

    def exists(self, key: str) -> bool:
        try:
            self._call("head", key, "head_object", Bucket=self.bucket, Key=key)
        except FileNotFoundError:
            return False
        return True

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return sorted(keys)

    def copy(self, src_key: str, key: str, kind: Kind) -> str:
        source = {"Bucket": self.bucket, "Key": src_key}
        tags = {"TaggingDirective": "REPLACE", "Tagging": f"{TAG_KEY}={kind}"}
        self._call("copy", key, "copy_object", Bucket=self.bucket, Key=key, CopySource=source, **tags,
                   MetadataDirective="REPLACE", ContentType=_content_type(key))  # fmt: skip
        return self.uri(key)

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list(prefix)
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        return len(keys)

    def local_path(self, key: str) -> Path:
        head = self._call("head", key, "head_object", Bucket=self.bucket, Key=key)
        tag = hashlib.sha256(f"{self.bucket}/{key}/{head['ETag']}".encode()).hexdigest()[:32]
        path = self.cache_dir / "s3" / tag / Path(key).name
        if path.is_file() and path.stat().st_size == head["ContentLength"]:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{uuid.uuid4().hex}.part")
        try:
            self.client.download_file(self.bucket, key, str(tmp))
            tmp.replace(path)
        except Exception as exc:
            raise StorageError(f"download of s3://{self.bucket}/{key} failed: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def signed_url(self, key: str, *, filename: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
        return str(
            self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=self.config.signed_url_seconds)
        )

    def _call(self, what: str, key: str, method: str, **kwargs: Any) -> Any:
        """One client call with S3's "no such key" as FileNotFoundError and any other failure as StorageError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(f"no such object: s3://{self.bucket}/{key}") from exc
            raise StorageError(f"S3 {what} of {key} failed: {code or exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 {what} of {key} failed: {exc}") from exc


def s3_client(config: StorageSettings) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=config.endpoint_url,
        region_name=config.region,
        aws_access_key_id=config.access_key_id.get_secret_value() if config.access_key_id else None,
        aws_secret_access_key=config.secret_access_key.get_secret_value() if config.secret_access_key else None,
        # path-style addressing for custom endpoints (MinIO, moto): no wildcard DNS needed
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if config.endpoint_url else "auto"},
            retries={"max_attempts": 5, "mode": "standard"},
        ),
    )


def storage_for(settings: Settings) -> Storage:
    if settings.storage.backend == "s3":
        return S3Storage(settings.storage, settings.cache_dir)
    return LocalStorage(settings.data_dir)


_current: tuple[Settings, Storage] | None = None
_lock = threading.Lock()


def get_storage() -> Storage:
    """The process's storage, built from the current settings (rebuilt after ``get_settings.cache_clear()``)."""
    global _current
    settings = get_settings()
    with _lock:
        if _current is None or _current[0] is not settings:
            _current = (settings, storage_for(settings))
        return _current[1]
