"""Small training clips made in the tests: the astronaut photo panned across the frame, with known poses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from dancegen.io.video import write_mp4
from support.paths import ASTRONAUT

SIZE = 96  # frame side, px
# a standing OpenPose-18 body on a 96 px frame (x, y): nose, neck, right arm, left arm, right leg, left leg, eyes, ears
STANDING = np.array([[48, 20], [48, 32], [38, 33], [34, 46], [32, 58], [58, 33], [62, 46], [64, 58], [42, 58],
                     [41, 74], [40, 90], [54, 58], [55, 74], [56, 90], [45, 18], [51, 18], [42, 19], [54, 19]],
                    dtype=np.float32)


def astronaut_frames(frames: int, shift: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """([T, 96, 96, 3] uint8 frames, [T, 18, 2] poses): a square crop of the astronaut sliding ``shift`` px per
    frame (the body keypoints slide with it), a different start per seed."""
    with Image.open(ASTRONAUT) as im:
        photo = np.asarray(im.convert("RGB").resize((SIZE + shift * frames + 16, SIZE + 16)))
    start = seed * 3 % 16
    video = np.stack([photo[8:8 + SIZE, start + shift * t:start + shift * t + SIZE] for t in range(frames)])
    poses = np.stack([STANDING - [shift * t, 0] for t in range(frames)]).astype(np.float32)
    return video, poses


def make_clip(folder: Path, frames: int = 10, seed: int = 0, boxes: bool = True) -> Path:
    """A clip folder: video.mp4, poses.npy and (``boxes``) face_boxes.npy around the moving face."""
    folder.mkdir(parents=True, exist_ok=True)
    video, poses = astronaut_frames(frames, seed=seed)
    write_mp4(video, 8, folder / "video.mp4")
    np.save(folder / "poses.npy", poses)
    if boxes:
        face = np.array([36, 8, 62, 34], np.float32)
        np.save(folder / "face_boxes.npy", np.stack([face - [2 * t, 0, 2 * t, 0] for t in range(frames)]))
    return folder
