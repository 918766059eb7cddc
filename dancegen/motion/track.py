"""Following one person through the frames: the largest at the start, then, frame by frame, the candidate nearest
to where the followed person was heading (their joints' last positions moved on by their last velocities), so two
dancers crossing are not swapped. A frame whose nearest candidate is too far (more than ``max_jump`` times the
followed body's size from the prediction) has nobody in it for the track. After frames without the person the
prediction stops moving on (a few frames at most) and the distance allowed grows, so they are found again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .openpose import People

MIN_SCORE = 0.3  # a joint counts as seen above this confidence (DWPose's drawing threshold)
MIN_JOINTS = 4  # a candidate with fewer seen joints is nobody (DWPose gives a body even in an empty picture)
MAX_PREDICT = 3  # frames the last velocity is carried on for (beyond, the person is looked for from there)
REGAIN_FRAMES = 10  # each this many frames without the person, one more body size of distance is allowed


@dataclass(frozen=True)
class Tracked:
    """One person's poses through the frames."""

    poses: np.ndarray  # [T, 18, 2] float64 image px; NaN: not seen (or nobody followed in that frame)
    scores: np.ndarray  # [T, 18] float64 confidences (0: not seen)
    found: np.ndarray  # [T] bool: the person was found in that frame
    most_people: int  # the most people seen in one frame


def seen_joints(kps: np.ndarray, scores: np.ndarray, min_score: float = MIN_SCORE) -> np.ndarray:
    """[..., 18] bool: joints with finite coordinates and a confidence above ``min_score``."""
    return np.isfinite(kps).all(axis=-1) & (scores > min_score)


def size_of(kps: np.ndarray, seen: np.ndarray) -> float:
    """The diagonal of the box around the seen joints of one body (px); 0 with fewer than two."""
    pts = kps[seen]
    if len(pts) < 2:
        return 0.0
    return float(np.hypot(*(pts.max(axis=0) - pts.min(axis=0))))


def _distance(cand: np.ndarray, cand_seen: np.ndarray, pred: np.ndarray, pred_seen: np.ndarray) -> float:
    """Median distance of the joints seen in both; the distance of their centres when none is."""
    both = cand_seen & pred_seen
    if both.any():
        return float(np.median(np.hypot(*(cand[both] - pred[both]).T)))
    return float(np.hypot(*(cand[cand_seen].mean(axis=0) - pred[pred_seen].mean(axis=0))))


def track(frames: Sequence[People], max_jump: float = 1.0, min_score: float = MIN_SCORE) -> Tracked:
    """Follow one person through ``frames`` (each: candidates [N, 18, 2] and confidences [N, 18]) -> Tracked;
    ``found`` is all False when nobody is in any frame."""
    n = len(frames)
    poses, scores = np.full((n, 18, 2), np.nan), np.zeros((n, 18))
    found = np.zeros(n, dtype=bool)
    last = velocity = None  # [18, 2] the followed joints' last positions and velocities (px per frame)
    last_t, size, most = -1, 0.0, 0
    for t, (kps, conf) in enumerate(frames):
        seen = seen_joints(kps, conf, min_score)  # [N, 18]
        ok = [i for i in range(len(kps)) if seen[i].sum() >= MIN_JOINTS]
        most = max(most, len(ok))
        if not ok:
            continue
        if last is None:  # the start: the largest person
            pick = max(ok, key=lambda i: size_of(kps[i], seen[i]))
        else:
            gap = t - last_t
            pred = last + velocity * min(gap, MAX_PREDICT)
            pred_seen = np.isfinite(pred).all(axis=1)
            dists = {i: _distance(kps[i], seen[i], pred, pred_seen) for i in ok}
            pick = min(dists, key=dists.get)
            if dists[pick] > max_jump * max(size, 1.0) * (1.0 + (gap - 1) / REGAIN_FRAMES):
                continue
        now = np.where(seen[pick][:, None], kps[pick], np.nan)
        if last is None:
            velocity = np.zeros((18, 2))
        elif t - last_t > MAX_PREDICT:  # found again after a while: its old velocity says nothing now
            velocity = np.zeros((18, 2))
        else:
            step = (now - last) / (t - last_t)
            velocity = np.where(np.isfinite(step), step, 0.0)
        last = np.where(np.isfinite(now), now, last if last is not None else np.nan)
        last_t, size = t, max(size_of(kps[pick], seen[pick]), 0.5 * size)
        poses[t], scores[t], found[t] = now, np.where(seen[pick], conf[pick], 0.0), True
    return Tracked(poses=poses, scores=scores, found=found, most_people=most)
