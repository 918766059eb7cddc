"""A training sample's crop: the part of the clip's frames that becomes the sample, at the training size's aspect
around the dancer, so that no sample is ever stretched (the rule inference uses for photos, :mod:`dancegen.pose.
reference`).

The box is the union of the joints seen in the window's frames (confidence above :data:`JOINT_SEEN` where the poses
have confidences, finite coordinates), grown by :data:`MARGIN_HEADS` head heights on every side as far as the frame
has room, then widened (or heightened) about its centre to the training size's aspect and moved inside the frame
where the frame is large enough. Where it is not (a tall dancer in a wide frame trained at a portrait size, say) the
box reaches outside the frame and that part is filled, as inference fills photos, with a blurred extension of the
frame's edges (:meth:`dancegen.pose.reference.ReferenceCrop.apply`). A window without any seen joint gets the
largest box of the aspect in the frame's centre.

The crop is a :class:`~dancegen.pose.reference.ReferenceCrop`: frames go through ``apply`` then a resize to the
training size, and joints and face boxes through :func:`to_sample` (the same shift and scale), so a skeleton drawn in
the sample lies on the dancer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import PIL.Image

from ..pose.layout import DEFAULT_PROPORTIONS
from ..pose.reference import ReferenceCrop, segment_start
from ..pose.topology import J

JOINT_SEEN = 0.3  # a joint counts as seen above this confidence (the skeleton drawing's threshold)
MARGIN_HEADS = 1.0  # head heights kept around the seen joints (the crown is 0.65 above the nose) where there is room
STATURE_HEADS = 7.5  # a standing adult's height in head heights (the proportions' ankle is at 7.25)
MIN_SIDE = 8  # px: the smallest box side (a window whose joints all coincide)


def seen(poses: np.ndarray) -> np.ndarray:
    """[..., 18, 2 or 3] poses -> [..., 18] bool: the joints seen (finite, confidence > JOINT_SEEN if given)."""
    poses = np.asarray(poses, dtype=np.float64)
    mask = np.isfinite(poses[..., :2]).all(axis=-1)
    if poses.shape[-1] == 3:
        mask &= np.isfinite(poses[..., 2]) & (poses[..., 2] > JOINT_SEEN)
    return mask


def seen_joints(poses: np.ndarray) -> np.ndarray:
    """[F, 18, 2 or 3] poses -> [N, 2] the seen joints of every frame."""
    poses = np.asarray(poses, dtype=np.float64)
    return poses[..., :2][seen(poses)]


def head_height(poses: np.ndarray) -> float | None:
    """The dancer's head height (crown to chin, px) over the window: the median of each frame's nose-to-neck
    distance and half shoulder width measured against the standing proportions; None when no frame shows them."""
    poses = np.asarray(poses, dtype=np.float64)
    p = DEFAULT_PROPORTIONS
    estimates = []
    nose, neck, right, left = (J[n] for n in ("Nose", "Neck", "RShoulder", "LShoulder"))
    for pose, visible in zip(poses, seen(poses)):
        if visible[nose] and visible[neck]:
            estimates.append(np.hypot(*(pose[neck, :2] - pose[nose, :2])) / (p.shoulder[1] - p.nose[1]))
        if visible[right] and visible[left]:
            estimates.append(np.hypot(*(pose[right, :2] - pose[left, :2])) / (2 * p.shoulder[0]))
    estimates = [e for e in estimates if e > 0]
    return float(np.median(estimates)) if estimates else None


def _to_aspect(width: float, height: float, aspect: float) -> tuple[int, int]:
    """The smallest integer (w, h) with w / h = ``aspect`` to a pixel that holds width x height."""
    if width / height < aspect:
        width = height * aspect
    w = max(1, math.ceil(width - 1e-6))
    h = max(1, round(w / aspect))
    if h < height - 1e-6:
        h = math.ceil(height - 1e-6)
        w = max(1, round(h * aspect))
    return w, h


def sample_crop(poses: np.ndarray, frame_size: Sequence[int], size: Sequence[int]) -> ReferenceCrop:
    """The crop of a window whose poses are ``poses`` [F, 18, 2 or 3] (frame px) in frames of ``frame_size``
    (width, height), for samples of ``size`` (W, H); see the module docstring."""
    fw, fh = (int(v) for v in frame_size)
    aspect = int(size[0]) / int(size[1])
    pts = seen_joints(poses)
    if len(pts) == 0:
        w, h = _to_aspect(min(fw, fh * aspect), min(fh, fw / aspect), aspect)
        x, y = round((fw - w) / 2), round((fh - h) / 2)
        return ReferenceCrop(box=(x, y, x + w, y + h), photo_size=(fw, fh), canvas=(int(size[0]), int(size[1])))
    jx0, jy0 = pts.min(axis=0)
    jx1, jy1 = pts.max(axis=0)
    head = head_height(poses) or max((jy1 - jy0) / STATURE_HEADS, min(fw, fh) / 16)
    margin = MARGIN_HEADS * head
    # the margin as far as the frame has room; the joints themselves always stay in the box
    x0, y0 = max(jx0 - margin, min(0.0, jx0)), max(jy0 - margin, min(0.0, jy0))
    x1, y1 = min(jx1 + margin, max(float(fw), jx1)), min(jy1 + margin, max(float(fh), jy1))
    w, h = _to_aspect(max(x1 - x0, MIN_SIDE), max(y1 - y0, MIN_SIDE), aspect)
    x = round(segment_start(w, fw, x0, x1, (x0 + x1) / 2 - w / 2))  # whole pixels
    y = round(segment_start(h, fh, y0, y1, (y0 + y1) / 2 - h / 2))
    return ReferenceCrop(box=(x, y, x + w, y + h), photo_size=(fw, fh), canvas=(int(size[0]), int(size[1])))


def centre_crop(picture_size: Sequence[int], size: Sequence[int]) -> ReferenceCrop:
    """The largest box of ``size``'s aspect in the middle of a picture of ``picture_size`` (a reference.png whose
    size differs from the frames': cropped around its own centre, never stretched)."""
    pw, ph = (int(v) for v in picture_size)
    aspect = int(size[0]) / int(size[1])
    w = min(pw, max(1, round(ph * aspect)))
    h = min(ph, max(1, round(w / aspect)))
    x, y = (pw - w) // 2, (ph - h) // 2
    return ReferenceCrop(box=(x, y, x + w, y + h), photo_size=(pw, ph), canvas=(int(size[0]), int(size[1])))


def to_sample(crop: ReferenceCrop, points: np.ndarray) -> np.ndarray:
    """Frame px -> sample px: [..., 2] points or [4] boxes (x0, y0, x1, y1), through the crop then the resize."""
    pts = crop.to_reference(points)
    scale = np.array(crop.canvas, dtype=np.float64) / np.array(crop.size, dtype=np.float64)
    return pts * (np.tile(scale, 2) if pts.shape == (4,) else scale)


def cropped(crop: ReferenceCrop, image: PIL.Image.Image | np.ndarray) -> np.ndarray:
    """The sample's picture: ``image`` (of the crop's frame size) cropped (padded where the box leaves it) and
    resized to the training size. -> [H, W, 3] uint8."""
    picture = image if isinstance(image, PIL.Image.Image) else PIL.Image.fromarray(np.asarray(image))
    out = crop.apply(picture.convert("RGB"))
    if out.size != tuple(crop.canvas):
        out = out.resize(tuple(crop.canvas), PIL.Image.Resampling.BICUBIC)
    return np.asarray(out, dtype=np.uint8)
