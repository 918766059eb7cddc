"""Motion metrics of a pose sequence [T, 18, 2] (canvas px): beat alignment, foot sliding, bone lengths, framing.

They apply to any :class:`~dancegen.choreo.interface.MusicToPose` output, and to poses re-detected in generated
frames.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from ..pose.topology import ANKLES, LIMBS


def beat_alignment_score(poses: np.ndarray, fps: float, beats_s, sigma: float = 0.05,
                         smooth_s: float = 5.0 / 60.0) -> float:
    """Bailando-style beat alignment: mean over music beats of exp(-d^2 / (2 sigma^2)), d = distance (s) to the
    nearest kinematic beat.

    Kinematic beats are the local minima of the mean joint speed: speed per frame by central differences (so a
    minimum on a frame is a strict minimum), smoothed with a Gaussian of ``smooth_s`` seconds (Bailando: 5 frames
    at 60 fps), minima found with ``scipy.signal.find_peaks`` on the negated speed (a flat minimum counts at its
    middle). Only beats strictly inside the clip (0, (T-1)/fps) are scored. Returns 0 when there is no beat or no
    kinematic beat.
    """
    p = np.asarray(poses, dtype=np.float64)
    beats = np.asarray(beats_s, dtype=np.float64).reshape(-1)
    t_last = (p.shape[0] - 1) / fps
    beats = beats[(beats > 0) & (beats < t_last)]
    if p.shape[0] < 3 or beats.size == 0:
        return 0.0
    vel = np.gradient(p, axis=0)  # [T, J, 2] px/frame, central differences inside
    speed = np.linalg.norm(vel, axis=-1).mean(axis=1)  # [T]
    if smooth_s > 0:
        speed = gaussian_filter1d(speed, smooth_s * fps, mode="nearest")
    minima, _ = find_peaks(-speed)
    if minima.size == 0:
        return 0.0
    kin = minima / fps  # [M] s
    d = np.abs(beats[:, None] - kin[None, :]).min(axis=1)  # [B]
    return float(np.mean(np.exp(-d ** 2 / (2 * sigma ** 2))))


def _leg_length(p: np.ndarray) -> float:
    """Median hip-knee-ankle length over frames and both legs (px)."""
    legs = []
    for hip, knee, ankle in ((8, 9, 10), (11, 12, 13)):
        legs.append(np.linalg.norm(p[:, knee] - p[:, hip], axis=-1) + np.linalg.norm(p[:, ankle] - p[:, knee], axis=-1))
    return float(np.median(np.concatenate(legs)))


def planted_mask(poses: np.ndarray, ground_tol: float = 0.03, speed_tol: float = 0.05) -> np.ndarray:
    """Which ankle is planted on each frame transition: [T-1, 2] bool (right ankle, left ankle).

    An ankle is planted from frame t-1 to t when, on both frames, it is within ``ground_tol`` x leg length of the
    lower ankle's height (the ground line is the lower ankle: y grows downwards), and it moves less than
    ``speed_tol`` x leg length per frame. The leg length is the median hip-knee-ankle length of the sequence.
    """
    p = np.asarray(poses, dtype=np.float64)
    ank = p[:, list(ANKLES)]  # [T, 2, 2]
    leg = _leg_length(p)
    ground = ank[:, :, 1].max(axis=1, keepdims=True)  # [T, 1] lower ankle y
    low = ank[:, :, 1] >= ground - ground_tol * leg  # [T, 2]
    step = np.linalg.norm(np.diff(ank, axis=0), axis=-1)  # [T-1, 2]
    return low[1:] & low[:-1] & (step < speed_tol * leg)


def foot_sliding_px(poses: np.ndarray, ground_tol: float = 0.03, speed_tol: float = 0.05) -> float:
    """Mean per-frame displacement (px) of ankles while planted (see :func:`planted_mask`); 0 if never planted."""
    p = np.asarray(poses, dtype=np.float64)
    if p.shape[0] < 2:
        return 0.0
    planted = planted_mask(p, ground_tol, speed_tol)
    step = np.linalg.norm(np.diff(p[:, list(ANKLES)], axis=0), axis=-1)  # [T-1, 2]
    return float(step[planted].mean()) if planted.any() else 0.0


def bone_length_variation(poses: np.ndarray, y_stretch: float = 1.0) -> float:
    """Largest relative deviation of any limb's length from that limb's median length over the sequence.

    ``y_stretch`` (``BodyLayout.y_stretch``) undoes a non-uniform canvas scaling before measuring.
    """
    p = np.asarray(poses, dtype=np.float64) / np.array([1.0, y_stretch])
    worst = 0.0
    for a, b in LIMBS:
        length = np.linalg.norm(p[:, b] - p[:, a], axis=-1)  # [T]
        med = float(np.median(length))
        if med > 1e-6:
            worst = max(worst, float(np.abs(length - med).max() / med))
    return worst


def fraction_inside(poses: np.ndarray, w: int, h: int) -> float:
    """Fraction of joint positions (all frames) with 0 <= x < w and 0 <= y < h (NaN counts as outside)."""
    p = np.asarray(poses, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        inside = (p[..., 0] >= 0) & (p[..., 0] < w) & (p[..., 1] >= 0) & (p[..., 1] < h)
    return float(inside.mean()) if inside.size else 0.0

