"""``dancegen prepare --videos DIR --out DIR``: raw dance videos -> training clips for ``dancegen train``.

Poses come from DWPose (its weights in ``--weights DIR`` or fetched with ``--download``), face boxes and the
reference's face embedding from the face models; every video that cannot be used is listed with the reason.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..config import PrepareSettings, add_arguments, from_arguments
from ..errors import UserError
from . import ArgumentParser, run


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="dancegen prepare",
                       description="raw dance videos -> training clips (video.mp4, poses.npy, face_boxes.npy, the "
                                   "reference's face embedding)")
    p.add_argument("--videos", required=True, metavar="DIR", help="folder of dance videos (one dancer each)")
    p.add_argument("--out", required=True, metavar="DIR", help="where the clip folders go (dancegen train --data)")
    add_arguments(p, PrepareSettings, env=False)
    return p


def _prepare(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    settings = from_arguments(PrepareSettings, args)
    from ..train.prepare import prepare  # onnxruntime and the face models load only once the flags are good

    report = prepare(args.videos, args.out, settings, say=lambda line: print(line, file=sys.stderr))
    print(f"{len(report.prepared)} clip(s) prepared in {args.out}, {len(report.existing)} already there, "
          f"{len(report.skipped)} video(s) skipped")
    if not report.prepared and not report.existing:
        raise UserError(f"no video could be prepared; the first reason: {report.skipped[0]}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``dancegen prepare ...``: status 0 (something prepared), 2 (nothing could be, or bad flags) or 1 (our bug)."""
    return run(lambda: _prepare(sys.argv[1:] if argv is None else argv), "dancegen prepare")
