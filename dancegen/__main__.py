"""Command line: ``python -m dancegen {face,music,generate} ...``.

Each sub-command lives in the module of its stage (a ``main(argv) -> int`` function); this file only
dispatches, importing the stage lazily so ``python -m dancegen face`` never loads torch.
"""

from __future__ import annotations

import importlib
import sys

# sub-command -> (module, one-line help)
COMMANDS = {
    "face": ("dancegen.face", "detect the largest face in a photo, align and embed it"),
    "music": ("dancegen.music", "analyse tempo, beats and downbeats of a music file"),
    "generate": ("dancegen.studio", "photo + music -> baseline and identity dance videos"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        lines = ["usage: python -m dancegen COMMAND [options]", "", "commands:"]
        lines += [f"  {name:<9} {help_}" for name, (_, help_) in COMMANDS.items()]
        print("\n".join(lines), file=sys.stderr if argv and argv[0] not in {"-h", "--help"} else sys.stdout)
        return 0 if argv and argv[0] in {"-h", "--help"} else 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
