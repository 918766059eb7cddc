"""How the page words what happened: clock times, sentences from exceptions, and errors turned into ``gr.Error``
by kind (:mod:`dancegen.errors`): the user's problem in their words, a resource limit with what to try, anything
else logged with its traceback and shown as ours with the id it was logged under."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import gradio as gr

from ..errors import GenerationCancelled, ResourceLimit, UserError, report_internal
from . import text as T

logger = logging.getLogger(__name__)


def clock(seconds: float) -> str:
    """12 s, 1:05, 1:02:03."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def capital(text: str) -> str:
    """``text`` with a capital first letter, unless it starts with a file name (``good.npy holds ...``)."""
    first = text.split(" ", 1)[0]
    if "." in first.rstrip(".,:;") or "/" in first:
        return text
    return text[:1].upper() + text[1:]


def sentence(exc: BaseException) -> str:
    """An exception's one-line message with a capital first letter (no traceback, no class name)."""
    text = str(getattr(exc, "message", None) or exc).strip()
    return capital(text.splitlines()[0] if text else type(exc).__name__)


@contextlib.contextmanager
def reported(what: str) -> Iterator[None]:
    """Turn what goes wrong into gr.Error by kind: the user's problem in their words, a resource limit with what to
    try, anything else logged with its traceback and shown as ours."""
    try:
        yield
    except (gr.Error, GenerationCancelled):
        raise
    except UserError as exc:
        raise gr.Error(sentence(exc), print_exception=False) from None
    except ResourceLimit as exc:
        logger.warning("%s: %s", what, exc)
        raise gr.Error(sentence(exc), print_exception=False) from None
    except Exception as exc:
        raise gr.Error(capital(report_internal(logger, what, exc)) + ".", print_exception=False) from None


def notices(lines) -> str:
    return "\n".join(f"- {T.NOTICE.format(text=line)}" for line in lines)
