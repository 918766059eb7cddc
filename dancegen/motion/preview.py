"""The motion preview (``motion_source.mp4``): the brought dance on the left (its video frames, or its skeleton drawn
as DWPose draws one) beside the skeleton fitted to the photo's body on the right, both at the same height, frame by
frame on the output's clock.

Which source frame stands beside output frame k is the caller's ``order`` (for a warped dance
:func:`.warp.source_frames`: the source frame each output frame was taken from), so the left side slows, speeds,
loops and cuts with the warp and the two can be compared move by move.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from ..io import video
from ..pose.render import SkeletonFrames
from .errors import MotionError

__all__ = ["GAP_PX", "side_by_side_frames", "write_preview"]

GAP_PX = 4  # black columns between the two sides


def _is_poses(left) -> bool:
    """Whether ``left`` holds poses ([T, 18, 2] or a sequence of [18, 2]) rather than video frames."""
    if isinstance(left, np.ndarray):
        return left.ndim == 3 and left.shape[1:] == (18, 2)
    return len(left) > 0 and np.shape(left[0]) == (18, 2)


def _left_width(size_wh: tuple[int, int], height: int) -> int:
    """Width (px) of a side of ``size_wh`` (w, h) scaled to ``height``, keeping its aspect; at least 1."""
    w, h = size_wh
    if w <= 0 or h <= 0:
        raise MotionError(f"the motion source's size must be positive, got {w} x {h}")
    return max(1, int(round(w * height / h)))


def side_by_side_frames(left, fitted_poses: np.ndarray, width: int, height: int, *,
                        source_size: tuple[int, int] | None = None, order: Sequence[int] | None = None,
                        gap: int = GAP_PX) -> Iterator[np.ndarray]:
    """The preview, one frame per fitted pose: an iterator of [height, left_w + gap + width, 3] uint8 RGB frames, each
    made as it is asked for (the arguments are checked at the call).

    ``left``: the source's video frames (an array [T, H, W, 3] uint8 RGB or a sequence of such frames, all of one
    size), or its poses ([T, 18, 2] px on a ``source_size`` (w, h) canvas, NaN = not seen), drawn with
    :class:`~dancegen.pose.render.SkeletonFrames` (body, hands and face); either is scaled to ``height`` keeping its
    aspect (left_w wide). ``fitted_poses`` [N, 18, 2] px on the ``width`` x ``height`` canvas, drawn the same way
    on the right. ``order`` [N]: the left item shown beside each fitted frame (default: the same index, the last
    item once the source runs out). Raises MotionError for an empty source, poses without ``source_size``, or an
    ``order`` of the wrong length or out of range.
    """
    fitted = np.asarray(fitted_poses, dtype=np.float64)
    if fitted.ndim != 3 or fitted.shape[1:] != (18, 2):
        raise MotionError(f"fitted poses must have shape [frames, 18, 2], got {list(fitted.shape)}")
    if len(left) == 0:
        raise MotionError("the motion source has no frames to show")
    n = fitted.shape[0]
    index = np.minimum(np.arange(n), len(left) - 1) if order is None else np.asarray(order, dtype=np.int64)
    if index.shape != (n,) or (n and (index.min() < 0 or index.max() >= len(left))):
        raise MotionError(f"the preview's frame order must give {n} source frames in 0..{len(left) - 1}")
    if _is_poses(left):
        if source_size is None:
            raise MotionError("a motion source given as poses needs its canvas size to be drawn")
        left_w = _left_width(source_size, height)
        scale = np.array([left_w / source_size[0], height / source_size[1]])
        left_frames = SkeletonFrames(np.asarray(left, dtype=np.float64) * scale, left_w, height)
    else:
        first = np.asarray(left[0])
        if first.ndim != 3 or first.shape[2] != 3:
            raise MotionError(f"motion source frames must be [height, width, 3] RGB, got {list(first.shape)}")
        left_w = _left_width((first.shape[1], first.shape[0]), height)
        left_frames = left
    return _frames(left_frames, left_w, SkeletonFrames(fitted, width, height), index, gap)


def _frames(left: Sequence, left_w: int, right: Sequence, index: np.ndarray, gap: int) -> Iterator[np.ndarray]:
    """Frame k: ``left[index[k]]`` (resized to left_w x the right side's height if it is not) beside ``right[k]``."""
    for k, i in enumerate(index):
        item = np.asarray(left[int(i)], dtype=np.uint8)
        side = right[k]
        height = side.shape[0]
        if item.shape[:2] != (height, left_w):
            item = cv2.resize(item, (left_w, height), interpolation=cv2.INTER_AREA)
        frame = np.zeros((height, left_w + gap + side.shape[1], 3), dtype=np.uint8)
        frame[:, :left_w] = item
        frame[:, left_w + gap:] = side
        yield frame


def write_preview(path, left, fitted_poses: np.ndarray, fps: float, width: int, height: int, *,
                  source_size: tuple[int, int] | None = None, order: Sequence[int] | None = None) -> Path:
    """Write the preview (:func:`side_by_side_frames`, silent) as an mp4 at ``fps`` to ``path``; -> the path."""
    frames = side_by_side_frames(left, fitted_poses, width, height, source_size=source_size, order=order)
    return video.write_mp4(frames, fps, path)
