"""Job files under a root directory (``VIDEOGEN_DATA_DIR``), the default storage."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from core.errors import StorageError
from core.storage import Kind, Storage
from core.uris import to_path, to_uri


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
