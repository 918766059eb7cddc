"""The timing of a brought dance: its own beats, and a monotone warp of its clock onto a song's beats.

A source dance ``poses`` [T, 18, 2] (px, OpenPose-18, NaN = joint not seen, frame t at t / fps, ``source_s`` = T / fps)
stops on its own beats (:func:`.beats.motion_beats`: minima of the joint speed). :func:`plan_warp` maps song time to source
time so that those stops land on the song's beats, as a tuple of :class:`WarpSegment`: one per pass through the
source (it loops to fill a longer song, alternate loops mirrored if asked; the song's end cuts the last one). Each
segment is a piecewise-linear map through (song beat, source beat) pairs, increasing, with every piece's stretch
(song seconds per source second) within [MIN_STRETCH, MAX_STRETCH]. :func:`apply_warp` samples the source at the
warped times; :func:`keep_timing` is the identity record for a dance without a song.

The segments are the record (the plan file stores them with :meth:`WarpSegment.to_json`): :func:`apply_warp` reads
only them and the source, so a record read back gives the same poses bit for bit, whatever the beat analysis would
say today.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..pose.topology import J
from .beats import check_poses, check_rate, motion_beats
from .errors import MotionError

__all__ = ["BLEND_S", "MAX_STRETCH", "MIN_STRETCH", "MIRROR", "WarpSegment", "apply_warp", "frame_count",
           "keep_timing", "motion_beats", "plan_warp", "segments_from_json", "segments_to_json", "source_frames"]

MIN_STRETCH = 0.5  # song seconds per source second, at least (the motion at most 2x faster) ...
MAX_STRETCH = 2.0  # ... and at most (the motion at most 2x slower), on every piece of a warp
RATIOS = (0.5, 1.0, 2.0)  # song beats per source beat that may be matched (double time, one to one, half time)
BEATS_PER_BAR = 4  # loop lengths are whole bars of this many song beats when no downbeats are given
BLEND_S = 0.4  # seconds over which one loop fades into the next (smoothstep), centred on the boundary
TORSO = (J["Neck"], J["RShoulder"], J["LShoulder"], J["RHip"], J["LHip"])  # their mean x: the body's centre


def _mirror_index() -> tuple[int, ...]:
    """Joint index -> the index of its mirror image (OpenPose-18): left and right swapped, nose and neck kept."""
    pairs = (("RShoulder", "LShoulder"), ("RElbow", "LElbow"), ("RWrist", "LWrist"), ("RHip", "LHip"),
             ("RKnee", "LKnee"), ("RAnkle", "LAnkle"), ("REye", "LEye"), ("REar", "LEar"))
    index = list(range(18))
    for right, left in pairs:
        index[J[right]], index[J[left]] = J[left], J[right]
    return tuple(index)


MIRROR = _mirror_index()  # [18] joint -> mirror joint


# ------------------------------------------------------------------------------------------------------ checks


@dataclass(frozen=True)
class WarpSegment:
    """One pass through the source on the song's clock: song times in [song_start_s, song_end_s) show the source
    at the times given by the piecewise-linear map through ``knots`` (extended past its ends with its end slopes)."""

    song_start_s: float  # where the segment starts on the song's clock (s)
    song_end_s: float  # where it ends (s): the next segment starts here
    knots: tuple[tuple[float, float], ...]  # (song_s, source_s) pairs, song_s increasing, source_s not decreasing
    mirrored: bool = False  # left and right swapped, x flipped about the body's centre at the segment's start

    def __post_init__(self):
        k = np.asarray(self.knots, dtype=np.float64)
        if k.ndim != 2 or k.shape[1] != 2 or k.shape[0] < 2 or not np.isfinite(k).all():
            raise MotionError(f"a warp segment needs at least 2 finite (song_s, source_s) knots, got {self.knots!r}")
        if not (np.all(np.diff(k[:, 0]) > 0) and np.all(np.diff(k[:, 1]) >= 0)):
            raise MotionError("a warp segment's knots must increase in song time and never go back in source time")
        if not (math.isfinite(self.song_start_s) and math.isfinite(self.song_end_s)
                and self.song_start_s < self.song_end_s):
            raise MotionError(f"a warp segment must end after it starts, got {self.song_start_s}-{self.song_end_s} s")
        if not isinstance(self.mirrored, bool):
            raise MotionError(f"a warp segment's mirrored must be true or false, got {self.mirrored!r}")

    def source_time(self, song_t) -> np.ndarray:
        """Source times (s) [N] of song times ``song_t`` [N] (s): the knots' map, straight on past its ends."""
        t = np.asarray(song_t, dtype=np.float64)
        k = np.asarray(self.knots, dtype=np.float64)  # [K, 2]
        s = np.interp(t, k[:, 0], k[:, 1])
        first = (k[1, 1] - k[0, 1]) / (k[1, 0] - k[0, 0])
        last = (k[-1, 1] - k[-2, 1]) / (k[-1, 0] - k[-2, 0])
        s = np.where(t < k[0, 0], k[0, 1] + (t - k[0, 0]) * first, s)
        return np.where(t > k[-1, 0], k[-1, 1] + (t - k[-1, 0]) * last, s)

    def to_json(self) -> dict:
        """The segment as JSON-able values (floats written exactly by json: a read-back is the same segment)."""
        return {"song_start_s": float(self.song_start_s), "song_end_s": float(self.song_end_s),
                "knots": [[float(a), float(b)] for a, b in self.knots], "mirrored": bool(self.mirrored)}

    @classmethod
    def from_json(cls, obj) -> WarpSegment:
        """The segment written by :meth:`to_json`; MotionError naming what is wrong with a bad one."""
        if not isinstance(obj, dict) or set(obj) != {"song_start_s", "song_end_s", "knots", "mirrored"}:
            raise MotionError("a warp segment must be an object with song_start_s, song_end_s, knots and mirrored")
        try:
            knots = tuple((float(a), float(b)) for a, b in obj["knots"])
            start, end = float(obj["song_start_s"]), float(obj["song_end_s"])
        except (TypeError, ValueError):
            raise MotionError("a warp segment's times must be numbers and its knots [song_s, source_s] pairs") from None
        return cls(start, end, knots, obj["mirrored"])


def segments_to_json(segments: Sequence[WarpSegment]) -> list[dict]:
    """A warp (its segments in song order) as a JSON-able list."""
    return [s.to_json() for s in segments]


def segments_from_json(obj) -> tuple[WarpSegment, ...]:
    """The warp written by :func:`segments_to_json`; MotionError for a bad one (empty, or segments with gaps)."""
    if not isinstance(obj, list) or not obj:
        raise MotionError("a warp must be a non-empty list of segments")
    segments = tuple(WarpSegment.from_json(s) for s in obj)
    _check_segments(segments)
    return segments


def _check_segments(segments: Sequence[WarpSegment]) -> None:
    """MotionError unless there is a segment and each starts where the one before it ends."""
    if not segments:
        raise MotionError("a warp needs at least one segment")
    for a, b in zip(segments, segments[1:]):
        if b.song_start_s != a.song_end_s:
            raise MotionError(f"warp segments must follow each other: one ends at {a.song_end_s} s, "
                              f"the next starts at {b.song_start_s} s")


def keep_timing(source_s: float) -> tuple[WarpSegment, ...]:
    """The warp of a dance without a song: one identity segment over the source's ``source_s`` seconds (T / fps).
    With :func:`apply_warp` it resamples the source to another frame rate keeping its timing."""
    source_s = check_rate(source_s, "the motion's length in seconds")
    return (WarpSegment(0.0, source_s, ((0.0, 0.0), (source_s, source_s)), False),)


def frame_count(segments: Sequence[WarpSegment], out_fps: float) -> int:
    """Output frames that cover a warp at ``out_fps``: round(last segment's end x out_fps), at least 1."""
    _check_segments(segments)
    return max(1, int(round(segments[-1].song_end_s * check_rate(out_fps, "the output frames per second"))))


# ------------------------------------------------------------------------------------------------------ planning


def _clean_beats(beats_s, length_s: float, what: str) -> tuple[np.ndarray, np.ndarray, float]:
    """(beats [B] s, counts [B] int, period s): the finite beats inside [0, length_s], sorted, one of two closer than
    half the median spacing dropped; a beat's count is the previous one's plus its gap in periods (a missed beat
    skips a count). MotionError with fewer than 2 beats."""
    b = np.asarray(beats_s if beats_s is not None else [], dtype=np.float64).reshape(-1)
    b = np.unique(b[np.isfinite(b) & (b >= 0) & (b <= length_s)])
    if b.size < 2:
        raise MotionError(f"the {what} has {b.size} beat{'s' if b.size != 1 else ''}; at least 2 are needed "
                          "to match the dance to the music")
    period = float(np.median(np.diff(b)))
    kept = [b[0]]
    for x in b[1:]:
        if x - kept[-1] >= 0.5 * period:
            kept.append(x)
    b = np.asarray(kept)
    if b.size < 2:
        raise MotionError(f"the {what} has fewer than 2 distinct beats; at least 2 are needed")
    period = float(np.median(np.diff(b)))
    gaps = np.maximum(1, np.rint(np.diff(b) / period)).astype(np.int64)
    return b, np.concatenate([[0], np.cumsum(gaps)]), period


def _line(x: np.ndarray, xs: np.ndarray, ys: np.ndarray, slope: float) -> np.ndarray:
    """Piecewise-linear map through (xs, ys) at ``x``, straight on with ``slope`` past both ends."""
    y = np.interp(x, xs, ys)
    y = np.where(x < xs[0], ys[0] + (x - xs[0]) * slope, y)
    return np.where(x > xs[-1], ys[-1] + (x - xs[-1]) * slope, y)


def _bounded(knots: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The knots without inner ones that make a piece's stretch (song s / source s) leave [MIN, MAX]: a beat the
    analysis misplaced is skipped rather than followed. MotionError when even the two ends do not fit."""
    knots = list(knots)
    while True:
        bad = None
        for j in range(len(knots) - 1):
            d_song, d_src = knots[j + 1][0] - knots[j][0], knots[j + 1][1] - knots[j][1]
            if not (MIN_STRETCH * d_src - 1e-9 <= d_song <= MAX_STRETCH * d_src + 1e-9):
                bad = j
                break
        if bad is None:
            return knots
        if len(knots) == 2:
            raise MotionError("the dance's tempo cannot be matched to the song's within 0.5x-2x")
        del knots[bad + 1 if bad + 1 < len(knots) - 1 else bad]


def _beats_per_bar(song_b: np.ndarray, song_c: np.ndarray, downbeats: np.ndarray | None) -> int:
    """Song beats per bar: the median count gap between consecutive downbeats (each at its nearest song beat's
    count), BEATS_PER_BAR without two of them."""
    if downbeats is None or downbeats.size < 2:
        return BEATS_PER_BAR
    counts = song_c[np.abs(downbeats[:, None] - song_b[None, :]).argmin(axis=1)]
    gaps = np.diff(np.unique(counts))
    return max(1, int(np.rint(np.median(gaps)))) if gaps.size else BEATS_PER_BAR


def plan_warp(source_beats_s, source_s: float, song_beats_s, song_s: float, downbeats_s=None, *,
              mirror_alternate: bool = False) -> tuple[WarpSegment, ...]:
    """The warp that puts the source's beats on the song's: segments covering the song's ``song_s`` seconds.

    ``source_beats_s`` [M] (s, from :func:`motion_beats` or the source's own audio) within the source's ``source_s``
    seconds; ``song_beats_s`` [B] and optional ``downbeats_s`` [D] (s) of the song. Both beat lists get a count
    (:func:`_clean_beats`); n song beats per source beat, n in RATIOS, is the one whose tempo ratio n x song period /
    source period is nearest 1. The loop runs from the source's first beat to its last beat that closes whole bars
    of the song (when no beat closes a bar, as in a source shorter than a bar, to its last beat: such a short
loop then falls off the bar lines); loop k starts on the song count of the first
    downbeat (the first beat without downbeats) plus k loops, so loop boundaries fall on downbeats while the meter
    is regular. Each source beat's knot is its song count's time; the first segment also gets a knot at song 0 (the
    source before its first beat, cut or held at frame 0 when the song's intro is longer). A loop whose source
    lasts past the song's end is the last: it runs on through the source's later beats and is cut there (a song
    shorter than the source gives one segment). Alternate loops are mirrored with ``mirror_alternate`` (default
    off: the dance as brought; mirroring changes it, e.g. a point to one side).

    Raises MotionError for a length <= 0, fewer than 2 beats on either side, or tempos that cannot be matched.
    """
    source_s = check_rate(source_s, "the motion's length in seconds")
    song_s = check_rate(song_s, "the song's length in seconds")
    src_b, src_c, src_p = _clean_beats(source_beats_s, source_s, "motion source")
    song_b, song_c, song_p = _clean_beats(song_beats_s, song_s, "song")
    n = min(RATIOS, key=lambda r: abs(math.log(r * song_p / src_p)))
    scale = n * song_p / src_p  # song seconds per source second, overall

    def grid(u) -> np.ndarray:  # song count(s) -> song time(s), straight on at the song's period past the ends
        return _line(np.asarray(u, dtype=np.float64), song_c.astype(np.float64), song_b, song_p)

    down = None if downbeats_s is None else np.asarray(downbeats_s, dtype=np.float64).reshape(-1)
    down = None if down is None else np.sort(down[np.isfinite(down) & (down >= 0) & (down <= song_s)])
    bar = _beats_per_bar(song_b, song_c, down)
    u0 = 0.0 if down is None or down.size == 0 else float(song_c[np.abs(song_b - down[0]).argmin()])
    closing = [i for i in range(1, src_c.size) if abs(n * src_c[i] / bar - round(n * src_c[i] / bar)) < 1e-9]
    last = closing[-1] if closing else src_c.size - 1  # index of the beat that ends a loop
    loop_counts = n * float(src_c[last])  # song beats per loop

    segments: list[WarpSegment] = []
    k = 0
    while True:
        start_u = u0 + k * loop_counts
        knots = [(float(grid(start_u + n * c)), float(b)) for b, c in zip(src_b, src_c)]  # every source beat
        start = 0.0 if k == 0 else knots[0][0]
        if k == 0 and knots[0][0] > 0:
            knots.insert(0, (0.0, knots[0][1] - knots[0][0] / scale))  # the lead-in, at the overall tempo
        through = knots[-1][0] + (source_s - knots[-1][1]) * scale  # the song time the source would run out at
        mirrored = bool(mirror_alternate and k % 2 == 1)
        if through >= song_s:  # the rest of the source fills the song: straight on, cut at its end
            kept = [kn for kn in knots if kn[0] < song_s]
            k_song, k_src = zip(*knots)
            end_src = np.interp(song_s, k_song, k_src) if song_s <= k_song[-1] else (
                k_src[-1] + (song_s - k_song[-1]) / scale)
            kept.append((song_s, float(end_src)))
            segments.append(WarpSegment(start, song_s, tuple(_bounded(kept)), mirrored))
            return tuple(segments)
        knots = knots[:len(knots) - (src_b.size - 1 - last)]  # up to the beat that closes the loop's bars
        segments.append(WarpSegment(start, knots[-1][0], tuple(_bounded(knots)), mirrored))
        k += 1


# ------------------------------------------------------------------------------------------------------ applying


def _sample(p: np.ndarray, fps: float, s: np.ndarray) -> np.ndarray:
    """The source at times ``s`` [N] (s), clamped to its frames: [N, 18, 2], linear between the two frames around
    each time; a joint NaN in either of them (with a weight above 0) is NaN."""
    f = np.clip(s * fps, 0.0, p.shape[0] - 1)  # [N] frame positions
    near = np.rint(f)
    f = np.where(np.abs(f - near) < 1e-6, near, f)  # a time on a frame takes that frame exactly
    i = np.floor(f).astype(np.int64)
    w = (f - i)[:, None, None]  # [N, 1, 1]
    j = np.minimum(i + 1, p.shape[0] - 1)
    mixed = p[i] * (1.0 - w) + p[j] * w
    return np.where(w == 0, p[i], mixed)


def _centre_x(pose: np.ndarray, width: float) -> float:
    """The body's centre x (px) of one pose [18, 2]: the mean x of its seen torso joints, else of all its seen
    joints, else width / 2."""
    for joints in (list(TORSO), list(range(18))):
        x = pose[joints, 0]
        x = x[np.isfinite(x)]
        if x.size:
            return float(x.mean())
    return width / 2.0


def _segment_poses(p: np.ndarray, fps: float, seg: WarpSegment, t: np.ndarray, centre: float) -> np.ndarray:
    """The source through one segment at song times ``t`` [N]: [N, 18, 2], mirrored about x = ``centre`` if the
    segment is."""
    out = _sample(p, fps, seg.source_time(t))
    if seg.mirrored:
        out = out[:, list(MIRROR)]
        out[..., 0] = 2.0 * centre - out[..., 0]
    return out


def _segment_of(segments: Sequence[WarpSegment], t: np.ndarray) -> np.ndarray:
    """Index of the segment whose span holds each song time ``t`` [N]: [N] int (the first before, the last after)."""
    starts = np.asarray([seg.song_start_s for seg in segments])
    return np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(segments) - 1)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """3x^2 - 2x^3 of x clipped to [0, 1]: 0 to 1 with zero slope at both ends (slope 1.5 at most)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def apply_warp(poses: np.ndarray, fps: float, segments: Sequence[WarpSegment], out_fps: float, n_frames: int,
               width: float, *, mirror_x: float | None = None, blend_s: float = BLEND_S) -> np.ndarray:
    """The source danced on the song's clock: [n_frames, 18, 2] float32 px, frame k at song time k / out_fps.

    ``poses`` [T, 18, 2] px (NaN = not seen) at ``fps``; ``segments`` a warp (:func:`plan_warp`, :func:`keep_timing`
    or a record read back). Frame k shows the segment whose span holds k / out_fps (the first before it, the last
    after it), sampled at its source time, linear between source frames (NaN-aware, see :func:`_sample`), clamped
    to the source's first and last frames. A mirrored segment swaps left and right (MIRROR) and flips x about
    ``mirror_x``, or by default about the body's centre (:func:`_centre_x`) at the segment's start (``width`` / 2
    when no joint is seen there), so the dancer stays in place. Around each boundary between segments the two fade
    into each other over ``blend_s`` s (at most half of either segment; smoothstep weights; NaN if either is), so a
    jump J between the end of one loop and the start of the next adds at most 1.5 J / (blend_s out_fps) per frame.
    """
    p = check_poses(poses)
    fps = check_rate(fps, "the motion's frames per second")
    out_fps = check_rate(out_fps, "the output frames per second")
    segments = tuple(segments)
    _check_segments(segments)
    if int(n_frames) != n_frames or n_frames < 0:
        raise MotionError(f"the number of output frames must be a whole number >= 0, got {n_frames!r}")
    t = np.arange(int(n_frames)) / out_fps  # [N] song s
    centres = []
    for seg in segments:
        at_start = _sample(p, fps, seg.source_time([seg.song_start_s]))[0]  # [18, 2]
        centres.append(float(mirror_x) if mirror_x is not None else _centre_x(at_start, width))
    which = _segment_of(segments, t)
    out = np.empty((t.size, 18, 2))
    for k, seg in enumerate(segments):
        mask = which == k
        if mask.any():
            out[mask] = _segment_poses(p, fps, seg, t[mask], centres[k])
    for k in range(len(segments) - 1):
        a, b = segments[k], segments[k + 1]
        w = min(blend_s, 0.5 * (a.song_end_s - a.song_start_s), 0.5 * (b.song_end_s - b.song_start_s))
        mask = np.abs(t - a.song_end_s) < w / 2.0
        if w <= 0 or not mask.any():
            continue
        alpha = _smoothstep((t[mask] - (a.song_end_s - w / 2.0)) / w)[:, None, None]
        out[mask] = ((1.0 - alpha) * _segment_poses(p, fps, a, t[mask], centres[k])
                     + alpha * _segment_poses(p, fps, b, t[mask], centres[k + 1]))
    return out.astype(np.float32)


def source_frames(segments: Sequence[WarpSegment], fps: float, n_source: int, out_fps: float,
                  n_frames: int) -> np.ndarray:
    """For each output frame, the source frame it is mostly taken from: [n_frames] int64 in [0, n_source - 1] (the
    segment's source time x fps, rounded; for a side-by-side preview)."""
    fps = check_rate(fps, "the motion's frames per second")
    out_fps = check_rate(out_fps, "the output frames per second")
    segments = tuple(segments)
    _check_segments(segments)
    t = np.arange(int(n_frames)) / out_fps
    which = _segment_of(segments, t)
    s = np.empty(t.size)
    for k, seg in enumerate(segments):
        s[which == k] = seg.source_time(t[which == k])
    return np.clip(np.rint(s * fps), 0, max(0, int(n_source) - 1)).astype(np.int64)
