"""Dance-level measures of a pose sequence [T, 18, 2] (canvas px, OpenPose-18, y down, frame t at t / fps): how the
dance meets the beat, how fast and how big it moves, turns, repeats, and the motion checks of :mod:`.motion`.

Lengths are in body heights (bh): the neck-to-ankle distance of the first frame (:func:`body_height_px`), in px as
given (a pose whose y is stretched is measured stretched), so a number means the same on any canvas.

:func:`dance_metrics` returns them all as one flat dict (None = no value, never a silent 0)::

    beat_alignment                  Bailando: mean over music beats inside the clip of exp(-d^2 / 2 sigma^2), d (s) to
                                    the nearest kinematic beat; sigma 0.05 s. High by construction for a dance
                                    that stops on every count (BEAT_ALIGNMENT_NOTE); 0 with no kinematic beat
    beat_alignment_motion           FACT: the same mean over kinematic beats, d to the nearest music beat: falls
                                    when the dance stops where there is no beat
    kinematic_beats_per_music_beat  kinematic beats / music beats inside the clip (1: one stop a count; 2: a stop
                                    between every two counts as well; 0.5: a stop on every other count)
    beat_precision                  share of kinematic beats within +-0.08 s of a music beat (chance level about
                                    2 x 0.08 s / beat period, 0.32 at 120 bpm)
    body_height_px                  neck-to-ankle distance on frame 0 (px)
    joint_speed_median_bh_s         median over frames and the 18 joints of the joint speed (bh / s)
    joint_speed_mean_bh_s           mean of the same
    wrist_speed_median_bh_s         median over frames and both wrists of the wrist speed (bh / s)
    hands_up_share                  share of frames with a wrist above the shoulder line (mean shoulder y)
    travel_bh                       range of the hip centre's x over the dance (bh)
    level_range_bh                  range of the neck's height over the dance (bh): squats, bends, rises
    turns                           times the shoulders narrow to <= 0.5 of their frame-0 width and widen again
    min_shoulder_ratio              smallest shoulder width / frame-0 width
    back_view_s                     longest run (s) with the shoulders in the reverse of frame 0's order
    repeat_distance_bh              mean joint distance (bh, joints relative to the hip centre) between sections
                                    with the same label, starts aligned
    different_distance_bh           the same between sections with different labels
    repeat_ratio                    repeat_distance_bh / different_distance_bh (0: repeats danced alike)
    distinct_moves_per_minute       distinct move names of the plan x 60 / (frames / fps); None without a list
    foot_sliding_px                 mean ankle displacement (px / frame) while planted (motion.planted_mask)
    bone_length_variation           largest relative deviation of a limb's length from its median (None when
                                    a joint is unknown)
    fraction_inside                 share of joint positions inside the canvas
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..pose.topology import ANKLES, J
from .motion import (beat_alignment_score, bone_length_variation, foot_sliding_px, fraction_inside, kinematic_beats,
                     planted_mask)

__all__ = ["BEAT_ALIGNMENT_NOTE", "back_view_s", "beat_alignment_motion", "beat_precision", "body_height_px",
           "dance_metrics", "distinct_moves_per_minute", "hands_up_share", "joint_speed_bh", "kinematic_beats",
           "kinematic_beats_per_music_beat", "level_range_bh", "section_repetition", "travel_bh", "turns",
           "wrist_speed_bh"]

# Said next to Bailando's beat alignment wherever it is shown (README, bench, report notes).
BEAT_ALIGNMENT_NOTE = ("beat_alignment (Bailando's, over music beats) is high by construction for a dance that stops "
                       "on every count; beat_alignment_motion (FACT's, over the dance's stops) and beat_precision "
                       "fall when it also stops off the beat, kinematic_beats_per_music_beat says how many stops a "
                       "count it makes.")

SIGMA_S = 0.05  # Gaussian width (s) of both beat alignment scores (Bailando: 3 frames at 60 fps)
SMOOTH_S = 5.0 / 60.0  # speed smoothing (s) before finding kinematic beats (Bailando: 5 frames at 60 fps)
TOL_S = 0.08  # a kinematic beat within this many seconds of a music beat is on it (2 frames at 25 fps)
TURN_RATIO = 0.5  # shoulders at most this share of their frame-0 width: turned away
TURN_BACK_RATIO = 0.75  # ... and a turn ends when they are wider than this share again


def _beats(beats_s) -> np.ndarray:
    """Finite music beat times (s) [B]."""
    b = np.asarray(beats_s, dtype=np.float64).reshape(-1)
    return b[np.isfinite(b)]


def beat_alignment_motion(poses: np.ndarray, fps: float, beats_s, sigma: float = SIGMA_S,
                          smooth_s: float = SMOOTH_S) -> float | None:
    """FACT-style beat alignment: mean over kinematic beats (:func:`~.motion.kinematic_beats`) of
    exp(-d^2 / (2 sigma^2)), d = distance (s) to the nearest music beat (any beat given, also outside the clip).

    1 when every stop of the dance is on a beat, whatever share of the beats it stops on. None when there is no
    kinematic beat or no music beat (or the joints are seen on too few frames).
    """
    kin = kinematic_beats(poses, fps, smooth_s)
    beats = _beats(beats_s)
    if kin is None or kin.size == 0 or beats.size == 0:
        return None
    d = np.abs(kin[:, None] - beats[None, :]).min(axis=1)  # [M] s
    return float(np.mean(np.exp(-d ** 2 / (2 * sigma ** 2))))


def kinematic_beats_per_music_beat(poses: np.ndarray, fps: float, beats_s,
                                   smooth_s: float = SMOOTH_S) -> float | None:
    """Kinematic beats per music beat: the number of kinematic beats over the number of music beats strictly inside
    the clip (0, (T-1)/fps). 1 for one stop a count, more with extra stops, less with stops on fewer counts. None
    without a music beat inside the clip (or when the joints are seen on too few frames)."""
    p = np.asarray(poses)
    beats = _beats(beats_s)
    t_last = (p.shape[0] - 1) / fps
    n_beats = int(((beats > 0) & (beats < t_last)).sum())
    kin = kinematic_beats(p, fps, smooth_s)
    if kin is None or n_beats == 0:
        return None
    return kin.size / n_beats


def beat_precision(poses: np.ndarray, fps: float, beats_s, tol_s: float = TOL_S,
                   smooth_s: float = SMOOTH_S) -> float | None:
    """Precision of the kinematic beats: the share of them within +-``tol_s`` seconds of a music beat. Stops placed
    at random hit about 2 tol / beat period of the time. None when there is no kinematic beat or no music beat."""
    kin = kinematic_beats(poses, fps, smooth_s)
    beats = _beats(beats_s)
    if kin is None or kin.size == 0 or beats.size == 0:
        return None
    d = np.abs(kin[:, None] - beats[None, :]).min(axis=1)  # [M] s
    return float(np.mean(d <= tol_s))


def body_height_px(poses: np.ndarray) -> float | None:
    """Body height (px): the mean of the two neck-to-ankle distances on the first frame where the neck and both
    ankles are known. None when no frame has them or the height is 0."""
    p = np.asarray(poses, dtype=np.float64)
    d = np.linalg.norm(p[:, list(ANKLES)] - p[:, [J["Neck"]]], axis=-1).mean(axis=1)  # [T] px, NaN where unknown
    known = np.flatnonzero(np.isfinite(d) & (d > 0))
    return float(d[known[0]]) if known.size else None


def _speeds_bh(poses: np.ndarray, fps: float, joints) -> np.ndarray | None:
    """Speeds (bh / s) of ``joints`` between consecutive frames [T-1, len(joints)], NaN where a joint is unknown; None
    with fewer than 2 frames or no body height."""
    p = np.asarray(poses, dtype=np.float64)
    bh = body_height_px(p)
    if p.shape[0] < 2 or bh is None:
        return None
    return np.linalg.norm(np.diff(p[:, list(joints)], axis=0), axis=-1) * fps / bh


def joint_speed_bh(poses: np.ndarray, fps: float) -> tuple[float | None, float | None]:
    """(median, mean) over frame transitions and the 18 joints of the joint speed |p(t+1) - p(t)| x fps, in body
    heights per second; (None, None) without a body height, fewer than 2 frames or no known joint."""
    s = _speeds_bh(poses, fps, range(18))
    if s is None or not np.isfinite(s).any():
        return None, None
    return float(np.nanmedian(s)), float(np.nanmean(s))


def wrist_speed_bh(poses: np.ndarray, fps: float) -> float | None:
    """Median over frame transitions and both wrists of the wrist speed (body heights / s); None as
    :func:`joint_speed_bh`."""
    s = _speeds_bh(poses, fps, (J["RWrist"], J["LWrist"]))
    if s is None or not np.isfinite(s).any():
        return None
    return float(np.nanmedian(s))


def hands_up_share(poses: np.ndarray) -> float | None:
    """Share of frames with a hand above the shoulders: either wrist strictly higher (smaller y) than the shoulder
    line, the mean y of the two shoulders on that frame. Frames without the shoulders count in the total (an unknown
    wrist is not up); None for no frame."""
    p = np.asarray(poses, dtype=np.float64)
    if p.shape[0] == 0:
        return None
    line = p[:, [J["RShoulder"], J["LShoulder"]], 1].mean(axis=1, keepdims=True)  # [T, 1] y
    with np.errstate(invalid="ignore"):
        up = (p[:, [J["RWrist"], J["LWrist"]], 1] < line).any(axis=1)  # [T]
    return float(up.mean())


def _hip_centre(p: np.ndarray) -> np.ndarray:
    """Midpoint of the two hips [T, 2] px."""
    return p[:, [J["RHip"], J["LHip"]]].mean(axis=1)


def travel_bh(poses: np.ndarray) -> float | None:
    """Travel: the range (max - min) of the hip centre's x over the dance, in body heights. Only x: in a front view
    the hip centre's y moves with squats and bends (:func:`level_range_bh`), not with travel. None without a body
    height or a known hip centre."""
    p = np.asarray(poses, dtype=np.float64)
    bh = body_height_px(p)
    x = _hip_centre(p)[:, 0]
    if bh is None or not np.isfinite(x).any():
        return None
    return float((np.nanmax(x) - np.nanmin(x)) / bh)


def level_range_bh(poses: np.ndarray) -> float | None:
    """Level range: the range (max - min) of the neck's y over the dance, in body heights: how far it sinks below
    (squat, bend) or rises above standing. None without a body height or a known neck."""
    p = np.asarray(poses, dtype=np.float64)
    bh = body_height_px(p)
    y = p[:, J["Neck"], 1]
    if bh is None or not np.isfinite(y).any():
        return None
    return float((np.nanmax(y) - np.nanmin(y)) / bh)


def _shoulder_ratio(p: np.ndarray) -> np.ndarray | None:
    """Shoulder width (2D distance) on each frame over that of frame 0 [T]; None when frame 0 has no width."""
    d = p[:, J["LShoulder"]] - p[:, J["RShoulder"]]  # [T, 2]
    w = np.linalg.norm(d, axis=-1)
    if not (np.isfinite(w[0]) and w[0] > 0):
        return None
    return w / w[0]


def turns(poses: np.ndarray, ratio: float = TURN_RATIO,
          back: float = TURN_BACK_RATIO) -> tuple[int | None, float | None]:
    """(turns, min ratio): the number of times the shoulder width (2D distance between the shoulders) falls to
    <= ``ratio`` x its frame-0 width and comes back above ``back`` x that width (a narrowing still open at the end
    does not count), and the smallest width / frame-0 width. A turn to the side and back is one narrowing; a full
    turn through the back view is two. (None, None) when frame 0 has no shoulder width."""
    r = _shoulder_ratio(np.asarray(poses, dtype=np.float64))
    if r is None:
        return None, None
    count, narrow = 0, False
    for v in r:
        if not np.isfinite(v):
            continue
        if not narrow and v <= ratio:
            narrow = True
        elif narrow and v > back:
            narrow, count = False, count + 1
    return count, float(np.nanmin(r))


def back_view_s(poses: np.ndarray, fps: float) -> float | None:
    """Longest run (s, frames / fps) of frames with the shoulders in the reverse of frame 0's left-right order (the
    right shoulder's x on the other side of the left shoulder's): the longest back view. None when frame 0's
    shoulders share an x."""
    p = np.asarray(poses, dtype=np.float64)
    dx = p[:, J["LShoulder"], 0] - p[:, J["RShoulder"], 0]  # [T]
    if not (np.isfinite(dx[0]) and dx[0] != 0):
        return None
    with np.errstate(invalid="ignore"):
        reversed_ = dx * np.sign(dx[0]) < 0  # [T]
    best = run = 0
    for v in reversed_:
        run = run + 1 if v else 0
        best = max(best, run)
    return best / fps


def _section_bounds(section) -> tuple[str, float, float]:
    """(label, start_s, end_s) of a tuple or of anything with those attributes (music.Section)."""
    if hasattr(section, "label"):
        return section.label, float(section.start_s), float(section.end_s)
    label, start, end = section
    return label, float(start), float(end)


def section_repetition(poses: np.ndarray, fps: float, sections: Sequence) -> dict[str, float | None]:
    """How alike repeated sections are danced. ``sections``: (label, start_s, end_s) tuples or objects with those
    fields; a section covers frames round(start_s fps) .. round(end_s fps) - 1 inside the clip.

    For every pair of sections, their frames are compared with starts aligned over the shorter one's length: the
    mean over those frames and the 18 joints of the distance (body heights) between the joints taken relative to
    each frame's hip centre (so travel between the sections does not count). Returns ``repeat_distance_bh`` (mean
    over pairs with the same label), ``different_distance_bh`` (pairs with different labels) and ``repeat_ratio``
    (their ratio); each None where there are no such pairs (or the ratio's divisor is 0).
    """
    p = np.asarray(poses, dtype=np.float64)
    out: dict[str, float | None] = {"repeat_distance_bh": None, "different_distance_bh": None, "repeat_ratio": None}
    bh = body_height_px(p)
    if bh is None:
        return out
    rel = p - _hip_centre(p)[:, None]  # [T, 18, 2] joints relative to the hip centre
    spans = []
    for section in sections:
        label, start, end = _section_bounds(section)
        a, b = max(0, int(round(start * fps))), min(p.shape[0], int(round(end * fps)))
        if b > a:
            spans.append((label, a, b))
    same, different = [], []
    for i, (label_i, a_i, b_i) in enumerate(spans):
        for label_j, a_j, b_j in spans[i + 1:]:
            n = min(b_i - a_i, b_j - a_j)
            d = np.linalg.norm(rel[a_i:a_i + n] - rel[a_j:a_j + n], axis=-1)  # [n, 18] px
            if np.isfinite(d).any():
                (same if label_i == label_j else different).append(float(np.nanmean(d)) / bh)
    if same:
        out["repeat_distance_bh"] = float(np.mean(same))
    if different:
        out["different_distance_bh"] = float(np.mean(different))
    if same and different and out["different_distance_bh"] > 0:
        out["repeat_ratio"] = out["repeat_distance_bh"] / out["different_distance_bh"]
    return out


def distinct_moves_per_minute(move_names: Sequence[str] | None, seconds: float) -> float | None:
    """Distinct move names x 60 / ``seconds`` (the plan's moves over the dance's length); None without a move list
    or a length. It counts the whole dance's vocabulary, so compare dances of the same length."""
    if move_names is None or seconds <= 0:
        return None
    return len(set(move_names)) * 60.0 / seconds


def dance_metrics(poses: np.ndarray, fps: float, beats_s, canvas_w: int, canvas_h: int, sections: Sequence = (),
                  move_names: Sequence[str] | None = None, y_stretch: float = 1.0) -> dict[str, float | None]:
    """All the measures of the module docstring for one dance, as a flat dict of floats (None = no value, NaN
    included).

    ``poses`` [T, 18, 2] canvas px; ``beats_s`` [B] music beat times (s); ``sections`` (label, start_s, end_s) or
    music.Section items; ``move_names`` the plan's moves in order (None: not known); ``y_stretch`` the layout's
    vertical stretch, undone for the bone-length check only.
    """
    p = np.asarray(poses, dtype=np.float64)
    seconds = p.shape[0] / fps
    kin = kinematic_beats(p, fps, SMOOTH_S)
    ba = beat_alignment_score(p, fps, beats_s, SIGMA_S, SMOOTH_S)
    inside = _beats(beats_s)
    inside = inside[(inside > 0) & (inside < (p.shape[0] - 1) / fps)]
    speed_median, speed_mean = joint_speed_bh(p, fps)
    n_turns, min_ratio = turns(p)
    sliding = None
    if p.shape[0] >= 2 and planted_mask(p).any():
        sliding = foot_sliding_px(p)
    out: dict[str, float | None] = {
        # Bailando's score is 0 with no stop at all (a real value); no value without beats or a seen body
        "beat_alignment": None if kin is None or inside.size == 0 else ba,
        "beat_alignment_motion": beat_alignment_motion(p, fps, beats_s, SIGMA_S, SMOOTH_S),
        "kinematic_beats_per_music_beat": kinematic_beats_per_music_beat(p, fps, beats_s, SMOOTH_S),
        "beat_precision": beat_precision(p, fps, beats_s, TOL_S, SMOOTH_S),
        "body_height_px": body_height_px(p),
        "joint_speed_median_bh_s": speed_median,
        "joint_speed_mean_bh_s": speed_mean,
        "wrist_speed_median_bh_s": wrist_speed_bh(p, fps),
        "hands_up_share": hands_up_share(p),
        "travel_bh": travel_bh(p),
        "level_range_bh": level_range_bh(p),
        "turns": None if n_turns is None else float(n_turns),
        "min_shoulder_ratio": min_ratio,
        "back_view_s": back_view_s(p, fps),
        **section_repetition(p, fps, sections),
        "distinct_moves_per_minute": distinct_moves_per_minute(move_names, seconds),
        "foot_sliding_px": sliding,
        "bone_length_variation": bone_length_variation(p, y_stretch) if p.size and np.isfinite(p).all() else None,
        "fraction_inside": fraction_inside(p, canvas_w, canvas_h) if p.size else None,
    }
    return {k: None if v is None or not np.isfinite(v) else float(v) for k, v in out.items()}
