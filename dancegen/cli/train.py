"""``dancegen train --data DIR --out DIR``: train the identity branch on dance clips; ``--weights OUT`` then loads it.

Runs in one process as it is, or in several (GPUs or machines) under ``accelerate launch -m dancegen train ...``.
The clip folder format is in :mod:`dancegen.train.data`; the flags are :class:`dancegen.config.TrainSettings`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..config import TrainSettings, add_arguments, from_arguments
from ..errors import OutOfMemory, UserError
from . import ArgumentParser, run


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="dancegen train",
                       description="train the face encoder and identity projections (optionally the pose net and "
                                   "the UNet's attention layers) on dance clips")
    p.add_argument("--data", required=True, metavar="DIR", help="folder of clips (video.mp4 or frames/, poses.npy, "
                   "optional reference.png and face_boxes.npy)")
    p.add_argument("--out", required=True, metavar="DIR", help="where the trained weights, checkpoints/ and "
                   "train_log.csv go (generate and the app load it with --weights DIR)")
    add_arguments(p, TrainSettings, env=False)
    return p


def _train(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    settings = from_arguments(TrainSettings, args)
    if not Path(args.data).is_dir():
        raise UserError(f"training data folder not found: {args.data}")
    import torch

    from ..train.trainer import train  # torch loads only once the flags are known to be good

    try:
        train(settings, args.data, args.out, say=lambda line: print(line, file=sys.stderr))
    except torch.OutOfMemoryError:
        raise OutOfMemory("the device ran out of memory while training: try --gradient-checkpointing, "
                          "--mixed-precision bf16, fewer --frames or a smaller --size") from None
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``dancegen train ...``: status 0, 2 (bad data or flags), 3 (out of memory) or 1 (our bug, logged)."""
    return run(lambda: _train(sys.argv[1:] if argv is None else argv), "dancegen train")
