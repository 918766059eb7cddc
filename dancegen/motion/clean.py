"""Cleaning a read motion: lost joints and frames with nobody filled, jitter smoothed, sharp stops kept.

1. A missing neck is the middle of the shoulders where both are seen (DWPose's and OpenPose's neck).
2. Every joint lost for a while is drawn straight from where it was last seen to where it is seen again (linear
   in time, so nothing jumps across a gap); before the first and after the last sighting it is held. Frames with
   nobody followed are filled the same way. A face joint (nose, eyes, ears) lost for longer than
   ``max_face_gap_s`` while the body is seen stays unseen (NaN): the head is turned away, as the choreographer
   draws it. A joint never seen stays NaN (the fitting gives it the photo body's own bone).
3. Jitter: a Savitzky-Golay filter along time (``scipy.signal.savgol_filter``, window 7, order 2: what DWPose's
   maintainer suggests for its keypoints), on every stretch of frames a joint is known. A second-order fit over
   7 frames follows a stop within about two frames, where a moving average of the same width smears it over all 7.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import savgol_filter

from ..pose.topology import HEAD_JOINTS, JOINTS, J
from .track import MIN_SCORE


@dataclass(frozen=True)
class CleanConfig:
    min_score: float = MIN_SCORE  # a joint is seen above this confidence
    window: int = 7  # Savitzky-Golay window, frames (odd; shortened for shorter motions)
    order: int = 2  # Savitzky-Golay polynomial order
    max_face_gap_s: float = 0.5  # a face joint lost longer than this while the body is seen stays unseen


@dataclass(frozen=True)
class CleanReport:
    """What the cleaning did: report.json's ``motion.cleaning``."""

    frames: int  # frames of motion
    frames_without_person: int  # frames where nobody was followed (all their joints filled)
    joint_frames_filled: int  # joints filled in frames where the person was seen (lost joints)
    face_frames_hidden: int  # face joints left unseen: the head turned away
    joints_never_seen: tuple[str, ...]  # joints never seen (given the photo body's bones)
    smoothing: str  # the jitter filter

    def to_json(self) -> dict:
        return {"frames": self.frames, "frames_without_person": self.frames_without_person,
                "joint_frames_filled": self.joint_frames_filled, "face_frames_hidden": self.face_frames_hidden,
                "joints_never_seen": list(self.joints_never_seen), "smoothing": self.smoothing}


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of every run of True in a [T] bool mask, end exclusive."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def fill_joint(track: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """One joint [T, 2] known where ``seen`` [T] -> [T, 2] linear in time across every gap, held at the ends."""
    t = np.arange(len(track))
    known = np.flatnonzero(seen)
    return np.stack([np.interp(t, known, track[known, k]) for k in range(2)], axis=1)


def smooth(poses: np.ndarray, window: int = 7, order: int = 2) -> np.ndarray:
    """Savitzky-Golay along time on every run of frames where a joint is known: [T, 18, 2] -> [T, 18, 2]."""
    out = poses.copy()
    for j in range(poses.shape[1]):
        for a, b in runs(np.isfinite(poses[:, j]).all(axis=1)):
            w = min(window, b - a)
            w -= 1 - w % 2  # odd
            if w > order:
                out[a:b, j] = savgol_filter(poses[a:b, j], w, order, axis=0)
    return out


def clean_motion(poses: np.ndarray, scores: np.ndarray, found: np.ndarray, fps: float,
                 config: CleanConfig = CleanConfig()) -> tuple[np.ndarray, CleanReport]:
    """Read poses [T, 18, 2] (NaN: not seen), confidences [T, 18] and found [T] -> (clean poses [T, 18, 2] float64,
    the report), as the module docstring says."""
    p = np.array(poses, dtype=np.float64)
    seen = np.isfinite(p).all(axis=-1) & (np.asarray(scores) > config.min_score) & np.asarray(found)[:, None]
    p[~seen] = np.nan
    neck, rs, ls = J["Neck"], J["RShoulder"], J["LShoulder"]
    derive = ~seen[:, neck] & seen[:, rs] & seen[:, ls]
    p[derive, neck] = (p[derive, rs] + p[derive, ls]) / 2
    seen[derive, neck] = True
    out = np.full_like(p, np.nan)
    filled = hidden = 0
    longest_face = max(1, int(round(config.max_face_gap_s * fps)))
    for j in range(18):
        if not seen[:, j].any():
            continue
        out[:, j] = fill_joint(p[:, j], seen[:, j])
        lost = ~seen[:, j] & found
        filled += int(lost.sum())
        if j in HEAD_JOINTS:
            for a, b in runs(lost):
                if b - a > longest_face:
                    out[a:b, j] = np.nan
                    hidden += b - a
    report = CleanReport(frames=len(p), frames_without_person=int((~np.asarray(found)).sum()),
                         joint_frames_filled=filled - hidden, face_frames_hidden=hidden,
                         joints_never_seen=tuple(JOINTS[j] for j in range(18) if not seen[:, j].any()),
                         smoothing=f"Savitzky-Golay, window {config.window}, order {config.order}")
    return smooth(out, config.window, config.order), report
