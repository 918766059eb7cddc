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
  ``x / 127.5 - 1`` (the pipeline's ``encode_poses``).
* Hands and face (same two scripts, ``draw_handpose(_aligned)`` / ``draw_facepose(_aligned)``, identical code;
  ``DWPose/dwpose_utils/util.py`` has older score-less variants): ``draw_pose`` / ``draw_pose_aligned`` draw, on
  the same super-sampled canvas and before the one resize, the body (with its 0.6 blend), THEN the hands, THEN the
  face; hands and face are not blended. ``DWPose/dwpose_utils/dwpose_detector.py`` gives
  ``hands = vstack([kps[:, 92:113], kps[:, 113:]])`` and ``faces = kps[:, 24:92]``: ``wholebody.py`` inserts the
  neck at 17, so 92-112 is COCO-WholeBody's left hand (``left_hand_root`` is id 91 in mmpose's COCO-WholeBody
  metadata), 113-133 the right hand and 24-91 the 68 iBUG face points. The person's left hand is therefore drawn
  before the right. No hand or face point is dropped for a low score (there is no 0.3 cut as for the body):
  scores only scale the colours; only a point the decoder put at -1 (``onnxpose.py``: SimCC value <= 0) falls
  under the eps rule below.
  - Hand: 20 edges ``(0,1),(1,2),(2,3),(3,4),(0,5),...,(19,20)`` (wrist to each finger's base, then along the
    finger: thumb 1-4, index 5-8, middle 9-12, ring 13-16, little 17-20). Edge ``ie`` is a ``cv2.line`` of
    thickness 2 (default LINE_8) coloured ``matplotlib.colors.hsv_to_rgb([ie / 20, 1, 1])`` times
    ``int(score_a * score_b * 255)`` (a float colour; OpenCV rounds it to the nearest integer, e.g.
    76.50000000000001 -> 77, 127.5 -> 128), drawn only when all four of ``int(x * W)``, ``int(y * H)`` of both
    ends are > eps = 0.01 (i.e. >= 1 px). Then each of the 21 points is a filled circle of radius 4 coloured
    ``(0, 0, int(score * 255))`` (blue on disk) when its truncated x and y are > eps.
  - Face: each of the 68 points is a filled circle of radius 3 coloured ``(c, c, c)``, ``c = int(score * 255)``
    (white at score 1), under the same eps rule; no lines.
  - DWPose scores (``onnxpose.py``: the lower of the two SimCC maxima) are not capped at 1; the colours then
    saturate in OpenCV. This module defaults every hand / face score to 1.0 (pure colours), like the body's.
  Our hands and face are synthesised from the body (:mod:`dancegen.pose.extremities`): :func:`render_whole_body`.

Coordinates here are canvas pixels (x right, y down), OpenPose-18 order (:data:`dancegen.pose.topology.JOINTS`);
hands ``[2, 21, 2]`` (the person's right hand, then the left) and face ``[68, 2]`` as in :mod:`.extremities`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from .extremities import N_FACE_POINTS, N_HAND_POINTS, ExtremityConfig, synthesise_extremities
from .topology import LIMBS

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

# Hands (DWPose ``draw_handpose``): OpenPose hand edges, wrist -> finger bases and along each finger.
HAND_EDGES = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10), (10, 11), (11, 12),
              (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20))
HAND_LINE_THICKNESS = 2  # cv2.line thickness in px of the super-sampled canvas
HAND_POINT_RADIUS = 4  # hand keypoint circle radius in px of the super-sampled canvas
HAND_POINT_COLOR = (0, 0, 255)  # RGB on disk at score 1: blue
FACE_POINT_RADIUS = 3  # face landmark circle radius in px of the super-sampled canvas
FACE_POINT_COLOR = (255, 255, 255)  # RGB on disk at score 1: white
DRAW_EPS = 0.01  # hand / face points are drawn when their truncated big-canvas x and y are > this
HAND_DRAW_ORDER = (1, 0)  # DWPose draws the person's left hand (our index 1) before the right (index 0)


def _hsv_edge_colour(ie: int, n: int) -> tuple[float, float, float]:
    """RGB in [0, 1] of hue ``ie / n`` at full saturation and value, with the same float operations as
    ``matplotlib.colors.hsv_to_rgb`` (so that OpenCV's rounding of ``colour * 255`` gives the same integers)."""
    h = ie / float(n)
    i = int(h * 6.0)
    f = h * 6.0 - i
    v, s = 1.0, 1.0
    p, q, t = v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f))
    return ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))[i % 6]


HAND_EDGE_COLORS = tuple(_hsv_edge_colour(ie, len(HAND_EDGES)) for ie in range(len(HAND_EDGES)))  # [20] RGB 0..1

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


def _point_scores(scores, shape: tuple[int, ...], what: str) -> np.ndarray:
    """Hand / face scores broadcast to ``shape`` (default 1.0; NaN counts as 0)."""
    if scores is None:
        return np.ones(shape, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    try:
        s = np.broadcast_to(s, shape)
    except ValueError:
        raise SkeletonInputError(f"{what} scores must have shape {list(shape)}, got {list(s.shape)}") from None
    return np.where(np.isfinite(s), s, 0.0)


def _big_points(points: np.ndarray, width: int, height: int, big_w: int, big_h: int) -> tuple[np.ndarray, np.ndarray]:
    """Canvas px [..., 2] -> (DWPose's truncated big-canvas px [..., 2] int64, drawable mask [...]).

    A point is drawable when it is finite and both truncated coordinates are > DRAW_EPS (DWPose's test)."""
    finite = np.isfinite(points).all(axis=-1)
    big = np.where(finite[..., None], points, 0.0) / np.array([width, height], dtype=np.float64)
    big = big * np.array([float(big_w), float(big_h)])
    big = np.trunc(np.clip(big, -1e7, 1e7)).astype(np.int64)  # int() of DWPose; the clip only guards OpenCV
    return big, finite & (big > DRAW_EPS).all(axis=-1)


def _draw_hands(canvas: np.ndarray, hands: np.ndarray, hand_scores, width: int, height: int) -> None:
    """DWPose's ``draw_handpose`` on the big canvas (in place); hands [2, 21, 2] canvas px, right then left."""
    big_h, big_w = canvas.shape[:2]
    pts, ok = _big_points(hands, width, height, big_w, big_h)  # [2, 21, 2] int, [2, 21]
    score = _point_scores(hand_scores, hands.shape[:2], "hand")  # [2, 21]
    for h in HAND_DRAW_ORDER:
        for ie, (a, b) in enumerate(HAND_EDGES):
            if ok[h, a] and ok[h, b]:
                level = int(score[h, a] * score[h, b] * 255)
                colour = tuple(c * level for c in HAND_EDGE_COLORS[ie])  # floats: OpenCV rounds them
                cv2.line(canvas, (int(pts[h, a, 0]), int(pts[h, a, 1])), (int(pts[h, b, 0]), int(pts[h, b, 1])),
                         colour, thickness=HAND_LINE_THICKNESS)
        for k in range(N_HAND_POINTS):
            if ok[h, k]:
                level = int(score[h, k] * 255)
                colour = tuple(int(c * level) // 255 for c in HAND_POINT_COLOR)  # (0, 0, level)
                cv2.circle(canvas, (int(pts[h, k, 0]), int(pts[h, k, 1])), HAND_POINT_RADIUS, colour, thickness=-1)


def _draw_face(canvas: np.ndarray, face: np.ndarray, face_scores, width: int, height: int) -> None:
    """DWPose's ``draw_facepose`` on the big canvas (in place); face [68, 2] canvas px."""
    big_h, big_w = canvas.shape[:2]
    pts, ok = _big_points(face, width, height, big_w, big_h)  # [68, 2] int, [68]
    score = _point_scores(face_scores, face.shape[:1], "face")  # [68]
    for k in np.flatnonzero(ok):
        level = int(score[k] * 255)
        colour = tuple(int(c * level) // 255 for c in FACE_POINT_COLOR)  # (level, level, level)
        cv2.circle(canvas, (int(pts[k, 0]), int(pts[k, 1])), FACE_POINT_RADIUS, colour, thickness=-1)


def render_pose(pose: np.ndarray, width: int, height: int, scores: np.ndarray | None = None,
                ref_short_side: int = REF_SHORT_SIDE, *, hands: np.ndarray | None = None,
                face: np.ndarray | None = None, hand_scores: np.ndarray | None = None,
                face_scores: np.ndarray | None = None) -> np.ndarray:
    """One OpenPose-18 body, ``pose`` [18, 2] canvas px, -> RGB uint8 image [height, width, 3] on black.

    ``scores`` [18] are DWPose-style confidences (default 1.0, which gives the pure colours); they darken the colours
    exactly as in StableAnimator's drawing. Joints that are NaN or outside the canvas are treated as missing
    (score 0): their dots and limbs are not drawn, as a detector would report a body part out of view.

    Optional ``hands`` [2, 21, 2] (right hand, then left; canvas px) and ``face`` [68, 2] (canvas px) are drawn
    after the body on the same super-sampled canvas, as DWPose's ``draw_handpose`` / ``draw_facepose`` do, with
    ``hand_scores`` [2, 21] and ``face_scores`` [68] (default 1.0). NaN points (e.g. a hand that was not
    synthesised) and points whose big-canvas pixel is 0 or less are not drawn. Without them the image is the
    body-only image.
    """
    width, height = _check_size(width, height)
    pose = np.asarray(pose, dtype=np.float64)
    if pose.shape != (18, 2):
        raise SkeletonInputError(f"a pose must be 18 joints x (x, y), got shape {pose.shape}")
    score = _scores(pose, width, height, scores)
    if hands is not None:
        hands = np.asarray(hands, dtype=np.float64)
        if hands.shape != (2, N_HAND_POINTS, 2):
            raise SkeletonInputError(f"hands must have shape [2, 21, 2] (right, left), got {list(hands.shape)}")
    if face is not None:
        face = np.asarray(face, dtype=np.float64)
        if face.shape != (N_FACE_POINTS, 2):
            raise SkeletonInputError(f"a face must have shape [68, 2], got {list(face.shape)}")

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

    if hands is not None:  # DWPose order: body, hands, face, all before the resize
        _draw_hands(canvas, hands, hand_scores, width, height)
    if face is not None:
        _draw_face(canvas, face, face_scores, width, height)

    if (big_w, big_h) == (width, height):
        return canvas
    return cv2.resize(canvas, (width, height))  # bilinear, as DWPose's draw_pose


def render_whole_body(pose: np.ndarray, width: int, height: int, scores: np.ndarray | None = None,
                      config: ExtremityConfig = ExtremityConfig(),
                      ref_short_side: int = REF_SHORT_SIDE) -> np.ndarray:
    """Body ``pose`` [18, 2] canvas px -> RGB uint8 image [height, width, 3] with the body plus hands and face
    synthesised from it (:func:`.extremities.synthesise_extremities`), drawn like DWPose's ``draw_pose``.
    A hand whose elbow or wrist is missing, or a face without nose and eyes, is left out."""
    width, height = _check_size(width, height)
    pose = np.asarray(pose, dtype=np.float64)
    if pose.shape != (18, 2):
        raise SkeletonInputError(f"a pose must be 18 joints x (x, y), got shape {pose.shape}")
    hands, face = synthesise_extremities(pose, width, height, scores, config)  # [2, 21, 2], [68, 2]
    return render_pose(pose, width, height, scores, ref_short_side, hands=hands, face=face)


class SkeletonFrames(Sequence):
    """Skeleton images rendered on demand (so a long video never holds all of them). Item: [H, W, 3] uint8 RGB.

    Body, hands and face, as StableAnimator's DWPose training skeletons (hands and face synthesised from the body)."""

    def __init__(self, poses: np.ndarray, width: int, height: int):
        self.poses, self.width, self.height = poses, width, height  # poses: [T, 18, 2] canvas px

    def __len__(self) -> int:
        return len(self.poses)

    def __getitem__(self, index: int) -> np.ndarray:
        return render_whole_body(self.poses[index], self.width, self.height)
