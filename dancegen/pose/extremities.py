"""Hand and face keypoints synthesised from an OpenPose-18 body, so skeleton images can carry the DWPose hands and
face that StableAnimator's pose encoder saw in training (the choreographer makes body keypoints only).

Shapes and coordinates
    Everything is in canvas pixels (x right, y down), like the body poses of :mod:`dancegen.pose.layout`.

    * body pose: ``[18, 2]``, OpenPose-18 order of :data:`dancegen.pose.topology.JOINTS`;
    * hands: ``[2, 21, 2]``: index 0 is the person's **right** hand, index 1 the **left** one (for a person facing
      the camera the right hand is on the image-left); the 21 points are in OpenPose / COCO-WholeBody hand order:
      0 wrist, then 4 points per finger from the palm outwards: thumb 1-4 (CMC, MCP, IP, tip), index 5-8, middle
      9-12, ring 13-16, little 17-20 (MCP, PIP, DIP, tip);
    * face: ``[68, 2]`` in the iBUG 300-W layout (the DWPose / COCO-WholeBody face): jaw 0-16 from the person's right
      (image-left when facing the camera) round the chin to the left, brows 17-21 (right) and 22-26 (left), nose
      bridge 27-30 (30 = tip), nostrils 31-35, right eye 36-41, left eye 42-47, outer lips 48-59, inner lips 60-67.

    A hand or face that cannot be placed comes back as NaN (the whole hand / the whole face), which
    :func:`dancegen.pose.render.render_pose` skips, so sequences keep fixed shapes (``[T, 2, 21, 2]``, ``[T, 68, 2]``).

Hands
    A relaxed open hand, palm towards the camera (:data:`HAND_TEMPLATE`), whose length (wrist to middle fingertip)
    is ``hand_length_ratio`` (0.75) times the forearm (elbow to wrist), pointing along the elbow -> wrist direction,
    with its wrist on the body's wrist. The thumb is on the lateral side: for the right hand of a person facing the
    camera it is on the image-left when the arm hangs down, and it turns with the forearm. The left hand is the
    mirror image, and both flip when the person faces away (decided from the shoulders and hips). A hand is omitted
    when its wrist or elbow is missing: NaN, outside the canvas, or a score at or below ``min_score``.

Face
    A frontal 68-point template (:data:`FACE_TEMPLATE`, unit = distance between the eye centres, origin midway
    between them) placed by the least-squares similarity transform (scale, rotation, shift; no reflection) that maps
    its eye centres, nose tip and, where visible, ears onto the body's eyes, nose and ears. So it sits on the head
    and tilts and scales with it. It is omitted when the nose or either eye is missing, when the eyes (nearly)
    coincide, or when the eyes are mirrored about the nose (the person faces away: no face is visible).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .topology import J

N_HAND_POINTS = 21
N_FACE_POINTS = 68


class ExtremityInputError(ValueError):
    """A body pose or canvas from which hands and face cannot be synthesised (one-line message)."""


@dataclass(frozen=True)
class ExtremityConfig:
    """How hands and face are synthesised from the body."""

    hand_length_ratio: float = 0.75  # hand length (wrist to middle fingertip) / forearm length (elbow to wrist)
    min_score: float = 0.3  # a body joint with a score at or below this counts as missing (DWPose's joint cut)
    ear_weight: float = 0.5  # weight of each visible ear in the face fit (eyes and nose weigh 1)
    min_eye_distance_px: float = 1.0  # no face when the eyes are closer than this (degenerate fit)


# ------------------------------------------------------------------------------------------------ templates


def _build_hand_template() -> np.ndarray:
    """Right hand [21, 2] as (u, v) in hand lengths: u along the forearm from the wrist, v towards the thumb."""
    pts = np.zeros((N_HAND_POINTS, 2), dtype=np.float64)
    # thumb: CMC, MCP, IP, tip, fanning out ~40 degrees from the forearm axis
    pts[1:5] = ((0.10, 0.11), (0.22, 0.22), (0.33, 0.29), (0.43, 0.34))
    # fingers: MCP (u, v), direction from the forearm axis (degrees, + towards the thumb), MCP-to-tip length
    fingers = (((0.44, 0.13), 8.0, 0.48),  # index
               ((0.46, 0.035), 0.0, 0.55),  # middle
               ((0.44, -0.055), -7.0, 0.51),  # ring
               ((0.40, -0.14), -16.0, 0.40))  # little
    phalanx = (0.45, 0.30, 0.25)  # proximal, middle, distal share of the finger length
    relax = (0.97, 0.90, 0.85)  # projected length of each phalanx of a slightly bent, relaxed finger
    for f, ((u, v), angle, length) in enumerate(fingers):
        first = 5 + 4 * f
        direction = np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
        pts[first] = (u, v)
        for k in range(3):
            pts[first + k + 1] = pts[first + k] + direction * length * phalanx[k] * relax[k]
    return pts


def _build_face_template() -> np.ndarray:
    """Frontal face [68, 2] in iBUG 300-W order; unit = eye-centre distance, origin midway between the eye centres,
    x towards the image-right of a person facing the camera (their left), y down."""
    pts = np.zeros((N_FACE_POINTS, 2), dtype=np.float64)
    # jaw 0-16: a slightly squared half-superellipse from ear level round the chin (8)
    half_width, chin, top, power = 1.02, 1.75, 0.05, 2.0 / 2.6
    for k in range(17):
        phi = math.pi * k / 16.0
        c, s = math.cos(phi), math.sin(phi)
        pts[k] = (-math.copysign(abs(c) ** power, c) * half_width, top + (chin - top) * abs(s) ** power)
    # person's right side (image-left), listed the way iBUG walks it; the left side is its mirror image
    right_brow = ((-0.90, -0.22), (-0.78, -0.33), (-0.62, -0.37), (-0.45, -0.36), (-0.28, -0.31))  # 17-21, out->in
    right_eye = ((-0.72, 0.0), (-0.57, -0.075), (-0.43, -0.075), (-0.28, 0.0), (-0.43, 0.065), (-0.57, 0.065))
    pts[17:22] = right_brow
    pts[22:27] = [(-x, y) for x, y in reversed(right_brow)]  # 22-26, inner -> outer
    pts[27:31] = ((0.0, -0.05), (0.0, 0.18), (0.0, 0.41), (0.0, 0.64))  # nose bridge, 30 = tip
    pts[31:36] = ((-0.22, 0.74), (-0.11, 0.78), (0.0, 0.80), (0.11, 0.78), (0.22, 0.74))  # nostrils, left to right
    pts[36:42] = right_eye  # outer corner, upper lid, inner corner, lower lid
    # left eye 42-47: inner corner, upper lid (inner -> outer), outer corner, lower lid (outer -> inner)
    pts[42:48] = [(-x, y) for x, y in (right_eye[3], right_eye[2], right_eye[1], right_eye[0], right_eye[5],
                                       right_eye[4])]
    # outer lips 48-59: right corner, upper lip to the left corner (54), lower lip back
    pts[48:60] = ((-0.40, 1.08), (-0.26, 1.01), (-0.11, 0.97), (0.0, 0.99), (0.11, 0.97), (0.26, 1.01),
                  (0.40, 1.08), (0.27, 1.17), (0.13, 1.22), (0.0, 1.23), (-0.13, 1.22), (-0.27, 1.17))
    # inner lips 60-67: right corner, upper inner lip, left corner (64), lower inner lip back
    pts[60:68] = ((-0.34, 1.08), (-0.12, 1.05), (0.0, 1.06), (0.12, 1.05), (0.34, 1.08), (0.12, 1.11),
                  (0.0, 1.12), (-0.12, 1.11))
    return pts


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


HAND_TEMPLATE = _frozen(_build_hand_template())  # [21, 2] right hand, (u along forearm, v to thumb), hand lengths
FACE_TEMPLATE = _frozen(_build_face_template())  # [68, 2] frontal face, eye-distance units, mid-eyes origin

# Where the body's head joints sit on FACE_TEMPLATE (same units): REye, LEye, Nose, REar, LEar. The eyes are the
# template's eye-point means, the nose its tip (30); the ears are where dancegen.pose.layout.Proportions puts them
# (0.33 head heights out and 0.07 below the eyes, whose distance is 0.27 head heights: 1.22 and 0.26 eye distances).
_FACE_ANCHOR_JOINTS = (J["REye"], J["LEye"], J["Nose"], J["REar"], J["LEar"])
FACE_ANCHORS = _frozen(np.array([FACE_TEMPLATE[36:42].mean(axis=0), FACE_TEMPLATE[42:48].mean(axis=0),
                                 FACE_TEMPLATE[30], (-1.22, 0.26), (1.22, 0.26)], dtype=np.float64))  # [5, 2]

# (elbow, wrist, side sign) for the right then the left hand; side sign +1 puts the thumb at +90 degrees
_ARMS = ((J["RElbow"], J["RWrist"], 1.0), (J["LElbow"], J["LWrist"], -1.0))


# ------------------------------------------------------------------------------------------------ helpers


def _visible(pose, width: int, height: int, scores, min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """Pose [18, 2] float64 and visibility [18] bool: finite, inside the canvas, score above ``min_score``."""
    if int(width) < 1 or int(height) < 1:
        raise ExtremityInputError(f"the canvas must be at least 1 x 1 px, got {width} x {height}")
    pose = np.asarray(pose, dtype=np.float64)
    if pose.shape != (18, 2):
        raise ExtremityInputError(f"a body pose must be 18 joints x (x, y), got shape {pose.shape}")
    x, y = pose[:, 0], pose[:, 1]
    with np.errstate(invalid="ignore"):  # NaN compares False: missing
        visible = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    if scores is not None:
        s = np.asarray(scores, dtype=np.float64).reshape(-1)
        if s.shape != (18,):
            raise ExtremityInputError(f"expected 18 joint scores, got {s.shape[0]}")
        visible &= np.where(np.isfinite(s), s, 0.0) > min_score
    return pose, visible


def _cross(a: np.ndarray, b: np.ndarray) -> float:
    """z of the 2-D cross product a x b (image axes: > 0 when b is clockwise of a on screen)."""
    return float(a[0] * b[1] - a[1] * b[0])


def facing_sign(pose: np.ndarray, visible: np.ndarray) -> float:
    """+1 when the person faces the camera (their right shoulder on the image-left of their left one, measured
    across the neck -> hips direction, or straight down without hips), -1 when they face away; +1 without both
    shoulders."""
    rs, ls = J["RShoulder"], J["LShoulder"]
    if not (visible[rs] and visible[ls]):
        return 1.0
    down = np.array([0.0, 1.0])
    rh, lh, neck = J["RHip"], J["LHip"], J["Neck"]
    if visible[rh] and visible[lh] and visible[neck]:
        d = (pose[rh] + pose[lh]) / 2.0 - pose[neck]
        if np.hypot(*d) > 1e-6:
            down = d
    return 1.0 if _cross(pose[ls] - pose[rs], down) >= 0.0 else -1.0


# ------------------------------------------------------------------------------------------------ synthesis


def synthesise_hands(pose, width: int, height: int, scores=None,
                     config: ExtremityConfig = ExtremityConfig()) -> np.ndarray:
    """Body ``pose`` [18, 2] canvas px (``scores`` [18] or None = all 1) -> hands [2, 21, 2] canvas px, right hand
    then left; a hand whose elbow or wrist is missing is all NaN."""
    pose, visible = _visible(pose, width, height, scores, config.min_score)
    hands = np.full((2, N_HAND_POINTS, 2), np.nan)  # [2, 21, 2]
    facing = facing_sign(pose, visible)
    for h, (elbow, wrist, side) in enumerate(_ARMS):
        if not (visible[elbow] and visible[wrist]):
            continue
        forearm = pose[wrist] - pose[elbow]
        length = float(np.hypot(*forearm))
        if length < 1e-6:
            continue
        u = forearm / length  # along the forearm
        v = side * facing * np.array([-u[1], u[0]])  # towards the thumb: +90 degrees from u for a right hand
        scale = config.hand_length_ratio * length
        hands[h] = pose[wrist] + scale * (HAND_TEMPLATE[:, :1] * u + HAND_TEMPLATE[:, 1:] * v)
    return hands


def synthesise_face(pose, width: int, height: int, scores=None,
                    config: ExtremityConfig = ExtremityConfig()) -> np.ndarray:
    """Body ``pose`` [18, 2] canvas px (``scores`` [18] or None = all 1) -> face landmarks [68, 2] canvas px, all
    NaN when the nose or an eye is missing, the eyes coincide or the person faces away."""
    pose, visible = _visible(pose, width, height, scores, config.min_score)
    face = np.full((N_FACE_POINTS, 2), np.nan)  # [68, 2]
    reye, leye, nose = J["REye"], J["LEye"], J["Nose"]
    if not (visible[reye] and visible[leye] and visible[nose]):
        return face
    across = pose[leye] - pose[reye]
    if np.hypot(*across) < config.min_eye_distance_px:
        return face
    if _cross(across, pose[nose] - (pose[reye] + pose[leye]) / 2.0) <= 0.0:
        return face  # eyes mirrored about the nose: seen from behind
    joints = np.array(_FACE_ANCHOR_JOINTS)
    use = visible[joints]  # [5] eyes and nose always, ears when visible
    weights = np.array([1.0, 1.0, 1.0, config.ear_weight, config.ear_weight])[use]
    src = FACE_ANCHORS[use]  # [k, 2] template
    dst = pose[joints[use]]  # [k, 2] canvas px
    # least-squares similarity as complex numbers: dst ~ m * src + t, m = scale * e^(i angle)
    a = src[:, 0] + 1j * src[:, 1]
    b = dst[:, 0] + 1j * dst[:, 1]
    wsum = weights.sum()
    a_mean, b_mean = (weights * a).sum() / wsum, (weights * b).sum() / wsum
    a0, b0 = a - a_mean, b - b_mean
    m = (weights * np.conj(a0) * b0).sum() / (weights * np.abs(a0) ** 2).sum()
    z = m * (FACE_TEMPLATE[:, 0] + 1j * FACE_TEMPLATE[:, 1] - a_mean) + b_mean  # [68] complex
    face[:, 0], face[:, 1] = z.real, z.imag
    return face


def synthesise_extremities(pose, width: int, height: int, scores=None,
                           config: ExtremityConfig = ExtremityConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Body ``pose`` [18, 2] canvas px -> (hands [2, 21, 2], face [68, 2]) canvas px; see the module notes."""
    return (synthesise_hands(pose, width, height, scores, config),
            synthesise_face(pose, width, height, scores, config))
