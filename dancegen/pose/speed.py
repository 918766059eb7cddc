"""How fast a pose sequence moves: the mean speed of the joints a detector saw, per frame (the dance's beats are its
minima, for the metrics and for a brought dance alike)."""

from __future__ import annotations

import numpy as np


def mean_seen_speed(joint_speed: np.ndarray) -> np.ndarray | None:
    """Mean over the known (not NaN) joints of each frame's speed [T, J] -> [T]; frames without a known joint are
    interpolated from their neighbours; None when fewer than 3 frames have one."""
    known = ~np.isnan(joint_speed)
    count = known.sum(axis=1)  # [T]
    ok = count > 0
    if ok.sum() < 3:
        return None
    speed = np.where(known, joint_speed, 0.0).sum(axis=1) / np.maximum(count, 1)  # [T]
    frames = np.arange(len(speed))
    return np.interp(frames, frames[ok], speed[ok])
