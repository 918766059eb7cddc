"""``dancegen generate --photo P --music M --out DIR [--ground-truth FILE] [--choreography FILE]``: the A/B dance
videos, choreography.json, counts.md and report.json (with every video's metrics), written to DIR.

The flags are the studio's and the request's settings (:mod:`dancegen.config`), so they are the app's too. Bad input
prints one line and exits with status 2, leaving no partial output; --out is checked (a folder, made, writable)
before any work. Our own files from an earlier run into the same folder that this run did not make are removed
when the new ones move in (nothing else there is touched).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..config import GenerationSettings, NoFace, StudioConfig, add_arguments, check_seconds, from_arguments
from ..errors import OutputError, UserError
from . import ArgumentParser, run


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="dancegen generate",
                       description="photo + music -> baseline.mp4, identity.mp4, side_by_side.mp4, report.json")
    p.add_argument("--photo", required=True, help="reference photo (one person, face visible)")
    p.add_argument("--music", default=None, help="music file (wav, mp3, ogg, flac, m4a); with a --motion video, "
                                                 "default: the video's own sound")
    p.add_argument("--out", required=True, help="output folder (created; only our files are written)")
    add_motion_arguments(p)
    p.add_argument("--ground-truth", metavar="FILE", default=None,
                   help="a video to compare every frame with (PSNR, SSIM, LPIPS in report.json): frame t with its "
                        "frame at music time offset + t / fps")
    p.add_argument("--choreography", metavar="FILE", default=None,
                   help="a choreography.json (dancegen choreograph, or an earlier run) to dance instead of planning")
    add_arguments(p, StudioConfig)
    add_arguments(p, GenerationSettings)
    return p


def add_motion_arguments(p: ArgumentParser) -> None:
    """--motion SOURCE and --motion-fps (``choreograph`` and ``generate``)."""
    p.add_argument("--motion", metavar="SOURCE", default=None,
                   help="dance this motion instead of planned moves: a dance video (DWPose finds its poses; needs "
                        "--weights or --download), a folder or .zip of OpenPose JSON files, or a poses.npy; fitted "
                        "to the photo's body and, with --music, moved onto the song's beats")
    p.add_argument("--motion-fps", type=float, default=30.0, metavar="FPS",
                   help="frame rate of --motion OpenPose files or a poses.npy (a video says its own; default 30)")


def read_motion_arg(args, config):
    """The --motion source read (a MotionClip), or None; DWPose for a video from --weights / --download (one line
    saying how to get it when it is not there). MotionError (one line) for a source that cannot be used."""
    if args.motion is None:
        return None
    from ..motion.sources import load_detector, read_motion  # no torch

    return read_motion(args.motion, args.motion_fps,
                       detector_factory=lambda: load_detector(config.weights_dir, config.download))


def output_folder(path: str | Path) -> list[Path]:
    """Make the --out folder and check that we can write there; -> the folders made now (deepest first), for
    :func:`remove_empty` when the run fails. OutputError (one line) for a file or a place we cannot write."""
    out = Path(path)
    made = [p for p in (out, *out.parents) if not p.exists()]
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out must be a folder, but {out} is a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryDirectory(prefix=".check-", dir=out).cleanup()
    except OSError as exc:
        remove_empty(made)
        raise OutputError(f"cannot write into the output folder {out}: {exc.strerror or exc}") from None
    return made


def request(args, files: dict[str, str | None]):
    """A command's flags -> (GenerationSettings, StudioConfig, the --choreography plan or None), checked before
    any model loads: every named input file exists, the length is within --max-music-s, and the plan reads and was
    made for this music (one-line UserErrors). Imports no torch."""
    for label, value in {**files, "choreography": args.choreography}.items():
        if value is not None and not Path(value).is_file():
            raise UserError(f"{label} file not found: {value}")
    music = music_of(args)
    settings = from_arguments(GenerationSettings, args)
    config = from_arguments(StudioConfig, args)
    check_seconds(settings, config.max_music_s)
    from ..dance import read_plan  # no torch

    plan = read_plan(args.choreography, music) if args.choreography is not None else None
    return settings, config, plan


def music_of(args) -> str:
    """The music to dance to: --music, else a --motion video's own sound. UserError (one line) when there is
    none: no --music, and no --motion or one holding poses without sound."""
    if args.music is not None:
        return args.music
    if args.motion is None:
        raise UserError("--music is required (or a --motion video, whose sound is then the music)")
    if not Path(args.motion).exists():
        raise UserError(f"motion file not found: {args.motion}")
    from ..motion.errors import MotionError
    from ..motion.sources import source_kind

    if source_kind(Path(args.motion)) != "video":
        raise MotionError(f"{Path(args.motion).name} holds poses without sound: give the song to dance to with "
                          "--music")
    return args.motion


def remove_empty(folders: list[Path]) -> None:
    """Remove each of ``folders`` (deepest first) that is an empty folder."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _generate(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    settings, config, plan = request(args, {"photo": args.photo, "music": args.music,
                                            "ground-truth video": args.ground_truth})
    made = output_folder(args.out)
    try:
        motion = read_motion_arg(args, config)  # before the models load: a bad motion fails in seconds
        from ..studio import DanceStudio  # torch and the models load only once the flags are known to be good

        studio = DanceStudio(config)
        # a photo we cannot use (or, when that is refused, without a face) fails before the banner; the face is
        # cached, so generate() does not detect it again
        if config.on_no_face == NoFace.REFUSE:
            studio.analyse_face(args.photo)
        else:
            studio.photo_size(args.photo)
        print(studio.banner(), file=sys.stderr)
        result = studio.generate(args.photo, args.music, settings, out_dir=Path(args.out),
                                 ground_truth=args.ground_truth, plan=plan, motion=motion)
    except BaseException:  # Ctrl-C and SIGTERM too
        remove_empty(made)
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
