"""The project's exceptions.

Every error the project raises on purpose derives from
:class:`AudioSentimentError`, so command-line entry points can print one
readable line for them instead of a traceback.
"""

import contextlib


def describe(exc: BaseException) -> str:
    """An unexpected exception as an error-row message (type and text, 500 chars)."""
    return f"{type(exc).__name__}: {exc}"[:500]


class AudioSentimentError(Exception):
    """Base class of all errors raised by audio-sentiment on purpose."""


class ConfigError(AudioSentimentError):
    """A configuration value or command-line argument is invalid."""


class InputError(AudioSentimentError):
    """The job's inputs cannot be used at all (nothing matched, bad header...)."""


class RejectedInput(AudioSentimentError):
    """One input record is rejected; it goes to the errors output, the job goes on.

    Args:
        error_type: stable machine-readable reason, e.g. ``"unreadable"``.
        message: what is wrong, for a person.
        stage: pipeline stage that rejected it (``"decode"``, ``"labels"``...).
    """

    def __init__(self, error_type: str, message: str, *, stage: str = "decode") -> None:
        super().__init__(message)
        self.error_type = error_type
        self.stage = stage
        self.message = message


@contextlib.contextmanager
def rejected_at(stage: str, *, unexpected: str):
    """Turns what the block raises into a :class:`RejectedInput` at ``stage``:
    one raised on purpose keeps its type and message; any other exception
    becomes ``unexpected`` with :func:`describe`'s message (the record is
    kept, whatever a decoder or reader raises)."""
    try:
        yield
    except RejectedInput as exc:
        raise RejectedInput(exc.error_type, exc.message, stage=stage) from exc
    except Exception as exc:
        raise RejectedInput(unexpected, describe(exc), stage=stage) from exc
