"""The dance plan as a document: :class:`DancePlan`, its JSON form (``choreography.json``) and its validation.

A plan says which move is danced on which counts; with the same music and body it gives the same poses bit for
bit (:meth:`~dancegen.choreo.planner.ProceduralChoreographer.poses`), and an edited plan changes only what was
edited: every phrase starts from the floor position written in it and nothing else carries across phrases.

JSON fields (version 1)::

    {"version": 1,                      # format version (2: with a "motion", below); another one is refused
     "music": {"sha256": str,           # sha256 of the music file (hex), given by the caller
               "offset_s": float,       # where the danced segment starts in that file (s)
               "seconds": float},       # length of the danced segment (s)
     "style": str,                      # a name of STYLES (the pools it was planned from)
     "seed": int,                       # the seed it was planned with
     "meter": int,                      # counts per bar as danced (4 or 3; 2 when a count is two beats of 4/4)
     "sections": [{"label": str, "start_s": float, "end_s": float}],   # the song's parts, in time order
     "phrases": [                       # in time order, not overlapping
       {"start_s": float,               # time of its first count (s; a downbeat except for the pick-up)
        "end_s": float,                 # time of the count after its last (the ending: the end of the dance)
        "section": str,                 # label of the section it belongs to
        "kind": str,                    # "intro" (pick-up beats), "dance" or "ending" (the held final pose)
        "floor": [float, float],        # right and left foot x offsets from the frame-0 ankles at its start
                                        # (head heights, image x); the phrase's steps start here
        "hits": [int],                  # counts (0 = its first) that stop sharply; the others flow through
        "moves": [{"move": str,         # a name of MOVES (or "groove" / "finish" for intro / ending)
                   "counts": int,       # how many counts it lasts; the counts of a phrase add up to its length
                   "mirrored": bool,    # left and right swapped (travel and turns the other way)
                   "size": float,       # 0..1.2: how big (section energy); 1 = as written
                   "variant": int}]}]}  # which cycle of the move (0 = its main one)

Version 2 (a dance whose motion comes from a file: ``dancegen choreograph --motion SOURCE``) adds ``"motion"`` and
lets ``"phrases"`` be empty (its ``"style"`` is ``"motion"``); a plan without a motion is still written as version
1, so a version-1 reader reads it, and version-1 files load as before::

     "motion": {"source": {"name": str,      # the motion file or folder's name
                           "sha256": str,    # hex digest of its contents (a folder: its JSON files' names + digests)
                           "frames": int,    # frames of motion read from it
                           "fps": float,     # their rate
                           "kind": str},     # "video", "openpose" or "poses"
                "timing": str,               # "beats": its hits moved onto the song's beats; "kept": as danced
                "segments": [{"song_start_s": float, "song_end_s": float,   # the stretch of the song it covers
                              "knots": [[float, float]],   # (song s, motion s) pairs, both increasing: the time map
                              "mirrored": bool}]}          # left and right swapped

Errors in a plan file are one line naming the phrase: :class:`ChoreographyPlanError` (a
:class:`~dancegen.errors.UserError`, so the command line prints ``error: ...`` and exits with status 2).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..music import Section
from .vocabulary import ALL_MOVES

VERSION = 2  # the newest format (a plan without a motion is written as version 1)
VERSIONS = (1, 2)  # the formats read
KINDS = ("intro", "dance", "ending")
MOTION_STYLE = "motion"  # the style of a plan whose motion comes from a file
MOTION_KINDS = ("video", "openpose", "poses")
TIMINGS = ("beats", "kept")


class ChoreographyPlanError(UserError):
    """A plan file that cannot be danced (one line, naming the phrase)."""


@dataclass(frozen=True)
class MusicRef:
    """Which music a plan was made for (the caller computes the file's sha256)."""

    sha256: str  # hex digest of the music file
    offset_s: float  # start of the danced segment in the file (s)
    seconds: float  # length of the danced segment (s)


@dataclass(frozen=True)
class MotionRef:
    """Which motion file a dance was made from."""

    name: str  # the file or folder's name (not its path)
    sha256: str  # hex digest of its contents (a folder: of its JSON files' names and digests)
    frames: int  # frames of motion read
    fps: float  # their rate (frames per second)
    kind: str  # "video", "openpose" or "poses"


@dataclass(frozen=True)
class MotionSegment:
    """A stretch of the song danced to a stretch of the motion (the JSON form of dancegen.motion's WarpSegment)."""

    song_start_s: float  # where it starts in the danced segment of the song (s)
    song_end_s: float  # where it ends (s)
    knots: tuple[tuple[float, float], ...]  # (song s, motion s) pairs, both increasing: the time map between them
    mirrored: bool = False  # left and right swapped

    def to_json(self) -> dict:
        return {"song_start_s": self.song_start_s, "song_end_s": self.song_end_s,
                "knots": [[a, b] for a, b in self.knots], "mirrored": self.mirrored}


@dataclass(frozen=True)
class MotionPlan:
    """A dance whose motion comes from a file: which file, how its timing was treated and its segments."""

    source: MotionRef  # the motion file
    timing: str  # "beats" (hits moved onto the song's beats) or "kept" (as danced)
    segments: tuple[MotionSegment, ...]  # in song order

    def to_json(self) -> dict:
        s = self.source
        return {"source": {"name": s.name, "sha256": s.sha256, "frames": s.frames, "fps": s.fps, "kind": s.kind},
                "timing": self.timing, "segments": [g.to_json() for g in self.segments]}


@dataclass(frozen=True)
class MoveEntry:
    move: str  # a key of ALL_MOVES
    counts: int  # counts it lasts
    mirrored: bool = False  # left and right swapped
    size: float = 1.0  # amplitude, 0..1.2
    variant: int = 0  # which cycle (0 = the main one)


@dataclass(frozen=True)
class Phrase:
    start_s: float  # first count (s)
    end_s: float  # the count after the last (s)
    section: str  # section label
    moves: tuple[MoveEntry, ...]  # in order; counts add up to the phrase's counts
    floor: tuple[float, float] = (0.0, 0.0)  # foot x offsets at the start (head heights)
    hits: tuple[int, ...] = (0,)  # counts that stop sharply
    kind: str = "dance"  # "intro", "dance" or "ending"

    @property
    def counts(self) -> int:
        return sum(m.counts for m in self.moves)


@dataclass(frozen=True)
class DancePlan:
    music: MusicRef  # the music it was made for
    style: str  # style name
    seed: int  # planning seed
    meter: int  # counts per bar
    sections: tuple[Section, ...]  # the song's parts
    phrases: tuple[Phrase, ...] = field(default=())  # in time order (none when the motion comes from a file)
    motion: MotionPlan | None = None  # the motion file and its time map (version 2); None: the moves are danced

    @property
    def version(self) -> int:
        """The document format it is written in: 2 with a motion, else 1 (unchanged, for version-1 readers)."""
        return 1 if self.motion is None else 2

    def to_json(self) -> dict:
        """The JSON object of ``choreography.json`` (see the module docstring)."""
        extra = {} if self.motion is None else {"motion": self.motion.to_json()}
        return {
            "version": self.version,
            "music": {"sha256": self.music.sha256, "offset_s": self.music.offset_s, "seconds": self.music.seconds},
            "style": self.style, "seed": self.seed, "meter": self.meter,
            "sections": [{"label": s.label, "start_s": s.start_s, "end_s": s.end_s} for s in self.sections],
            "phrases": [{"start_s": p.start_s, "end_s": p.end_s, "section": p.section, "kind": p.kind,
                         "floor": list(p.floor), "hits": list(p.hits),
                         "moves": [{"move": m.move, "counts": m.counts, "mirrored": m.mirrored, "size": m.size,
                                    "variant": m.variant} for m in p.moves]} for p in self.phrases],
            **extra,
        }

    def save(self, path: str | Path) -> Path:
        """Write ``choreography.json`` (floats written exactly, so a reload replays bit for bit)."""
        path = Path(path)
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        return path


def clock(t: float) -> str:
    """Seconds as m:ss.s (``75.25`` -> ``1:15.2``)."""
    m, s = divmod(max(float(t), 0.0), 60.0)
    return f"{int(m)}:{s:04.1f}"


def phrase_name(i: int, p: dict | Phrase) -> str:
    """"phrase 3 (0:12.5-0:17.1)" for the phrase at index i (numbered from 1 for people)."""
    get = (lambda k: p.get(k)) if isinstance(p, dict) else (lambda k: getattr(p, k))
    try:
        return f"phrase {i + 1} ({clock(get('start_s'))}-{clock(get('end_s'))})"
    except (TypeError, ValueError):
        return f"phrase {i + 1}"


def _num(v, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{what} must be a number, got {v!r}")
    return float(v)


def _int(v, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{what} must be a whole number, got {v!r}")
    return v


def _str(v, what: str) -> str:
    if not isinstance(v, str):
        raise ValueError(f"{what} must be text, got {v!r}")
    return v


def _move(obj, style_moves: dict) -> MoveEntry:
    if not isinstance(obj, dict):
        raise ValueError(f"a move must be an object, got {obj!r}")
    name = _str(obj.get("move"), "move")
    if name not in style_moves:
        raise ValueError(f"unknown move {name!r}")
    counts = _int(obj.get("counts"), f"counts of {name!r}")
    if counts < 1:
        raise ValueError(f"move {name!r} must last at least one count, got {counts}")
    mirrored = obj.get("mirrored", False)
    if not isinstance(mirrored, bool):
        raise ValueError(f"mirrored of {name!r} must be true or false, got {mirrored!r}")
    size = _num(obj.get("size", 1.0), f"size of {name!r}")
    if not 0.0 <= size <= 1.2:
        raise ValueError(f"size of {name!r} must be within 0..1.2, got {size}")
    variant = _int(obj.get("variant", 0), f"variant of {name!r}")
    if variant < 0:
        raise ValueError(f"variant of {name!r} must be 0 or more, got {variant}")
    return MoveEntry(name, counts, mirrored, size, variant)


def _phrase(obj) -> Phrase:
    if not isinstance(obj, dict):
        raise ValueError(f"must be an object, got {type(obj).__name__}")
    start, end = _num(obj.get("start_s"), "start_s"), _num(obj.get("end_s"), "end_s")
    if not end > start >= 0:
        raise ValueError(f"must end after it starts (start_s {start}, end_s {end})")
    kind = obj.get("kind", "dance")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    moves = obj.get("moves")
    if not isinstance(moves, list) or not moves:
        raise ValueError("moves must be a non-empty list")
    entries = tuple(_move(m, ALL_MOVES) for m in moves)
    floor = obj.get("floor", [0.0, 0.0])
    if not isinstance(floor, list) or len(floor) != 2:
        raise ValueError(f"floor must be two numbers, got {floor!r}")
    fl = (_num(floor[0], "floor"), _num(floor[1], "floor"))
    hits = obj.get("hits", [0])
    if not isinstance(hits, list):
        raise ValueError(f"hits must be a list of counts, got {hits!r}")
    n = sum(m.counts for m in entries)
    hs = tuple(_int(h, "a hit") for h in hits)
    if any(not 0 <= h < n for h in hs):
        raise ValueError(f"hits must be counts 0..{n - 1} of the phrase, got {list(hs)}")
    return Phrase(start, end, _str(obj.get("section", "A"), "section"), entries, fl, tuple(sorted(set(hs))), kind)


def _knots(v) -> tuple[tuple[float, float], ...]:
    if not isinstance(v, list) or len(v) < 2 or not all(isinstance(k, list) and len(k) == 2 for k in v):
        raise ValueError(f"knots must be two or more [song s, motion s] pairs, got {v!r}")
    knots = tuple((_num(a, "a knot"), _num(b, "a knot")) for a, b in v)
    if any(b[0] <= a[0] or b[1] < a[1] for a, b in zip(knots, knots[1:])):
        raise ValueError("knots must increase in song time and not go back in motion time")
    return knots


def _segment(i: int, obj) -> MotionSegment:
    if not isinstance(obj, dict):
        raise ValueError(f"segment {i + 1} must be an object")
    start, end = _num(obj.get("song_start_s"), "song_start_s"), _num(obj.get("song_end_s"), "song_end_s")
    if not end > start >= 0:
        raise ValueError(f"segment {i + 1} must end after it starts (song_start_s {start}, song_end_s {end})")
    mirrored = obj.get("mirrored", False)
    if not isinstance(mirrored, bool):
        raise ValueError(f"mirrored of segment {i + 1} must be true or false, got {mirrored!r}")
    return MotionSegment(start, end, _knots(obj.get("knots")), mirrored)


def motion_from_json(obj) -> MotionPlan:
    """The ``"motion"`` object of a version-2 plan, checked (ValueError with the reason)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("source"), dict):
        raise ValueError("motion must be an object with source, timing and segments")
    src = obj["source"]
    kind = src.get("kind")
    if kind not in MOTION_KINDS:
        raise ValueError(f"motion kind must be one of {MOTION_KINDS}, got {kind!r}")
    ref = MotionRef(_str(src.get("name"), "motion name"), _str(src.get("sha256"), "motion sha256"),
                    _int(src.get("frames"), "motion frames"), _num(src.get("fps"), "motion fps"), kind)
    if ref.frames < 1 or ref.fps <= 0:
        raise ValueError(f"motion frames and fps must be positive, got {ref.frames} and {ref.fps}")
    timing = obj.get("timing")
    if timing not in TIMINGS:
        raise ValueError(f"motion timing must be one of {TIMINGS}, got {timing!r}")
    segs = obj.get("segments")
    if not isinstance(segs, list) or not segs:
        raise ValueError("motion segments must be a non-empty list")
    segments = tuple(_segment(i, g) for i, g in enumerate(segs))
    if any(b.song_start_s < a.song_end_s - 1e-6 for a, b in zip(segments, segments[1:])):
        raise ValueError("motion segments must be in song order without overlap")
    return MotionPlan(ref, timing, segments)


def plan_from_json(obj: dict, music_ref: MusicRef | None = None) -> DancePlan:
    """A :class:`DancePlan` from its JSON object, checked (see :func:`load_plan`)."""
    from .styles import STYLES

    if not isinstance(obj, dict):
        raise ChoreographyPlanError("the choreography must be a JSON object")
    version = obj.get("version")
    if isinstance(version, bool) or version not in VERSIONS:
        raise ChoreographyPlanError(f"choreography version {version!r} is not supported (this reads versions "
                                    f"{', '.join(map(str, VERSIONS))})")
    try:
        m = obj.get("music")
        if not isinstance(m, dict):
            raise ValueError("music must be an object with sha256, offset_s and seconds")
        ref = MusicRef(_str(m.get("sha256"), "music sha256"), _num(m.get("offset_s"), "music offset_s"),
                       _num(m.get("seconds"), "music seconds"))
        motion = motion_from_json(obj["motion"]) if version >= 2 and "motion" in obj else None
        style = _str(obj.get("style"), "style")
        if motion is not None and style != MOTION_STYLE:
            raise ValueError(f"the style of a plan with a motion must be {MOTION_STYLE!r}, got {style!r}")
        if motion is None and style not in STYLES:
            raise ValueError(f"unknown style {style!r} (one of {', '.join(STYLES)})")
        seed, meter = _int(obj.get("seed"), "seed"), _int(obj.get("meter"), "meter")
        if meter not in (2, 3, 4):
            raise ValueError(f"meter must be 2, 3 or 4, got {meter}")
        secs = obj.get("sections")
        if not isinstance(secs, list):
            raise ValueError("sections must be a list")
        sections = []
        for s in secs:
            if not isinstance(s, dict):
                raise ValueError("every section must be an object with label, start_s and end_s")
            sections.append(Section(_str(s.get("label"), "section label"), _num(s.get("start_s"), "section start_s"),
                                    _num(s.get("end_s"), "section end_s")))
        phrases_in = obj.get("phrases")
        if not isinstance(phrases_in, list) or not (phrases_in or motion is not None):
            raise ValueError("phrases must be a non-empty list")
    except ValueError as e:
        raise ChoreographyPlanError(f"choreography: {e}") from None
    if music_ref is not None:
        if ref.sha256 != music_ref.sha256:
            raise ChoreographyPlanError("this choreography was made for other music (its sha256 differs)")
        if abs(ref.offset_s - music_ref.offset_s) > 1e-6 or abs(ref.seconds - music_ref.seconds) > 1e-3:
            raise ChoreographyPlanError(f"this choreography was made for {ref.seconds:g} s of the music from "
                                        f"{ref.offset_s:g} s, not {music_ref.seconds:g} s from "
                                        f"{music_ref.offset_s:g} s")
    phrases = []
    for i, p in enumerate(phrases_in):
        try:
            ph = _phrase(p)
        except ValueError as e:
            raise ChoreographyPlanError(f"{phrase_name(i, p if isinstance(p, dict) else {})}: {e}") from None
        if phrases and ph.start_s < phrases[-1].end_s - 1e-6:
            raise ChoreographyPlanError(f"{phrase_name(i, ph)}: overlaps {phrase_name(i - 1, phrases[-1])}")
        phrases.append(ph)
    return DancePlan(ref, style, seed, meter, tuple(sections), tuple(phrases), motion)


def load_plan(obj_or_path, music_ref: MusicRef | None = None) -> DancePlan:
    """A plan from a JSON object or a ``choreography.json`` path, checked: the version, types, move names, phrases
    in order without overlap, hits inside their phrase and (with ``music_ref``) that it was made for this music.
    Whether the counts fit the music's beats is checked when it is danced. Raises :class:`ChoreographyPlanError`."""
    if isinstance(obj_or_path, (str, Path)):
        path = Path(obj_or_path)
        try:
            obj = json.loads(path.read_text())
        except OSError as e:
            raise ChoreographyPlanError(f"cannot read the choreography {path}: {e.strerror or e}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ChoreographyPlanError(f"the choreography {path} is not JSON: {e}") from None
    else:
        obj = obj_or_path
    return plan_from_json(obj, music_ref)
