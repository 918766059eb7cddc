"""``python -m dancegen COMMAND ...``: the command line of :mod:`dancegen.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
