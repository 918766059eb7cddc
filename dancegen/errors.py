"""What can go wrong, sorted by whose move it is next.

* :class:`UserError`: something the person can fix (a photo without a face, silent music, a bad setting, missing
  weights). Its message is one line written for them; the app shows it next to the problem, the command line prints
  ``error: <message>`` and exits with status 2. Only these are ever shown as the user's problem.
* :class:`ResourceLimit`: the input was fine but the machine could not do it (out of GPU memory). The message says
  what to try; nobody is blamed.
* :class:`GenerationCancelled`: the person pressed Stop. Not an error to report (nor is Ctrl-C or SIGTERM on the
  command line: ``error: stopped``, status 130, after the run's own cleanup).
* Anything else is our bug: :func:`report_internal` logs it with its traceback under a short id and gives the one
  line the person reads ("something went wrong on our side; it was logged as <id>").
"""

from __future__ import annotations

import logging
import uuid


class UserError(Exception):
    """Bad input or a bad setting the user can fix; the message is one line meant for a person."""


class SettingsError(UserError):
    """A setting, command-line flag or environment variable with a value we cannot use."""


class PhotoError(UserError):
    """A photo that cannot be used: empty, damaged, not an image, too small or too large."""


NO_FACE_MESSAGE = (
    "no face found in the reference photo; use a photo where the face is visible and at least ~64 px wide"
)


class NoFaceError(PhotoError):
    """The photo decoded fine but holds no detectable face."""

    def __init__(self, message: str = NO_FACE_MESSAGE):
        super().__init__(message)


class MusicError(UserError):
    """Music that cannot be used: missing, empty, not audio, silent, too short, or an offset past its end."""


class GroundTruthError(UserError):
    """A ground-truth video to compare with that is missing or cannot be decoded."""


class OutputError(UserError):
    """An output folder that cannot be used: a file is there, or it cannot be made or written (no permission, a
    read-only or missing place)."""


class WeightsError(UserError):
    """Model files (StableAnimator, SVD, antelopev2, DWPose) that are missing, unreadable or do not fit."""


class ResourceLimit(Exception):
    """The machine ran out of something (GPU memory) for this request; the message says what to try."""


class OutOfMemory(ResourceLimit):
    """The device ran out of memory during generation; its cache was released, the next request can run."""


class GenerationCancelled(Exception):
    """The caller asked to stop; raised between denoising steps."""


INTERNAL_MESSAGE = "something went wrong on our side; it was logged as {id}"


def report_internal(logger: logging.Logger, what: str, exc: BaseException) -> str:
    """Log ``exc`` (one of our bugs) with its traceback under a new short id; return the line a person reads."""
    error_id = uuid.uuid4().hex[:8]
    logger.error("internal error %s during %s", error_id, what, exc_info=(type(exc), exc, exc.__traceback__))
    return INTERNAL_MESSAGE.format(id=error_id)
