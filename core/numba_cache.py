"""librosa's numba kernels, compiled once per cache directory and never by two processes at once.

numba's on-disk cache (``NUMBA_CACHE_DIR``, else ``__pycache__`` beside librosa's sources) is not safe for
concurrent writers: two flow runs compiling the beat kernel into an empty cache at the same time leave index and
data files that do not match, and every process that loads them dies with SIGSEGV (exit -11), until the directory
is cleaned. So the first analysis in a process runs under :func:`warm`:

    marker present (``.videogen-warm-<versions>``)   the cache is complete: no lock, load and go
    marker absent                                    take an exclusive file lock; under it, wipe what a crashed or
                                                     concurrent writer may have left (a dedicated NUMBA_CACHE_DIR
                                                     only), compile by running the caller's analysis, write the
                                                     marker; the other processes wait, then load the finished cache
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

log = logging.getLogger("videogen.numba")

_lock = threading.Lock()  # threads of one process: the file lock is per open file, the marker per directory
_warm_here = False


def _versions() -> str:
    parts = [sys.version.split()[0]]
    for dist in ("numba", "librosa", "numpy"):
        try:
            parts.append(metadata.version(dist))
        except metadata.PackageNotFoundError:
            parts.append("-")
    return hashlib.sha256(" ".join(parts).encode()).hexdigest()[:12]


def cache_dir() -> Path | None:
    """The dedicated cache directory (``NUMBA_CACHE_DIR``), or None when numba writes beside the sources."""
    value = os.environ.get("NUMBA_CACHE_DIR", "").strip()
    return Path(value) if value else None


def _paths() -> tuple[Path, Path, bool]:
    """(lock file, marker, whether the cache directory is ours to wipe)."""
    root = cache_dir()
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
        return root / ".videogen-warm.lock", root / f".videogen-warm-{_versions()}", True
    # beside librosa's sources: one lock and marker per installation, in the temp directory
    tag = hashlib.sha256(str(Path(sys.prefix).resolve()).encode()).hexdigest()[:12]
    base = Path(tempfile.gettempdir())
    return base / f"videogen-numba-{tag}.lock", base / f"videogen-numba-{tag}-{_versions()}.warm", False


def is_warm() -> bool:
    return _paths()[1].exists()


def _wipe(root: Path) -> None:
    for child in root.iterdir():
        if child.name.startswith(".videogen-warm"):
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


@contextlib.contextmanager
def warm() -> Iterator[None]:
    """Run the body (the first use of librosa's kernels) with the numba cache safe for concurrent processes."""
    global _warm_here
    if not _warm_here and is_warm():
        _warm_here = True
    if _warm_here:
        yield
        return
    with _lock:  # the first analysis of this process, or of the installation: one at a time
        lock_path, marker, dedicated = _paths()
        with open(lock_path, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
            try:
                if not marker.exists():
                    if dedicated:
                        _wipe(lock_path.parent)  # a half-written cache is worse than none
                    log.info("compiling librosa's numba kernels into an empty cache (once)")
                    yield  # the caller's analysis compiles and caches every kernel it uses
                    marker.touch()
                else:
                    yield
                _warm_here = True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
