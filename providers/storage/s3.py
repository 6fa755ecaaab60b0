"""Job files in a bucket on AWS S3 or any S3-compatible server (MinIO, R2, moto), through boto3."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from core.errors import StorageError
from core.settings import StorageSettings
from core.storage import TAG_KEY, Kind, Storage, content_type


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
        return {"Tagging": f"{TAG_KEY}={kind}", "ContentType": content_type(key)}

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
                   MetadataDirective="REPLACE", ContentType=content_type(key))  # fmt: skip
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
