"""Command line: ``dancegen COMMAND ...`` (or ``python -m dancegen COMMAND ...``), one module per command.

Every command reports the same way: bad input or a bad flag is one line ``error: <message>`` and exit status 2; a
machine limit (out of memory) is one line and status 3; one of our bugs is logged with its traceback to a file and
reported in one line with its id, status 1; Ctrl-C or SIGTERM stops a command after its own cleanup (temporary
folders and half-written videos removed): ``error: stopped``, status 130. Commands are imported lazily, so
``dancegen face`` never loads torch.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import GenerationCancelled, ResourceLimit, UserError, report_internal

# command -> (module with main(argv) -> int, one-line help)
COMMANDS = {
    "face": ("dancegen.cli.face", "detect the largest face in a photo, align and embed it"),
    "music": ("dancegen.cli.music", "analyse tempo, beats and downbeats of a music file"),
    "generate": ("dancegen.cli.generate", "photo + music -> baseline and identity dance videos"),
    "choreograph": ("dancegen.cli.choreograph", "music (+ photo) -> the dance's poses, plan, count sheet and "
                    "skeleton video; no video model"),
    "eval": ("dancegen.cli.eval", "an A/B study: photos x songs x identity settings -> results.csv, summary.md"),
    "review": ("dancegen.app.review", "a web page for blind A/B judgements of a study's videos"),
    "serve": ("dancegen.app.serve", "run the web app (the same as python app.py)"),
    "prepare": ("dancegen.cli.prepare", "raw dance videos -> training clips (poses, face embedding, face boxes)"),
    "train": ("dancegen.cli.train", "train the identity branch on dance clips"),
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises a one-line :class:`UserError` instead of printing its usage block and exiting."""

    def error(self, message: str):
        raise UsageError(message)


class UsageError(UserError):
    """A bad command-line argument."""


def run(action: Callable[[], int], what: str) -> int:
    """Run a command's work and turn what goes wrong into one line on stderr and an exit status. Libraries keep
    their notices to themselves (transformers' are set to errors only, before the command imports it)."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    with sigterm_stops():
        return _run(action, what)


def _run(action: Callable[[], int], what: str) -> int:
    try:
        return int(action() or 0)
    except (KeyboardInterrupt, GenerationCancelled):  # Ctrl-C, SIGTERM (see sigterm_stops), Stop
        print("error: stopped", file=sys.stderr)
        return 130
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ResourceLimit as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:
        with logged_to_file("dancegen.cli.errors") as (log, path):
            message = report_internal(log, what, exc)
        print(f"error: {message} in {path}", file=sys.stderr)
        return 1


@contextlib.contextmanager
def sigterm_stops() -> Iterator[None]:
    """While inside, SIGTERM stops the command as Ctrl-C does (a KeyboardInterrupt, so every ``finally`` and
    ``with`` cleans up on the way out); the previous handler is back after. Only the main thread can set one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


@contextlib.contextmanager
def logged_to_file(name: str) -> Iterator[tuple[logging.Logger, Path]]:
    """While inside, the logger ``name`` writes to the error log file (:func:`error_log`) instead of the person's
    terminal: -> (the logger, the file)."""
    path = error_log()
    log = logging.getLogger(name)
    propagate, log.propagate = log.propagate, False
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    try:
        yield log, path
    finally:
        log.removeHandler(handler)
        handler.close()
        log.propagate = propagate


def error_log() -> Path:
    """Where the command line logs our own bugs, with their tracebacks."""
    return Path(tempfile.gettempdir()) / "dancegen-errors.log"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        lines = ["usage: dancegen COMMAND [options]", "", "commands:"]
        lines += [f"  {name:<9} {help_}" for name, (_, help_) in COMMANDS.items()]
        asked = bool(argv) and argv[0] in {"-h", "--help"}
        print("\n".join(lines), file=sys.stdout if asked else sys.stderr)
        return 0 if asked else 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)
