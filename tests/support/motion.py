"""Synthetic dance motions with known content, writing them as OpenPose JSON files, and a stand-in dance video
with stand-in DWPose models that see a standing body in it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from support.audio_synth import synth_track
from support.onnx_models import constant_model

from dancegen.io.video import write_mp4
from dancegen.motion.openpose import BODY25_FOR_18
from dancegen.pose.detect import COCO_FOR_OPENPOSE, DETECTOR_FILE, POSE_FILE
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
            c, s = np.cos(sign * angle), np.sin(sign * angle)
            rot = np.array([[c, -s], [s, c]])
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


W, H, VIDEO_FPS, FRAMES = 96, 128, 12, 18  # the stand-in dance video


def standing_in_crop() -> np.ndarray:
    """[18, 2] a standing body in the pose model's input px (40 px a head, crown at (144, 30))."""
    return DEFAULT_PROPORTIONS.template() * 40.0 + np.array([144.0, 30.0])


def stand_in_standing_dwpose(root):
    """DWPose's two files in ``root/DWPose``: no person box (the whole picture is the crop) and a standing body."""
    folder = root / "DWPose"
    folder.mkdir(parents=True)
    raw = np.zeros((1, 8400, 85))
    constant_model(folder / DETECTOR_FILE, "images", [1, 3, 640, 640], {"output": raw})
    sx, sy = np.zeros((1, 133, 576)), np.zeros((1, 133, 768))
    body = standing_in_crop()
    for j, c in enumerate(COCO_FOR_OPENPOSE):
        if c is not None:
            sx[0, c, int(round(2 * body[j, 0]))], sy[0, c, int(round(2 * body[j, 1]))] = 0.9, 0.8
    constant_model(folder / POSE_FILE, "input", [1, 3, 384, 288], {"simcc_x": sx, "simcc_y": sy})
    return root


def dance_video(path, seconds: float = FRAMES / VIDEO_FPS, fps: float = VIDEO_FPS):
    """A grey clip with a drum track: what the detector sees does not matter to the stand-in models."""
    samples, sr = synth_track(120, seconds, sr=22050, style="drums", seed=2)[0], 22050
    frames = np.full((round(seconds * fps), H, W, 3), 90, np.uint8)
    return write_mp4(iter(frames), fps, path, audio=samples, sr=sr)
