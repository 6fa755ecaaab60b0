"""The job storage the settings select: a local directory (default) or an S3 bucket (``providers.storage.s3``)."""

from __future__ import annotations

import threading

from core.settings import Settings, get_settings
from core.storage import Storage
from providers.storage.local import LocalStorage


def storage_for(settings: Settings) -> Storage:
    if settings.storage.backend == "s3":
        from providers.storage.s3 import S3Storage  # boto3 only when S3 is configured

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
