"""Files travel between stages as URIs; locally these are ``file://`` URIs or plain paths."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse


def to_uri(path: Path) -> str:
    return path.resolve().as_uri()


def to_path(uri: str) -> Path:
    """Local path of a ``file://`` URI (or a plain path). Other schemes need a storage backend."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or len(parsed.scheme) == 1:  # plain path (or a Windows drive letter)
        return Path(uri)
    raise ValueError(f"unsupported URI scheme {parsed.scheme!r} in {uri!r}")
