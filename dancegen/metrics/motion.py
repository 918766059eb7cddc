"""Motion metrics of a pose sequence [T, 18, 2] (canvas px): kinematic beats, beat alignment, foot sliding, bone
lengths, framing (the dance-level measures built on them are in :mod:`.dance`).

They apply to any :class:`~dancegen.choreo.interface.MusicToPose` output, and to poses re-detected in generated
frames.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from ..pose.detect import BodyDetector
from ..pose.speed import mean_seen_speed
from ..pose.topology import ANKLES, LIMBS


def kinematic_beats(poses: np.ndarray, fps: float, smooth_s: float = 5.0 / 60.0) -> np.ndarray | None:
    """Kinematic beats: the times (s, frame t at t / fps) of the local minima of the mean joint speed, [M] float.

    The speed of a joint per frame is taken by central differences (one-sided at the ends, so a minimum on a frame
    is a strict minimum), the mean over the 18 joints smoothed with a Gaussian of ``smooth_s`` seconds (Bailando: 5
    frames at 60 fps; 0 = no smoothing), and its minima found with ``scipy.signal.find_peaks`` on the negated speed
    (a flat minimum counts at its middle; the first and last frames never count). Empty with fewer than 3 frames.

    Joints may be NaN (not seen, e.g. in poses re-detected from video): the speed of a frame is then the mean over
    the joints whose speed is known, and frames with none are interpolated from their neighbours; None is returned
    when fewer than 3 frames have a known speed.
    """
    p = np.asarray(poses, dtype=np.float64)
    if p.shape[0] < 3:
        return np.zeros(0)
    vel = np.gradient(p, axis=0)  # [T, J, 2] px/frame, central differences inside
    joint_speed = np.linalg.norm(vel, axis=-1)  # [T, J]
    if np.isnan(joint_speed).any():
        speed = mean_seen_speed(joint_speed)
        if speed is None:
            return None
    else:
        speed = joint_speed.mean(axis=1)  # [T]
    if smooth_s > 0:
        speed = gaussian_filter1d(speed, smooth_s * fps, mode="nearest")
    minima, _ = find_peaks(-speed)
    return minima / fps  # [M] s


def beat_alignment_score(poses: np.ndarray, fps: float, beats_s, sigma: float = 0.05,
                         smooth_s: float = 5.0 / 60.0) -> float:
    """Bailando-style beat alignment: mean over music beats of exp(-d^2 / (2 sigma^2)), d = distance (s) to the
    nearest kinematic beat (:func:`kinematic_beats`, smoothed over ``smooth_s`` seconds).

    Only beats strictly inside the clip (0, (T-1)/fps) are scored. Returns 0 when there is no beat or no kinematic
    beat, NaN when the joints are seen on fewer than 3 frames (see :func:`kinematic_beats`).
    """
    p = np.asarray(poses, dtype=np.float64)
    beats = np.asarray(beats_s, dtype=np.float64).reshape(-1)
    t_last = (p.shape[0] - 1) / fps
    beats = beats[(beats > 0) & (beats < t_last)]
    if p.shape[0] < 3 or beats.size == 0:
        return 0.0
    kin = kinematic_beats(p, fps, smooth_s)  # [M] s
    if kin is None:
        return float("nan")
    if kin.size == 0:
        return 0.0
    d = np.abs(beats[:, None] - kin[None, :]).min(axis=1)  # [B]
    return float(np.mean(np.exp(-d ** 2 / (2 * sigma ** 2))))


class RedetectedMotion:
    """Poses re-detected in generated frames by a body keypoint model (on the real path the studio's DWPose
    :class:`~dancegen.pose.detect.BodyDetector`; anything with ``detect(rgb) -> BodyKeypoints | None``), every frame
    as it passes, then their beat alignment with the music. Joints scored below ``min_score`` (DWPose's drawing
    threshold) count as not seen; a frame "has a body" when at least ``min_joints`` joints are seen."""

    def __init__(self, detector: BodyDetector, n_frames: int, min_score: float = 0.3, min_joints: int = 8):
        self.detector, self.min_score, self.min_joints = detector, min_score, min_joints
        self.poses = np.full((n_frames, 18, 2), np.nan)  # [T, 18, 2] frame px; NaN = not seen (or not yet)

    def add(self, start: int, frames: np.ndarray) -> None:
        """Detect the body in each of ``frames`` [n, H, W, 3] (frames start .. start + n - 1)."""
        for i, frame in enumerate(frames):
            body = self.detector.detect(np.ascontiguousarray(frame))
            if body is not None:
                seen = np.asarray(body.scores) >= self.min_score  # [18]
                self.poses[start + i][seen] = np.asarray(body.keypoints)[seen]

    def body_rate(self) -> float:
        """Fraction of frames in which a body was seen."""
        seen = (~np.isnan(self.poses[..., 0])).sum(axis=1)  # [T]
        return float((seen >= self.min_joints).mean()) if len(seen) else 0.0

    def beat_alignment(self, fps: float, beats_s) -> float | None:
        """Beat alignment of the seen joints (see :func:`beat_alignment_score`); None when too few frames show one."""
        score = beat_alignment_score(self.poses, fps, beats_s)
        return None if np.isnan(score) else score


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

