"""Skeleton images for the pose encoder, drawn the way StableAnimator's training skeletons were drawn.

What was verified (repo Francis-Rings/StableAnimator at commit 020e7f23a768410e0183ce943397d96a609f4ec1, read with
the search/fetch tools; nothing copied):

* ``DWPose/training_skeleton_extraction.py`` (training poses) and ``DWPose/skeleton_extraction.py`` (inference
  poses) draw bodies with ``draw_bodypose_aligned`` / ``draw_bodypose``, which are the same code:
  - the 17 first pairs of the OpenPose limb list, each a filled convex polygon from ``cv2.ellipse2Poly`` centred on
    the limb midpoint (truncated to int), half-axes ``(int(length / 2), 4)``, angle ``int(degrees)``, delta 1;
  - the 18 standard OpenPose colours; limb colour = ``int(c * score_a * score_b)`` per channel, joint colour =
    ``int(c * score)``;
  - a limb is skipped when either score is < 0.3, a joint when its score is <= 0.3 (its ``subset`` index is -1);
  - after the limbs the whole canvas is multiplied by 0.6 and truncated to uint8, then the joints are drawn as
    filled circles of radius 4 at ``int(x * W), int(y * H)``.
* ``draw_pose_aligned`` / ``draw_pose`` (``ref_w=2160``) do NOT draw at the output size: they draw on a canvas
  whose short side is 2160 px (``sr = 2160 / min(H, W)``, canvas ``int(H * sr) x int(W * sr)``) and shrink it with
  ``cv2.resize(canvas, (W, H))`` (bilinear). So at 512 x 512 a limb is about 9 / 4.22 ~ 2 px wide and a joint dot
  about 2 px across, not the 4 px of controlnet_aux's ``draw_bodypose`` (which draws at the output size). Training
  frames were 512x512 and 576x1024 (README), and the training poses were drawn at the frame's own size, so
  drawing at the generation canvas size with this super-sampling reproduces the training pictures.
* Channel order: the drawing puts ``colors[i]`` (e.g. [255, 0, 0] for the neck-right-shoulder limb) in channels
  0, 1, 2 of the canvas; ``draw_pose*`` then applies ``cv2.COLOR_BGR2RGB`` and the scripts save with
  ``cv2.imwrite``, which swaps the channels back. The saved PNG therefore holds the colour list *as RGB*
  (neck-right-shoulder limb red, right arm orange / yellow, ...), and the training dataset
  (``animation/dataset/animation_dataset.py``) and ``inference_basic.py`` read the PNGs with
  ``PIL.Image.open(...).convert('RGB')``: the pose net sees the colour list in RGB order. This module returns
  exactly that RGB array.
* The poses are then PIL-resized to (W, H) (a no-op when drawn at that size) and mapped to [-1, 1] as
  ``x / 127.5 - 1`` (see :func:`to_pose_tensor`).
* The StableAnimator skeletons also contain DWPose hand (21 x 2) and face (68) points; this module draws the body
  only, because the choreographer makes body keypoints only.

Coordinates here are canvas pixels (x right, y down), OpenPose-18 order (see ``dancegen.choreo.JOINTS``).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from dancegen.choreo import LIMBS

# OpenPose limb pairs as 0-based joint indices; DWPose draws the first 17 of its 19 (shoulder-ear is not drawn).
DRAWN_LIMBS = LIMBS

# The 18 OpenPose colours (RGB as saved on disk): limb i uses COLORS[i], joint j uses COLORS[j].
COLORS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
          (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
          (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))

STICK_WIDTH = 4  # ellipse minor half-axis in px of the super-sampled canvas
JOINT_RADIUS = 4  # joint circle radius in px of the super-sampled canvas
LIMB_BLEND = 0.6  # the canvas is scaled by this after the limbs are drawn
LIMB_MIN_SCORE = 0.3  # a limb is drawn when both scores are >= this
JOINT_MIN_SCORE = 0.3  # a joint is drawn when its score is > this
REF_SHORT_SIDE = 2160  # DWPose's ``ref_w``: short side of the super-sampled drawing canvas

# floor(v * 0.6) for v = 0..255, exactly what ``(canvas * 0.6).astype(np.uint8)`` gives, as a lookup table.
_BLEND_LUT = (np.arange(256, dtype=np.float64) * LIMB_BLEND).astype(np.uint8)


class SkeletonInputError(ValueError):
    """A pose or canvas size that cannot be drawn."""


def _check_size(width: int, height: int) -> tuple[int, int]:
    if int(width) < 8 or int(height) < 8:
        raise SkeletonInputError(f"the canvas must be at least 8 x 8 px, got {width} x {height}")
    return int(width), int(height)


def _scores(pose: np.ndarray, width: int, height: int, scores: np.ndarray | None) -> np.ndarray:
    """Per-joint scores [18]: given or 1.0, and 0 for joints that are NaN or outside the canvas."""
    s = np.ones(18, dtype=np.float64) if scores is None else np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.shape != (18,):
        raise SkeletonInputError(f"expected 18 joint scores, got {s.shape[0]}")
    s = np.where(np.isfinite(s), s, 0.0)
    finite = np.isfinite(pose).all(axis=1)
    inside = finite & (pose[:, 0] >= 0) & (pose[:, 0] < width) & (pose[:, 1] >= 0) & (pose[:, 1] < height)
    return np.where(inside, s, 0.0)


def render_pose(pose: np.ndarray, width: int, height: int, scores: np.ndarray | None = None,
                ref_short_side: int = REF_SHORT_SIDE) -> np.ndarray:
    """One OpenPose-18 body, ``pose`` [18, 2] canvas px, -> RGB uint8 image [height, width, 3] on black.

    ``scores`` [18] are DWPose-style confidences (default 1.0, which gives the pure colours); they darken the colours
    exactly as in StableAnimator's drawing. Joints that are NaN or outside the canvas are treated as missing
    (score 0): their dots and limbs are not drawn, as a detector would report a body part out of view.
    """
    width, height = _check_size(width, height)
    pose = np.asarray(pose, dtype=np.float64)
    if pose.shape != (18, 2):
        raise SkeletonInputError(f"a pose must be 18 joints x (x, y), got shape {pose.shape}")
    score = _scores(pose, width, height, scores)

    short = min(height, width)
    sr = ref_short_side / short if short != ref_short_side else 1.0
    big_h, big_w = int(height * sr), int(width * sr)
    canvas = np.zeros((big_h, big_w, 3), dtype=np.uint8)  # [big_h, big_w, 3], channels = RGB as saved
    # normalised coordinates (what DWPose stores) times the big canvas size
    px = np.where(np.isfinite(pose), pose, 0.0) / np.array([width, height], dtype=np.float64)
    px = px * np.array([float(big_w), float(big_h)])  # [18, 2] big-canvas px

    for i, (a, b) in enumerate(DRAWN_LIMBS):
        if score[a] < LIMB_MIN_SCORE or score[b] < LIMB_MIN_SCORE:
            continue
        (xa, ya), (xb, yb) = px[a], px[b]
        length = math.hypot(xa - xb, ya - yb)
        angle = math.degrees(math.atan2(ya - yb, xa - xb))
        centre = (int((xa + xb) / 2.0), int((ya + yb) / 2.0))
        polygon = cv2.ellipse2Poly(centre, (int(length / 2), STICK_WIDTH), int(angle), 0, 360, 1)
        alpha = score[a] * score[b]
        cv2.fillConvexPoly(canvas, polygon, [int(c * alpha) for c in COLORS[i]])

    cv2.LUT(canvas, _BLEND_LUT, dst=canvas)  # canvas = floor(canvas * 0.6)

    for j in range(18):
        if score[j] <= JOINT_MIN_SCORE:
            continue
        centre = (int(px[j, 0]), int(px[j, 1]))
        cv2.circle(canvas, centre, JOINT_RADIUS, [int(c * score[j]) for c in COLORS[j]], thickness=-1)

    if (big_w, big_h) == (width, height):
        return canvas
    return cv2.resize(canvas, (width, height))  # bilinear, as DWPose's draw_pose


def render_sequence(poses: np.ndarray, width: int, height: int, scores: np.ndarray | None = None) -> np.ndarray:
    """Poses [T, 18, 2] canvas px (scores [T, 18] or [18] or None) -> RGB uint8 frames [T, height, width, 3]."""
    width, height = _check_size(width, height)
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[1:] != (18, 2):
        raise SkeletonInputError(f"poses must have shape [T, 18, 2], got {poses.shape}")
    if scores is not None:
        scores = np.broadcast_to(np.asarray(scores, dtype=np.float64), (poses.shape[0], 18))
    frames = np.empty((poses.shape[0], height, width, 3), dtype=np.uint8)  # [T, H, W, 3]
    for t in range(poses.shape[0]):
        frames[t] = render_pose(poses[t], width, height, None if scores is None else scores[t])
    return frames


def to_pose_tensor(frames: np.ndarray) -> torch.Tensor:
    """RGB uint8 frames [T, H, W, 3] -> float32 tensor [T, 3, H, W] in [-1, 1] (x / 127.5 - 1, StableAnimator's)."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise SkeletonInputError(f"expected uint8 frames [T, H, W, 3], got {frames.dtype} {frames.shape}")
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()  # [T, 3, H, W]
    return x / 127.5 - 1.0
