"""What every command line here shares: bad arguments are one line a person reads, never argparse's usage block.

Light on purpose (argparse only), so ``python app.py`` and ``python -m dancegen face`` can parse their arguments
before anything heavy is imported.
"""

from __future__ import annotations

import argparse


class UsageError(ValueError):
    """A bad command-line argument or setting; the message is one line."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of printing usage and exiting; each ``main`` prints
    ``error: <message>`` on stderr and returns 2, as it does for every other bad input."""

    def error(self, message: str):
        raise UsageError(message)
