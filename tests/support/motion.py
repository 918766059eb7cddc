"""Synthetic dance motions with known content, and writing them as OpenPose JSON files or a poses.npy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dancegen.motion.openpose import BODY25_FOR_18
from dancegen.pose.layout import DEFAULT_PROPORTIONS
from dancegen.pose.topology import J

FPS = 30.0


def dancer(frames: int, head: float = 20.0, x0: float = 160.0, travel: float = 0.0, swing: float = 1.0,
           phase: float = 0.0, fps: float = FPS) -> np.ndarray:
    """[frames, 18, 2] float64: a standing body ``head`` px per head height, crown at (x0 + travel * t, 20), its
    arms swinging up and down (``swing`` radians at most, one cycle a second) and its knees bending with them."""
    rest = DEFAULT_PROPORTIONS.template() * head  # [18, 2]
    t = np.arange(frames) / fps
    out = np.empty((frames, 18, 2))
    for i, ti in enumerate(t):
        p = rest.copy()
        angle = swing * np.sin(2 * np.pi * ti + phase)
        for side, sign in (("R", 1.0), ("L", -1.0)):
            sh = p[J[side + "Shoulder"]]
            rot = np.array([[np.cos(sign * angle), -np.sin(sign * angle)], [np.sin(sign * angle), np.cos(sign * angle)]])
            for joint in ("Elbow", "Wrist"):
                p[J[side + joint]] = sh + rot @ (rest[J[side + joint]] - sh)
        out[i] = p + np.array([x0 + travel * ti, 20.0])
    return out


def openpose_frame(people: list[np.ndarray], layout: str = "BODY_25", conf: float = 0.9) -> dict:
    """An OpenPose frame object of ``people`` (each [18, 2]; NaN joints written as 0, 0, 0)."""
    out = []
    for p in people:
        n = 25 if layout == "BODY_25" else 18
        flat = np.zeros((n, 3))
        for j in range(18):
            k = BODY25_FOR_18[j] if layout == "BODY_25" else j
            if np.isfinite(p[j]).all():
                flat[k] = (p[j, 0], p[j, 1], conf)
        if layout == "BODY_25":
            flat[8] = ((p[J["RHip"]] + p[J["LHip"]]) / 2).tolist() + [conf]  # MidHip, dropped on reading
        out.append({"person_id": [-1], "pose_keypoints_2d": flat.reshape(-1).tolist()})
    return {"version": 1.3, "people": out}


def write_openpose(folder: Path, frames: list[list[np.ndarray]], layout: str = "BODY_25") -> Path:
    """One ``clip_<000000000012>_keypoints.json`` per frame into ``folder`` (made) -> the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, people in enumerate(frames):
        (folder / f"clip_{i:012d}_keypoints.json").write_text(json.dumps(openpose_frame(people, layout)))
    return folder
