"""The beats of a brought dance: the moments it stops (minima of its mean joint speed), and the checks of its poses
and rates that the warp shares.

``poses`` [T, 18, 2] (px, OpenPose-18, NaN = joint not seen), frame t at t / fps.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from ..pose.speed import mean_seen_speed
from .errors import MotionError

__all__ = ["MIN_DIP_SHARE", "MIN_SPACING_S", "SMOOTH_S", "STILL_BH", "check_poses", "check_rate", "motion_beats"]

SMOOTH_S = 5.0 / 60.0  # Gaussian width (s) of the speed smoothing before its minima are found (as the BA metric)
MIN_SPACING_S = 0.25  # two motion beats at least this far apart (s): 240 stops a minute at most
MIN_DIP_SHARE = 0.1  # a stop's speed dip (prominence) at least this share of the 90th-percentile speed
STILL_BH = 0.05  # a source whose most moving joint strays less than this many body sizes (90th pct.) is still


def check_rate(value: float, what: str) -> float:
    """``value`` as a positive finite float, else a MotionError naming ``what``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise MotionError(f"{what} must be a number, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise MotionError(f"{what} must be a positive number, got {value!r}")
    return v


def check_poses(poses) -> np.ndarray:
    """``poses`` as float64 [T, 18, 2] with T >= 1, else a MotionError."""
    p = np.asarray(poses, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (18, 2) or p.shape[0] < 1:
        raise MotionError(f"motion poses must have shape [frames, 18, 2], got {list(p.shape)}")
    return p


# ------------------------------------------------------------------------------------------------ motion beats


def _mean_speed(p: np.ndarray, fps: float) -> np.ndarray | None:
    """Mean over the seen joints of the joint speed (px / s, central differences) [T] (see
    :func:`~dancegen.pose.speed.mean_seen_speed`)."""
    return mean_seen_speed(np.linalg.norm(np.gradient(p, axis=0), axis=-1) * fps)  # [T, 18] -> [T]


def _body_size(p: np.ndarray) -> float:
    """Median over frames of the seen joints' extent (the larger of the y and x ranges, px); 0 if none."""
    seen = np.isfinite(p)
    low = np.where(seen, p, np.inf).min(axis=1)  # [T, 2]
    high = np.where(seen, p, -np.inf).max(axis=1)
    extent = (high - low).max(axis=1)  # [T], -inf without a seen joint
    extent = extent[np.isfinite(extent)]
    return float(np.median(extent)) if extent.size else 0.0


def _motion_extent(p: np.ndarray) -> float:
    """How far the most moving joint strays from its median place: the largest over joints (seen on 3 frames or
    more) of the 90th percentile over frames of the distance to it, in body sizes (:func:`_body_size`); 0 without
    one. Detector jitter on a still body stays far below a dance's reach (STILL_BH)."""
    size = _body_size(p)
    seen = np.isfinite(p[..., 0])  # [T, 18]
    reach = [0.0]
    for j in np.flatnonzero(seen.sum(axis=0) >= 3):
        q = p[seen[:, j], j]  # [n, 2]
        reach.append(float(np.percentile(np.linalg.norm(q - np.median(q, axis=0), axis=-1), 90)))
    return max(reach) / size if size > 0 else 0.0


def motion_beats(poses: np.ndarray, fps: float, smooth_s: float = SMOOTH_S,
                 min_spacing_s: float = MIN_SPACING_S) -> np.ndarray:
    """The motion's beats: times (s, frame t at t / fps) where the dance stops, [M] float64 increasing.

    ``poses`` [T, 18, 2] px, NaN = joint not seen. The speed of a frame is the mean over its seen joints of the joint
    speed, smoothed with a Gaussian of ``smooth_s`` s; its local minima at least ``min_spacing_s`` apart whose dip
    (prominence) is at least MIN_DIP_SHARE of the 90th-percentile speed are the beats, each refined between frames
    by the parabola through its frame and the two beside it. The first and last frames never count. A source with
    beats of its own (its audio's) can pass those to :func:`plan_warp` instead.

    Raises MotionError for fps <= 0, fewer than 3 frames showing the body, a still source (no joint strays
    STILL_BH body sizes: :func:`_motion_extent`) or no beat at all.
    """
    p = check_poses(poses)
    fps = check_rate(fps, "the motion's frames per second")
    speed = _mean_speed(p, fps) if p.shape[0] >= 3 else None
    if speed is None:
        raise MotionError("the motion source shows a body on fewer than 3 frames: too short to find its beats")
    if _motion_extent(p) < STILL_BH:
        raise MotionError("no beats found in the motion source: the body stands still (no joint moves more than "
                          f"{STILL_BH:g} of its size)")
    if smooth_s > 0:
        speed = gaussian_filter1d(speed, smooth_s * fps, mode="nearest")
    dip = max(MIN_DIP_SHARE * float(np.percentile(speed, 90)), 1e-9)
    minima, _ = find_peaks(-speed, distance=max(1, int(round(min_spacing_s * fps))), prominence=dip)
    if minima.size == 0:
        raise MotionError("no beats found in the motion source: the dancer never stops between moves")
    a, b, c = speed[minima - 1], speed[minima], speed[minima + 1]
    den = a - 2.0 * b + c
    offset = np.where(den > 0, 0.5 * (a - c) / np.where(den > 0, den, 1.0), 0.0)
    return (minima + np.clip(offset, -0.5, 0.5)) / fps


# ----------------------------------------------------------------------------------------------------- segments
