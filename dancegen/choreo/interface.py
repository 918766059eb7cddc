"""The one thing the studio needs from a choreographer, and how any motion is fitted to the person in the photo.

:class:`MusicToPose`: ``poses = model(music, fps, seed, body, n_frames)`` -> ``[T, 18, 2]`` float32 canvas px with
frame t at time ``t / fps``. :class:`~dancegen.choreo.planner.ProceduralChoreographer` implements it with a table
of moves. A learned model (e.g. the music-to-pose encoder of a dance-generation paper) plugs in as another class
with the same ``__call__``: compute its audio features from ``music.samples`` / ``music.sr`` (or the beat grid),
sample its motion at ``fps`` for ``T`` frames, map its skeleton to OpenPose-18 if needed, and pass the result
through :func:`retarget_to_body`, which keeps the model's bone directions but uses the reference person's bone
lengths and starts at the reference pose, so frame 0 still matches the photo. The motion metrics of
:mod:`dancegen.metrics.motion` (beat alignment, foot sliding, bone lengths, framing) apply to any implementation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..pose.layout import BodyLayout
from ..pose.topology import LIMBS, J

if TYPE_CHECKING:  # the music stage is only needed for the type
    from ..music import MusicAnalysis


class ChoreographyError(ValueError):
    """Arguments a choreographer cannot work with (one-line message)."""


class MusicToPose(Protocol):
    """Anything that turns analysed music into a pose sequence for a given body."""

    def __call__(self, music: MusicAnalysis, fps: float, seed: int, body: BodyLayout,
                 n_frames: int | None = None) -> np.ndarray:
        """Poses [T, 18, 2] float32 canvas px; T = round(music.duration_s * fps) unless ``n_frames`` is given;
        frame t is at time t / fps (seconds from the start of the analysed segment); frame 0 = ``body.keypoints``."""
        ...


def retarget_to_body(poses: np.ndarray, body: BodyLayout) -> np.ndarray:
    """Poses [T, 18, 2] from any source (e.g. a learned model; any scale and origin, but the same unit on x and y,
    y down) -> the same motion on ``body``, [T, 18, 2] float32 canvas px.

    Each bone keeps its direction per frame but gets the body's length; the neck follows the source's neck motion
    scaled by the ratio of the two neck-to-hip lengths, starting at the body's frame-0 neck. The result is built in
    work space and stretched by ``body.y_stretch``. Frame 0 matches ``body.keypoints`` only if the source's frame 0
    has the same bone directions: a learned model should be conditioned on (or started from) the reference pose.
    Feet are not pinned: foot sliding is whatever the source has.
    """
    src = np.asarray(poses, dtype=np.float64)
    if src.ndim != 3 or src.shape[1:] != (18, 2) or not np.isfinite(src).all():
        raise ChoreographyError(f"poses must be finite [T, 18, 2], got shape {src.shape}")
    ref = body.work_keypoints()
    src_len = np.array([np.linalg.norm(src[:, b] - src[:, a], axis=-1).mean() for a, b in LIMBS])  # [17]
    torso = [LIMBS.index((1, 8)), LIMBS.index((1, 11))]
    ratio = body.bone_lengths[torso].mean() / max(src_len[torso].mean(), 1e-9)
    out = np.empty_like(src)
    out[:, J["Neck"]] = ref[J["Neck"]] + (src[:, J["Neck"]] - src[:1, J["Neck"]]) * ratio
    for k, (a, b) in enumerate(LIMBS):  # parents come first in LIMBS order for this tree
        d = src[:, b] - src[:, a]
        n = np.linalg.norm(d, axis=-1, keepdims=True)
        fallback = (ref[b] - ref[a]) / max(body.bone_lengths[k], 1e-9)
        unit = np.where(n > 1e-9, d / np.maximum(n, 1e-9), fallback)
        out[:, b] = out[:, a] + unit * body.bone_lengths[k]
    return (out * np.array([1.0, body.y_stretch])).astype(np.float32)

