"""Fitting a clean motion to the photo's body: the source dancer's movement on the photo person's bones, starting
where the person stands in the photo.

Each bone (an OpenPose-18 limb, walked from the neck outwards: :data:`~dancegen.pose.topology.LIMBS`) is scaled by
the photo body's length of it over the source's median length of it, so a bone seen shorter in some frames
(foreshortened: turned towards the camera) stays shorter by the same share. The neck's path is scaled by the body
ratio (all the photo's bones over all the source's), and the whole motion is moved so that frame 0 stands where the
photo's body stands: the middle of its ankles on the photo's (its neck where the ankles are not known). A joint the
source never shows takes the photo body's own bone from its parent. Everything is done in the layout's work px
(square) and stretched by its ``y_stretch`` at the end, like the photo's pixels.
"""

from __future__ import annotations

import numpy as np

from ..pose.layout import BodyLayout
from ..pose.topology import ANKLES, LIMBS, J
from .errors import MotionError


def bone_medians(poses: np.ndarray) -> np.ndarray:
    """[17] median length of each LIMBS bone over the frames where both its joints are known (NaN: never)."""
    out = np.full(len(LIMBS), np.nan)
    for k, (a, b) in enumerate(LIMBS):
        d = np.hypot(*(poses[:, b] - poses[:, a]).T)
        d = d[np.isfinite(d)]
        if d.size:
            out[k] = float(np.median(d))
    return out


def bone_scales(poses: np.ndarray, body: BodyLayout) -> tuple[np.ndarray, float]:
    """(per-bone scales [17] (NaN: a bone never seen), the body ratio): the photo's bone length over the source's
    median. MotionError when the source body has no size."""
    medians = bone_medians(poses)
    target = np.asarray(body.bone_lengths, dtype=np.float64)
    ok = np.isfinite(medians) & (medians > 1e-6)
    if not ok.any() or medians[ok].sum() < 1e-3:
        raise MotionError("the motion's body has no size (all its joints lie on one spot)")
    with np.errstate(divide="ignore", invalid="ignore"):
        scales = np.where(ok, target / medians, np.nan)
    return scales, float(target[ok].sum() / medians[ok].sum())


def fit_to_body(poses: np.ndarray, body: BodyLayout) -> np.ndarray:
    """Clean source poses [T, 18, 2] (source px; NaN: unseen) -> poses [T, 18, 2] float64 canvas px on ``body``
    (see the module docstring). Joints unseen in a frame stay NaN there."""
    src = np.asarray(poses, dtype=np.float64)
    scales, ratio = bone_scales(src, body)
    photo = body.work_keypoints()  # [18, 2] work px
    neck = J["Neck"]
    if not np.isfinite(src[:, neck]).any():
        raise MotionError("the motion never shows the neck or both shoulders")
    first = np.flatnonzero(np.isfinite(src[:, neck]).all(axis=1))[0]
    out = np.full_like(src, np.nan)
    out[:, neck] = ratio * (src[:, neck] - src[first, neck])
    for k, (a, b) in enumerate(LIMBS):
        if np.isfinite(scales[k]):
            out[:, b] = out[:, a] + scales[k] * (src[:, b] - src[:, a])
        else:  # never seen with its parent: the photo's own bone
            out[:, b] = out[:, a] + (photo[b] - photo[a])
    ankles = list(ANKLES)
    if np.isfinite(out[0, ankles]).all():
        shift = photo[ankles].mean(axis=0) - out[0, ankles].mean(axis=0)
    else:
        shift = photo[neck] - out[first, neck]
    return (out + shift) * np.array([1.0, body.y_stretch])


def bone_length_error(poses: np.ndarray, body: BodyLayout) -> float:
    """How far the bones of canvas poses [T, 18, 2] are from the photo body's, on average: the mean over bones
    of |mean length over frames / the photo's length - 1| (work px)."""
    work = np.asarray(poses, dtype=np.float64) / np.array([1.0, body.y_stretch])
    errors = []
    for k, (a, b) in enumerate(LIMBS):
        d = np.hypot(*(work[:, b] - work[:, a]).T)
        d = d[np.isfinite(d)]
        if d.size and body.bone_lengths[k] > 0:
            errors.append(abs(float(d.mean()) / float(body.bone_lengths[k]) - 1.0))
    return float(np.mean(errors)) if errors else float("nan")
