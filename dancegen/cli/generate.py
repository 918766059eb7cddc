"""``dancegen generate --photo P --music M --out DIR [--ground-truth FILE]``: the A/B dance videos and report.json
(with every video's metrics), written to DIR.

The flags are the studio's and the request's settings (:mod:`dancegen.config`), so they are the app's too. Bad input
prints one line and exits with status 2, leaving no partial output.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..config import GenerationSettings, StudioConfig, add_arguments, from_arguments
from ..errors import UserError
from . import ArgumentParser, run


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="dancegen generate",
                       description="photo + music -> baseline.mp4, identity.mp4, side_by_side.mp4, report.json")
    p.add_argument("--photo", required=True, help="reference photo (one person, face visible)")
    p.add_argument("--music", required=True, help="music file (wav, mp3, ogg, flac, m4a)")
    p.add_argument("--out", required=True, help="output folder (created; only our files are written)")
    p.add_argument("--ground-truth", metavar="FILE", default=None,
                   help="a video to compare every frame with (PSNR, SSIM, LPIPS in report.json): frame t with its "
                        "frame at music time offset + t / fps")
    add_arguments(p, StudioConfig)
    add_arguments(p, GenerationSettings)
    return p


def _generate(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    for label, value in (("photo", args.photo), ("music", args.music), ("ground-truth video", args.ground_truth)):
        if value is not None and not Path(value).is_file():
            raise UserError(f"{label} file not found: {value}")
    settings = from_arguments(GenerationSettings, args)
    config = from_arguments(StudioConfig, args)
    from ..studio import DanceStudio  # torch and the models load only once the flags are known to be good

    out = Path(args.out)
    created = not out.exists()
    try:
        studio = DanceStudio(config)
        print(studio.banner(), file=sys.stderr)
        result = studio.generate(args.photo, args.music, settings, out_dir=out, ground_truth=args.ground_truth)
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise
    for name, path in result.videos.items():
        print(f"{name}: {path}")
    print(f"report: {result.out_dir / 'report.json'}")
    for warning in result.warnings:
        print(f"note: {warning}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``dancegen generate ...``: status 0, 2 (bad input), 3 (out of memory) or 1 (our bug, logged)."""
    return run(lambda: _generate(sys.argv[1:] if argv is None else argv), "dancegen generate")
