"""``dancegen music AUDIO``: tempo, beats, bars and meter of a music file."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence

from ..music import DEFAULT_CONFIG, analyse
from . import ArgumentParser, run


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide what C decoders (mpg123 inside libsndfile) print on file descriptor 2.

    Process-wide, so only this command uses it; it prints its own one-line error afterwards.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="dancegen music", description="Tempo, beats and bars of a music file.")
    p.add_argument("audio", help="music file (wav, mp3, ogg, flac, m4a, ...)")
    p.add_argument("--json", action="store_true", help="print a JSON object (times in seconds, ms precision)")
    p.add_argument("--offset", type=float, default=0.0, help="start of the segment in seconds (default 0)")
    p.add_argument("--seconds", type=float, default=None, help="length of the segment in seconds (default: all)")
    p.add_argument("--max-seconds", type=float, default=DEFAULT_CONFIG.max_seconds,
                   help="longer music is trimmed to this many seconds (default %(default)s)")
    return p


def _music(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    with _native_stderr_silenced():
        result = analyse(args.audio, args.offset, args.seconds, args.max_seconds)
    if args.json:
        print(json.dumps(result.to_json_dict()))
        return 0
    print(f"{result.path}: {result.duration_s:.1f} s from {result.offset_s:.1f} s, {result.tempo_bpm:.1f} BPM, "
          f"{result.beats_per_bar}/4, {len(result.beats_s)} beats, {len(result.downbeats_s)} bars")
    for notice in result.notices:
        print(f"note: {notice}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``dancegen music AUDIO [--json] [--offset S] [--seconds S] [--max-seconds S]``."""
    return run(lambda: _music(sys.argv[1:] if argv is None else argv), "dancegen music")
