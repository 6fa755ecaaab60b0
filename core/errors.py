"""One error tree for the whole pipeline (``tests/core/test_errors.py`` checks the drawing against the classes).

    PipelineError                  anything the pipeline raises on purpose; ``stage`` says where it happened
    ├── AudioError                 the input song: missing, empty, not audio, undecodable, silent, too short or long
    ├── LyricsError                the user's lyrics: empty, not text, too long, LRC times beyond the song
    ├── PlanningError              the plan failed validation
    ├── ProviderError              a vendor (or offline provider) failed; carries provider id and status
    │   └── TransientProviderError timeouts, 429, 5xx: retried
    ├── CompositionError           ffmpeg failed, or too few clips to compose
    ├── ConfigError                missing key / bad setting; names the variable
    ├── BudgetError                the job would cost more than its budget, or a call would pass the hard cap
    ├── StorageError               the job storage could not store or return a file: retried
    ├── StoryboardError            a storyboard edit the timeline or the beats refuse; ``field`` names what
    └── ClipsFailedError           some clips failed and the run does not accept a partial video

"Retried" is :func:`is_transient` (which also takes the built-in TimeoutError and ConnectionError), the retry
condition of every task. Providers may subclass ProviderError (Replicate's
``PredictionFailed`` carries the GPU time a failed prediction used). The CLI prints ``str(error)`` on one line and
exits non-zero; the API maps the classes to HTTP problems.
"""

from __future__ import annotations

__all__ = [
    "AudioError",
    "BudgetError",
    "ClipsFailedError",
    "CompositionError",
    "ConfigError",
    "LyricsError",
    "PipelineError",
    "PlanningError",
    "ProviderError",
    "StorageError",
    "StoryboardError",
    "TransientProviderError",
    "is_transient",
]


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""

    stage: str | None = None

    def __init__(self, message: str, *, stage: str | None = None) -> None:
        super().__init__(message)
        if stage is not None:
            self.stage = stage


class AudioError(PipelineError):
    stage = "audio"


class LyricsError(PipelineError):
    stage = "audio"


class PlanningError(PipelineError):
    stage = "plan"


class ProviderError(PipelineError):
    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        stage: str | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}", stage=stage)
        self.provider = provider
        self.status = status


class TransientProviderError(ProviderError):
    """A failure worth retrying (timeout, rate limit, 5xx); ``retry_after`` is the vendor's ``Retry-After`` in
    seconds, when it sent one (the retry waits at least that long)."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        stage: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status, stage=stage)
        self.retry_after = retry_after


class CompositionError(PipelineError):
    stage = "compose"


class ConfigError(PipelineError):
    def __init__(self, message: str, *, variable: str | None = None) -> None:
        super().__init__(f"{message} (set {variable})" if variable else message)
        self.variable = variable


class BudgetError(PipelineError):
    """Refused before spending: the estimate exceeds the budget, or the next paid call would pass the hard cap."""


class StorageError(PipelineError):
    """The job storage (local directory or S3) could not store or return a file; boto3 has already retried."""


class StoryboardError(PipelineError):
    """A storyboard edit that breaks the timeline (a cut off a beat, a clip outside its length limits, too few
    clips, an unknown clip, a locked clip changed, too many variants); ``field`` is the JSON path it names."""

    stage = "plan"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class ClipsFailedError(PipelineError):
    """Some clips failed and the run does not accept a partial video (``allow_partial=False``): retrying the run
    regenerates only those clips."""

    stage = "video"


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry may fix; used by every task's retry condition."""
    return isinstance(exc, TransientProviderError | StorageError | TimeoutError | ConnectionError)
