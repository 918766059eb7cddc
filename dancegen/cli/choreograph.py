"""``dancegen choreograph --music M [--photo P] --out DIR [--choreography FILE] ...``: the dance without the video.

Writes poses.npy ([T, 18, 2] float32 canvas px, the training clips' format), choreography.json, counts.md,
skeleton.mp4 (with the music) and report.json (the dance metrics) into DIR (:mod:`dancegen.dance`). No video model
is loaded (torch is never imported): seconds for a minute of music. Without --photo the dancer is a standard whole
body in the middle of the canvas (default 512 x 512). ``--choreography FILE`` replays a plan (the same poses bit for
bit with the same photo, size, framing and fps; an edited plan changes only what was edited); without --seconds it
dances the plan's own stretch of the music. Bad input (a plan made for other music, an unknown move, overlapping
phrases) is one line ``error: ...`` naming the phrase, status 2, and nothing is written.

``--motion SOURCE`` dances a brought motion instead (a video, OpenPose JSON files or a poses.npy:
:mod:`dancegen.motion`), fitted to the photo's body; with --music it is moved onto the song's beats, without it a
video's own sound is the music and the motion keeps its timing. motion_source.mp4 (the source skeleton beside the
fitted one) is written too; a video needs DWPose's weights (--weights DIR or --download).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence

from ..config import GenerationSettings, StudioConfig, add_arguments
from . import ArgumentParser, run
from .generate import add_motion_arguments, output_folder, read_motion_arg, remove_empty, request

# the request settings that shape a dance (the others are the video model's)
DANCE_SETTINGS = ("seed", "fps", "output_fps", "size", "music_offset_s", "seconds", "framing", "style")


def _skip(cls: type, keep: Sequence[str]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in keep)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="dancegen choreograph",
                       description="music (+ photo) -> poses.npy, choreography.json, counts.md, skeleton.mp4, "
                                   "report.json; no video model")
    p.add_argument("--music", default=None, help="music file (wav, mp3, ogg, flac, m4a); with a --motion video, "
                                                 "default: the video's own sound")
    p.add_argument("--photo", default=None, help="reference photo: the dancer is placed on the person in it "
                                                 "(default: a standard body in the middle of the canvas)")
    p.add_argument("--out", required=True, help="output folder (created; only our files are written)")
    p.add_argument("--choreography", metavar="FILE", default=None,
                   help="a choreography.json to replay (edited or not) instead of planning a new dance")
    add_motion_arguments(p)
    add_arguments(p, StudioConfig, skip=_skip(StudioConfig, ("max_music_s", "weights_dir", "download")))
    add_arguments(p, GenerationSettings, skip=_skip(GenerationSettings, DANCE_SETTINGS))
    return p


def _choreograph(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    settings, config, plan = request(args, {"photo": args.photo, "music": args.music})

    from ..dance import DanceDesk  # the face and music stages load once the flags are known to be good
    from ..face import FaceAnalyser
    from ..music import MusicLibrary

    made = output_folder(args.out)
    try:
        motion = read_motion_arg(args, config)
        desk = DanceDesk(FaceAnalyser(), MusicLibrary(config.max_music_s), skeleton_min_px=config.skeleton_video_min_px)
        planned = desk.plan_dance(args.photo, args.music, settings, plan=plan, motion=motion)
        files = desk.write_dance(planned, args.out)
    except BaseException:  # Ctrl-C and SIGTERM too
        remove_empty(made)
        raise
    for name, path in files.items():
        print(f"{name}: {path}")
    for warning in planned.warnings:
        print(f"note: {warning}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``dancegen choreograph ...``: status 0, 2 (bad input) or 1 (our bug, logged)."""
    return run(lambda: _choreograph(sys.argv[1:] if argv is None else argv), "dancegen choreograph")
