"""Music -> beat-synced dance poses (OpenPose-18, canvas pixels), retargeted to the person in the reference photo.

Coordinates
    Every pose is ``[18, 2]`` float (x right, y down) in pixels of the *generation canvas* (W x H), joints in the
    OpenPose-18 order of :data:`JOINTS`. The photo is mapped to the canvas by a **plain resize** of the whole photo
    to W x H (no crop, no padding, aspect not kept): photo pixel (u, v) -> canvas (u * W / w, v * H / h). The
    pipeline must resize the reference photo the same way (StableAnimator resizes the reference to H x W too), so
    frame 0 of the skeleton lies on the person in the resized photo. When the photo's aspect differs from the
    canvas's, the body is built in an isotropic "work" space (photo pixels times W / w) and its y is stretched by
    ``BodyLayout.y_stretch`` at the end, so the dancer is squashed exactly like the resized photo.

Layout
    :func:`body_from_face` (face box only: standard proportions, 7.5 head heights) and :func:`body_from_keypoints`
    (a detected OpenPose-18 body, missing joints filled from proportions) give a :class:`BodyLayout`: the canvas,
    the frame-0 keypoints and the bone lengths.

Interface
    :class:`MusicToPose` is the one thing the app needs: ``poses = model(music, fps, seed, body, n_frames)`` ->
    ``[T, 18, 2]`` float32 canvas px with frame t at time ``t / fps``. :class:`ProceduralChoreographer` implements
    it with a library of moves. A learned model (e.g. the music-to-pose encoder of a dance-generation paper) plugs
    in as another class with the same ``__call__``: compute its audio features from ``music.samples`` /
    ``music.sr`` (or the beat grid), sample its motion at ``fps`` for ``T`` frames, map its skeleton to OpenPose-18
    if needed, and pass the result through :func:`retarget_to_body`, which keeps the model's bone directions but
    uses the reference person's bone lengths and starts at the reference pose, so frame 0 still matches the photo.
    The metrics below (beat alignment, foot sliding, bone lengths, framing) apply to any implementation.

Procedural choreography (what :class:`ProceduralChoreographer` does)
    * Counts are the analysed beats (extended over gaps and past the ends); above ``half_time_above_bpm`` a count
      is two beats. Phrases of ``phrase_counts`` (8) counts start on downbeats; pick-up beats get a groove.
    * Every beat is a key time for every pose parameter, and between keys parameters move with a cosine ease, so
      joint speed drops to zero on the beats (kinematic beats = music beats). Some moves add "and" keys between
      beats for a subset of parameters (e.g. the bounce).
    * Poses are built by forward kinematics with the bone lengths of the reference body (rigid torso and head,
      two-bone arms, two-bone inverse kinematics for the legs towards planted ankles), so bone lengths never
      change; steps move one foot at a time along a lifted arc while the other stays planted.
    * Move size follows the music's RMS energy; quiet phrases draw from calmer moves. Phrases vary by move choice,
      mirroring and per-phrase amplitude jitter from a seeded ``numpy.random.Generator`` (seed mixed with a hash
      of the beat grid, so different songs get different dances for the same seed).
    * Staying inside the frame: every key has an amplitude (1 = as planned, 0 = the reference pose); keys around
      frames with a joint outside the canvas shrink until every frame fits. The amplitude is eased between keys
      like the moves, so it adds no motion on the beats; planted feet never move.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
from scipy.ndimage import gaussian_filter1d, uniform_filter1d
from scipy.signal import find_peaks

if TYPE_CHECKING:  # the music module is only needed for the type
    from dancegen.music import MusicAnalysis

JOINTS = ("Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip", "RKnee",
          "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar")
J = {name: i for i, name in enumerate(JOINTS)}

# The 17 OpenPose limbs (joint index pairs) that DWPose draws, in drawing / colour order. They form a tree rooted at
# the neck, parent joint first in every pair, parents listed before their children.
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
         (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))

ANKLES = (J["RAnkle"], J["LAnkle"])


class BodyLayoutError(ValueError):
    """A face box, keypoints or canvas that cannot give a body layout (one-line message)."""


class ChoreographyError(ValueError):
    """Arguments the choreographer cannot work with (one-line message)."""


# ------------------------------------------------------------------------------------------------ proportions


@dataclass(frozen=True)
class Proportions:
    """A standing adult seen from the front, in head heights (crown to chin). x: from the midline towards the
    person's own side (the person's right is image-left), y: down from the crown. Sources: classical figure
    proportions (7.5 heads) and anthropometric segment ratios of stature (upper arm ~0.186, forearm ~0.146,
    thigh ~0.245, shin ~0.246)."""

    face_box_height: float = 0.833  # face detector box (SCRFD-like, forehead to chin) height; its top is 0.167 down
    nose_in_box: float = 0.58  # nose tip, fraction of the face box height from its top
    nose: tuple[float, float] = (0.0, 0.65)  # nose tip
    eye: tuple[float, float] = (0.135, 0.48)  # pupil
    ear: tuple[float, float] = (0.33, 0.55)  # ear canal
    shoulder: tuple[float, float] = (0.80, 1.45)  # shoulder keypoint (the neck is their midpoint)
    elbow: tuple[float, float] = (0.92, 2.85)  # arms hanging, slightly away from the body
    wrist: tuple[float, float] = (0.98, 3.95)
    hip: tuple[float, float] = (0.45, 3.65)  # hip joint keypoint
    knee: tuple[float, float] = (0.48, 5.50)  # a little outside the hip-ankle line: knees bend outwards
    ankle: tuple[float, float] = (0.47, 7.25)

    def template(self, facing: float = 1.0) -> np.ndarray:
        """Standing skeleton [18, 2] in head heights, crown at (0, 0); ``facing`` -1 mirrors it (seen from behind)."""
        pts = np.zeros((18, 2), dtype=np.float64)
        side = {"R": -1.0 * facing, "L": 1.0 * facing}
        pts[J["Nose"]] = self.nose
        pts[J["Neck"]] = (0.0, self.shoulder[1])
        for s in "RL":
            for name, (x, y) in (("Shoulder", self.shoulder), ("Elbow", self.elbow), ("Wrist", self.wrist),
                                 ("Hip", self.hip), ("Knee", self.knee), ("Ankle", self.ankle), ("Eye", self.eye),
                                 ("Ear", self.ear)):
                pts[J[s + name]] = (side[s] * x, y)
        return pts


DEFAULT_PROPORTIONS = Proportions()

FIT_MODES = ("scale", "clip")


@dataclass(frozen=True, eq=False)
class BodyLayout:
    """Where the dancer stands on the generation canvas at frame 0."""

    canvas_w: int  # generation canvas width (px)
    canvas_h: int  # generation canvas height (px)
    keypoints: np.ndarray  # [18, 2] float64 frame-0 joints in canvas px (x right, y down), OpenPose-18 order
    bone_lengths: np.ndarray  # [17] float64 length of each LIMBS entry at frame 0, in work px (see y_stretch)
    head_height: float  # crown-to-chin height in work px (the unit of move sizes)
    y_stretch: float = 1.0  # canvas y px per work px: (H / photo_h) / (W / photo_w); 1 when the aspect is kept
    fit_scale: float = 1.0  # 1 = the body has the photo's scale; < 1 = shrunk to fit the canvas ("scale" fit)
    source: str = "face"  # "face" (proportions from a face box) or "keypoints" (a detected body)
    notices: tuple[str, ...] = ()  # human-readable notes, e.g. that the body was shrunk to fit

    def work_keypoints(self) -> np.ndarray:
        """Frame-0 joints [18, 2] in work px (canvas y divided by ``y_stretch``)."""
        return self.keypoints / np.array([1.0, self.y_stretch])

    def joints_in_frame(self) -> np.ndarray:
        """Which frame-0 joints lie on the canvas: [18] bool (not all of them: a close-up)."""
        k = self.keypoints
        return ((k >= 0) & (k <= np.array([self.canvas_w - 1, self.canvas_h - 1]))).all(axis=1)


def _bone_lengths(pts: np.ndarray) -> np.ndarray:
    return np.array([np.hypot(*(pts[b] - pts[a])) for a, b in LIMBS], dtype=np.float64)  # [17]


def _check_sizes(image_size_wh, canvas_size_wh) -> tuple[float, float, int, int]:
    try:
        iw, ih = (float(v) for v in image_size_wh)
        cw, ch = (int(v) for v in canvas_size_wh)
    except (TypeError, ValueError):
        raise BodyLayoutError("image and canvas sizes must be (width, height) pairs of numbers") from None
    if not (math.isfinite(iw) and math.isfinite(ih)) or iw < 1 or ih < 1:
        raise BodyLayoutError(f"the photo size must be positive, got {image_size_wh}")
    if cw < 16 or ch < 16:
        raise BodyLayoutError(f"the canvas must be at least 16 x 16 px, got {cw} x {ch}")
    return iw, ih, cw, ch


def _margin(cw: int, ch: int) -> float:
    """Distance (canvas px) every joint keeps from the canvas edge: 2% of the short side, at least 4 px."""
    return max(4.0, 0.02 * min(cw, ch))


def _fit(pts: np.ndarray, anchor: np.ndarray, cw: int, ch: int, ys: float, fit: str, min_scale: float = 0.2
         ) -> tuple[np.ndarray, float, tuple[str, ...]]:
    """Shrink ``pts`` [18, 2] (work px) about ``anchor`` and shift them as little as possible so every joint is
    inside the canvas with the margin. Returns (points, scale, notices)."""
    if fit not in FIT_MODES:
        raise BodyLayoutError(f"fit must be one of {FIT_MODES}, got {fit!r}")
    if fit == "clip":
        return pts, 1.0, ()
    m = _margin(cw, ch)
    lo = np.array([m, m / ys])
    hi = np.array([cw - 1 - m, (ch - 1 - m) / ys])
    anchor = np.clip(anchor, lo, hi)
    d = pts - anchor  # [18, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        lim = np.where(d > 1e-9, (hi - anchor) / d, np.where(d < -1e-9, (lo - anchor) / d, np.inf))
    s_anchor = float(min(1.0, np.min(lim)))
    extent = pts.max(axis=0) - pts.min(axis=0)
    s_size = float(min(1.0, np.min((hi - lo) / np.maximum(extent, 1e-9))))
    scale = min(s_anchor, s_size) if s_anchor >= min_scale else min(s_size, min_scale)
    out = anchor + scale * d
    shift = np.maximum(lo - out.min(axis=0), 0.0) + np.minimum(hi - out.max(axis=0), 0.0)
    out = out + shift
    notices: tuple[str, ...] = ()
    if scale < 0.98 or np.abs(shift).max() > 0.5:
        notices = (f"the body did not fit the canvas at the photo's scale: drawn at {scale:.0%} of it",)
    return out, scale, notices


def _layout(pts_work: np.ndarray, head_h: float, cw: int, ch: int, ys: float, scale: float, source: str,
            notices: tuple[str, ...]) -> BodyLayout:
    kps = pts_work * np.array([1.0, ys])
    return BodyLayout(canvas_w=cw, canvas_h=ch, keypoints=kps.astype(np.float64), bone_lengths=_bone_lengths(pts_work),
                      head_height=float(head_h), y_stretch=float(ys), fit_scale=float(scale), source=source,
                      notices=notices)


def body_from_face(face_bbox_xyxy, image_size_wh, canvas_size_wh, fit: str = "scale",
                   proportions: Proportions = DEFAULT_PROPORTIONS) -> BodyLayout:
    """A standing front-facing body whose head sits on the face box.

    face_bbox_xyxy: (x0, y0, x1, y1) of the face in photo px (a face detector's box, forehead to chin).
    image_size_wh: photo (width, height); canvas_size_wh: generation canvas (W, H).
    fit: "scale" shrinks the body about the nose (and shifts it if it must) until every joint is inside the canvas
    (the head then no longer matches a face that is too big or too low for a whole body; a notice says so);
    "clip" keeps the photo's scale and lets joints fall outside the canvas (they are then not drawn).
    """
    iw, ih, cw, ch = _check_sizes(image_size_wh, canvas_size_wh)
    try:
        x0, y0, x1, y1 = (float(v) for v in np.asarray(face_bbox_xyxy, dtype=np.float64).reshape(4))
    except (TypeError, ValueError):
        raise BodyLayoutError("the face box must be four numbers (x0, y0, x1, y1)") from None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x1 <= x0 or y1 <= y0:
        raise BodyLayoutError(f"the face box must have x1 > x0 and y1 > y0, got {face_bbox_xyxy}")
    if x1 <= 0 or y1 <= 0 or x0 >= iw or y0 >= ih:
        raise BodyLayoutError("the face box lies outside the photo")
    sx, sy = cw / iw, ch / ih
    ys = sy / sx
    p = proportions
    head = (y1 - y0) / p.face_box_height  # head height, photo px
    nose_y = y0 + p.nose_in_box * (y1 - y0)
    crown = np.array([(x0 + x1) / 2.0, nose_y - p.nose[1] * head])
    pts = (crown + head * p.template()) * sx  # [18, 2] work px (photo px scaled isotropically by sx)
    pts, scale, notices = _fit(pts, pts[J["Nose"]].copy(), cw, ch, ys, fit)
    return _layout(pts, head * sx * scale, cw, ch, ys, scale, "face", notices)


# tree used to fill missing joints: child -> parent (the neck is the root)
_PARENT = {J["Nose"]: J["Neck"], J["RShoulder"]: J["Neck"], J["RElbow"]: J["RShoulder"], J["RWrist"]: J["RElbow"],
           J["LShoulder"]: J["Neck"], J["LElbow"]: J["LShoulder"], J["LWrist"]: J["LElbow"], J["RHip"]: J["Neck"],
           J["RKnee"]: J["RHip"], J["RAnkle"]: J["RKnee"], J["LHip"]: J["Neck"], J["LKnee"]: J["LHip"],
           J["LAnkle"]: J["LKnee"], J["REye"]: J["Nose"], J["LEye"]: J["Nose"], J["REar"]: J["REye"],
           J["LEar"]: J["LEye"]}


def body_from_keypoints(kps18, conf, image_size_wh, canvas_size_wh, fit: str = "scale", min_conf: float = 0.3,
                        proportions: Proportions = DEFAULT_PROPORTIONS) -> BodyLayout:
    """Layout from a detected OpenPose-18 body (photo px) with per-joint confidences [18].

    Joints with confidence <= ``min_conf`` (DWPose's drawing threshold) or not finite are filled from the standing
    proportions: the median ratio of detected to template bone lengths gives the size, and each missing joint is
    placed from its parent along the template's bone (standing direction). ``fit`` as in :func:`body_from_face`.
    """
    iw, ih, cw, ch = _check_sizes(image_size_wh, canvas_size_wh)
    pts = np.asarray(kps18, dtype=np.float64)
    c = np.asarray(conf, dtype=np.float64).reshape(-1)
    if pts.shape != (18, 2) or c.shape != (18,):
        raise BodyLayoutError(f"expected keypoints [18, 2] and confidences [18], got {pts.shape} and {c.shape}")
    valid = np.isfinite(pts).all(axis=1) & np.isfinite(c) & (c > min_conf)
    if valid.sum() < 3:
        raise BodyLayoutError("fewer than 3 body joints were detected with enough confidence")
    # which way the person faces: the right shoulder / hip is image-left when facing the camera
    facing = 1.0
    for right, left in (("RShoulder", "LShoulder"), ("RHip", "LHip")):
        if valid[J[right]] and valid[J[left]]:
            facing = 1.0 if pts[J[right], 0] <= pts[J[left], 0] else -1.0
            break
    q = proportions.template(facing)  # [18, 2] head heights
    qv, pv = q[valid], pts[valid]
    # size: the median ratio of detected to template bone lengths (independent of the pose), or, with no
    # detected bone, a least-squares scale + translation fit of the template to the detected joints
    ratios = [np.hypot(*(pts[b] - pts[a])) / np.hypot(*(q[b] - q[a])) for a, b in LIMBS if valid[a] and valid[b]]
    qc, pc = qv - qv.mean(axis=0), pv - pv.mean(axis=0)
    denom = float((qc ** 2).sum())
    head = float(np.median(ratios)) if ratios else (float((qc * pc).sum() / denom) if denom > 1e-9 else 0.0)
    if not head > 1e-6 or (pv.max(axis=0) - pv.min(axis=0)).max() < 2.0:
        raise BodyLayoutError("the detected joints are too few or too close together to size the body")
    offset = pv.mean(axis=0) - head * qv.mean(axis=0)
    out = np.where(valid[:, None], pts, np.nan)
    if not valid[J["Neck"]]:
        rs, ls = J["RShoulder"], J["LShoulder"]
        out[J["Neck"]] = (pts[rs] + pts[ls]) / 2 if valid[rs] and valid[ls] else offset + head * q[J["Neck"]]

    def fill(j: int) -> None:
        if np.isfinite(out[j]).all():
            return
        parent = _PARENT[j]
        fill(parent)
        out[j] = out[parent] + head * (q[j] - q[parent])

    for j in range(18):
        fill(j)
    sx, sy = cw / iw, ch / ih
    work = out * sx
    work, scale, notices = _fit(work, work[J["Nose"]].copy(), cw, ch, sy / sx, fit)
    return _layout(work, head * sx * scale, cw, ch, sy / sx, scale, "keypoints", notices)


# ------------------------------------------------------------------------------------------------ interface


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


# ------------------------------------------------------------------------------------------------ metrics


def beat_alignment_score(poses: np.ndarray, fps: float, beats_s, sigma: float = 0.05,
                         smooth_s: float = 5.0 / 60.0) -> float:
    """Bailando-style beat alignment: mean over music beats of exp(-d^2 / (2 sigma^2)), d = distance (s) to the
    nearest kinematic beat.

    Kinematic beats are the local minima of the mean joint speed: speed per frame by central differences (so a
    minimum on a frame is a strict minimum), smoothed with a Gaussian of ``smooth_s`` seconds (Bailando: 5 frames
    at 60 fps), minima found with ``scipy.signal.find_peaks`` on the negated speed (a flat minimum counts at its
    middle). Only beats strictly inside the clip (0, (T-1)/fps) are scored. Returns 0 when there is no beat or no
    kinematic beat.
    """
    p = np.asarray(poses, dtype=np.float64)
    beats = np.asarray(beats_s, dtype=np.float64).reshape(-1)
    t_last = (p.shape[0] - 1) / fps
    beats = beats[(beats > 0) & (beats < t_last)]
    if p.shape[0] < 3 or beats.size == 0:
        return 0.0
    vel = np.gradient(p, axis=0)  # [T, J, 2] px/frame, central differences inside
    speed = np.linalg.norm(vel, axis=-1).mean(axis=1)  # [T]
    if smooth_s > 0:
        speed = gaussian_filter1d(speed, smooth_s * fps, mode="nearest")
    minima, _ = find_peaks(-speed)
    if minima.size == 0:
        return 0.0
    kin = minima / fps  # [M] s
    d = np.abs(beats[:, None] - kin[None, :]).min(axis=1)  # [B]
    return float(np.mean(np.exp(-d ** 2 / (2 * sigma ** 2))))


def _leg_length(p: np.ndarray) -> float:
    """Median hip-knee-ankle length over frames and both legs (px)."""
    legs = []
    for hip, knee, ankle in ((8, 9, 10), (11, 12, 13)):
        legs.append(np.linalg.norm(p[:, knee] - p[:, hip], axis=-1) + np.linalg.norm(p[:, ankle] - p[:, knee], axis=-1))
    return float(np.median(np.concatenate(legs)))


def planted_mask(poses: np.ndarray, ground_tol: float = 0.03, speed_tol: float = 0.05) -> np.ndarray:
    """Which ankle is planted on each frame transition: [T-1, 2] bool (right ankle, left ankle).

    An ankle is planted from frame t-1 to t when, on both frames, it is within ``ground_tol`` x leg length of the
    lower ankle's height (the ground line is the lower ankle: y grows downwards), and it moves less than
    ``speed_tol`` x leg length per frame. The leg length is the median hip-knee-ankle length of the sequence.
    """
    p = np.asarray(poses, dtype=np.float64)
    ank = p[:, list(ANKLES)]  # [T, 2, 2]
    leg = _leg_length(p)
    ground = ank[:, :, 1].max(axis=1, keepdims=True)  # [T, 1] lower ankle y
    low = ank[:, :, 1] >= ground - ground_tol * leg  # [T, 2]
    step = np.linalg.norm(np.diff(ank, axis=0), axis=-1)  # [T-1, 2]
    return low[1:] & low[:-1] & (step < speed_tol * leg)


def foot_sliding_px(poses: np.ndarray, ground_tol: float = 0.03, speed_tol: float = 0.05) -> float:
    """Mean per-frame displacement (px) of ankles while planted (see :func:`planted_mask`); 0 if never planted."""
    p = np.asarray(poses, dtype=np.float64)
    if p.shape[0] < 2:
        return 0.0
    planted = planted_mask(p, ground_tol, speed_tol)
    step = np.linalg.norm(np.diff(p[:, list(ANKLES)], axis=0), axis=-1)  # [T-1, 2]
    return float(step[planted].mean()) if planted.any() else 0.0


def bone_length_variation(poses: np.ndarray, y_stretch: float = 1.0) -> float:
    """Largest relative deviation of any limb's length from that limb's median length over the sequence.

    ``y_stretch`` (``BodyLayout.y_stretch``) undoes a non-uniform canvas scaling before measuring.
    """
    p = np.asarray(poses, dtype=np.float64) / np.array([1.0, y_stretch])
    worst = 0.0
    for a, b in LIMBS:
        length = np.linalg.norm(p[:, b] - p[:, a], axis=-1)  # [T]
        med = float(np.median(length))
        if med > 1e-6:
            worst = max(worst, float(np.abs(length - med).max() / med))
    return worst


def fraction_inside(poses: np.ndarray, w: int, h: int) -> float:
    """Fraction of joint positions (all frames) with 0 <= x < w and 0 <= y < h (NaN counts as outside)."""
    p = np.asarray(poses, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        inside = (p[..., 0] >= 0) & (p[..., 0] < w) & (p[..., 1] >= 0) & (p[..., 1] < h)
    return float(inside.mean()) if inside.size else 0.0


# ------------------------------------------------------------------------------------------------ rig (FK / IK)

# pose parameters, one column each in the key tables
P_DX, P_DY, P_LEAN, P_HEAD, P_SHR, P_SHL, P_AR, P_BR, P_AL, P_BL = range(10)
N_PARAMS = 10
# DX, DY: pelvis offset in head heights (DY > 0 = down); LEAN: torso rotation about the pelvis (rad, + = image
# clockwise); HEAD: head rotation on top of the lean (rad); SHR / SHL: shoulder raise (rad); AR / AL: upper-arm angle
# from hanging down, positive away from the body (rad, pi = straight up); BR / BL: forearm angle relative to the upper
# arm, same sign convention (negative folds the forearm across the body).


def _rot(v: np.ndarray, ang: np.ndarray) -> np.ndarray:
    """Rotate vectors v [..., 2] by angles ang [...] (image coordinates: + is clockwise on screen)."""
    c, s = np.cos(ang), np.sin(ang)
    return np.stack([c * v[..., 0] - s * v[..., 1], s * v[..., 0] + c * v[..., 1]], axis=-1)


def _outward_angle(vec: np.ndarray, out: float) -> float:
    """Angle of ``vec`` from straight down, positive towards ``out`` (-1 image-left, +1 image-right), in
    (-pi/2, 3pi/2] so arm paths go round the outside of the body."""
    a = math.atan2(out * vec[0], vec[1])
    return a + 2 * math.pi if a < -math.pi / 2 else a


@dataclass(frozen=True, eq=False)
class _Rig:
    """The reference body as a kinematic model (work px)."""

    pelvis0: np.ndarray  # [2] mid-hips at frame 0
    neck_off: np.ndarray  # [2] neck - pelvis at frame 0
    sh_off: np.ndarray  # [2, 2] (R, L) shoulder - neck
    hip_off: np.ndarray  # [2, 2] (R, L) hip - pelvis
    head_off: np.ndarray  # [5, 2] nose, REye, LEye, REar, LEar - neck
    upper: np.ndarray  # [2] upper-arm lengths (R, L)
    fore: np.ndarray  # [2] forearm lengths
    thigh: np.ndarray  # [2] hip-knee lengths
    shin: np.ndarray  # [2] knee-ankle lengths
    reach: np.ndarray  # [2] longest allowed hip-ankle distance
    arm0: np.ndarray  # [2, 2] (R, L) x (upper angle, forearm relative angle) at frame 0
    ankle0: np.ndarray  # [2, 2] frame-0 ankles
    knee_dir: np.ndarray  # [2] +1: knee bends towards the image-left of the hip->ankle direction, -1: right
    out: np.ndarray  # [2] image-x sign of "outward" for (R, L) sides: (-1, +1) when facing the camera
    head: float  # head height (work px)


_HEAD_JOINTS = (J["Nose"], J["REye"], J["LEye"], J["REar"], J["LEar"])


def _make_rig(body: BodyLayout) -> _Rig:
    k = body.work_keypoints()
    rh, lh = k[J["RHip"]], k[J["LHip"]]
    pelvis = (rh + lh) / 2
    neck = k[J["Neck"]]
    out_r = -1.0 if k[J["RShoulder"], 0] <= k[J["LShoulder"], 0] else 1.0
    out = np.array([out_r, -out_r])
    arm0, upper, fore, thigh, shin, reach, knee_dir = [], [], [], [], [], [], []
    for i, (s, e, w, h, kn, a) in enumerate(((2, 3, 4, 8, 9, 10), (5, 6, 7, 11, 12, 13))):
        u, f = k[e] - k[s], k[w] - k[e]
        upper.append(np.hypot(*u))
        fore.append(np.hypot(*f))
        au = _outward_angle(u, out[i])
        af = _outward_angle(f, out[i])
        rel = (af - au + math.pi) % (2 * math.pi) - math.pi
        arm0.append((au, rel))
        t_len, s_len = np.hypot(*(k[kn] - k[h])), np.hypot(*(k[a] - k[kn]))
        thigh.append(t_len)
        shin.append(s_len)
        d0 = np.hypot(*(k[a] - k[h]))
        reach.append(max(0.985 * (t_len + s_len), d0))
        ha, hk = k[a] - k[h], k[kn] - k[h]
        cross = ha[0] * hk[1] - ha[1] * hk[0]  # > 0: knee is clockwise (on screen) of hip->ankle
        if abs(cross) < 0.05 * (t_len * np.hypot(*ha) + 1e-9):  # within ~3 degrees of straight
            knee_dir.append(-out[i])  # straight leg: let it bend outwards
        else:
            knee_dir.append(1.0 if cross > 0 else -1.0)
    return _Rig(pelvis0=pelvis, neck_off=neck - pelvis,
                sh_off=np.stack([k[J["RShoulder"]] - neck, k[J["LShoulder"]] - neck]),
                hip_off=np.stack([rh - pelvis, lh - pelvis]),
                head_off=np.stack([k[j] - neck for j in _HEAD_JOINTS]),
                upper=np.array(upper), fore=np.array(fore), thigh=np.array(thigh), shin=np.array(shin),
                reach=np.array(reach), arm0=np.array(arm0),
                ankle0=np.stack([k[J["RAnkle"]], k[J["LAnkle"]]]), knee_dir=np.array(knee_dir), out=out,
                head=float(body.head_height))


def _neutral(rig: _Rig) -> np.ndarray:
    """Parameter vector [N_PARAMS] of the frame-0 pose."""
    v = np.zeros(N_PARAMS)
    v[[P_AR, P_BR]] = rig.arm0[0]
    v[[P_AL, P_BL]] = rig.arm0[1]
    return v


def _forward(rig: _Rig, prm: np.ndarray, feet_x: np.ndarray, lift: np.ndarray) -> np.ndarray:
    """Poses [T, 18, 2] (work px) from parameters prm [T, N_PARAMS], foot x offsets feet_x [T, 2] (work px from the
    frame-0 ankles) and foot lifts lift [T, 2] (work px, up)."""
    T = prm.shape[0]
    h = rig.head
    out = np.empty((T, 18, 2))
    ankles = rig.ankle0[None] + np.stack([feet_x, -lift], axis=-1)  # [T, 2, 2]
    lean = prm[:, P_LEAN]
    pelvis = rig.pelvis0 + np.stack([feet_x.mean(axis=1) + prm[:, P_DX] * h, prm[:, P_DY] * h], axis=-1)  # [T, 2]
    hips_rel = _rot(rig.hip_off[None], lean[:, None])  # [T, 2, 2]
    # keep both hips within reach of their ankles: first horizontally, then by lowering the pelvis
    for i in range(2):
        hip_x = pelvis[:, 0] + hips_rel[:, i, 0]
        dx = hip_x - ankles[:, i, 0]
        lim = 0.8 * rig.reach[i]
        pelvis[:, 0] -= dx - np.clip(dx, -lim, lim)
    for i in range(2):
        hip = pelvis + hips_rel[:, i]
        dx = hip[:, 0] - ankles[:, i, 0]
        need_y = ankles[:, i, 1] - np.sqrt(np.maximum(rig.reach[i] ** 2 - dx ** 2, 0.0))
        pelvis[:, 1] = np.maximum(pelvis[:, 1], pelvis[:, 1] + (need_y - hip[:, 1]))
    neck = pelvis + _rot(rig.neck_off[None], lean)  # [T, 2]
    out[:, J["Neck"]] = neck
    for i, (sh, el, wr) in enumerate(((2, 3, 4), (5, 6, 7))):
        o = rig.out[i]
        raise_ = prm[:, P_SHR + i]
        shoulder = neck + _rot(rig.sh_off[i][None], lean - o * raise_)
        a_up = prm[:, P_AR + 2 * i]
        a_fo = a_up + prm[:, P_BR + 2 * i]
        d_up = _rot(np.stack([o * np.sin(a_up), np.cos(a_up)], axis=-1), lean)
        d_fo = _rot(np.stack([o * np.sin(a_fo), np.cos(a_fo)], axis=-1), lean)
        out[:, sh] = shoulder
        out[:, el] = shoulder + rig.upper[i] * d_up
        out[:, wr] = out[:, el] + rig.fore[i] * d_fo
    out[:, _HEAD_JOINTS] = neck[:, None] + _rot(rig.head_off[None], (lean + prm[:, P_HEAD])[:, None])
    for i, (hp, kn, an) in enumerate(((8, 9, 10), (11, 12, 13))):
        hip = pelvis + hips_rel[:, i]
        a, b = rig.thigh[i], rig.shin[i]
        v = ankles[:, i] - hip
        d = np.linalg.norm(v, axis=-1)
        d_ok = np.clip(d, abs(a - b) + 1e-6, a + b - 1e-9)
        u = v / np.maximum(d, 1e-9)[:, None]
        cos_g = np.clip((a * a + d_ok ** 2 - b * b) / (2 * a * d_ok), -1.0, 1.0)
        knee = hip + a * _rot(u, rig.knee_dir[i] * np.arccos(cos_g))
        out[:, hp] = hip
        out[:, kn] = knee
        # the ankle sits at its target whenever the target is reachable (always, by the pelvis constraint)
        out[:, an] = knee + b * (ankles[:, i] - knee) / np.maximum(
            np.linalg.norm(ankles[:, i] - knee, axis=-1), 1e-9)[:, None]
    return out


# ------------------------------------------------------------------------------------------------ moves

# arm targets (upper-arm angle, forearm relative angle), see the parameter notes above
RELAX = (0.15, -0.15)
ARMS = {
    "relax": RELAX,
    "bent": (0.3, -1.0),  # elbows bent, hands in front of the belly
    "hip": (0.55, -1.45),  # hand on hip
    "out": (1.5, 0.0),  # horizontal, to the side
    "open": (1.05, -0.45),  # half open, before a clap
    "clap": (0.25, -2.05),  # hands together in front of the chest
    "high_clap": (2.8, 1.45),  # hands together above the head
    "v_up": (2.35, 0.0),  # diagonal up
    "up": (2.85, 0.1),  # straight up
    "flex": (1.45, 1.45),  # upper arm out, forearm up (goal post)
    "pump_up": (2.7, 0.35),
    "pump_mid": (2.05, 1.2),
    "point_down": (-0.35, 0.0),  # pointing down across the body
    "knee_touch": (0.55, -1.65),
}


def _arm(name_or_pair, amp: float) -> tuple[float, float]:
    """An arm target scaled towards the relaxed arm by ``amp`` (0..1)."""
    a, b = ARMS[name_or_pair] if isinstance(name_or_pair, str) else name_or_pair
    return RELAX[0] + amp * (a - RELAX[0]), RELAX[1] + amp * (b - RELAX[1])


def _key(amp: float = 1.0, dx=0.0, dy=0.0, lean=0.0, head=0.0, shr=0.0, shl=0.0, armr="relax", arml="relax"
         ) -> np.ndarray:
    """A full key row: displacements scaled by ``amp``, arms scaled towards RELAX by ``amp``."""
    v = np.empty(N_PARAMS)
    v[P_DX], v[P_DY], v[P_LEAN], v[P_HEAD] = dx * amp, dy * amp, lean * amp, head * amp
    v[P_SHR], v[P_SHL] = shr * amp, shl * amp
    v[[P_AR, P_BR]] = _arm(armr, amp)
    v[[P_AL, P_BL]] = _arm(arml, amp)
    return v


def _partial(**kw) -> np.ndarray:
    """An "and" row keying only the given parameters (others NaN = not keyed there)."""
    v = np.full(N_PARAMS, np.nan)
    names = {"dx": P_DX, "dy": P_DY, "lean": P_LEAN, "head": P_HEAD, "shr": P_SHR, "shl": P_SHL}
    for k, val in kw.items():
        v[names[k]] = val
    return v


@dataclass
class _MoveOut:
    """Keys of one move: rows [2 n, N_PARAMS] (row 2c = count c, row 2c + 1 = its "and", NaN = no key) and foot
    operations (op, foot 0=R / 1=L, size in head heights, start count, peak count, end count)."""

    rows: np.ndarray
    feet: list[tuple[str, int, float, float, float, float]] = field(default_factory=list)


def _rows(n: int) -> np.ndarray:
    return np.full((2 * n, N_PARAMS), np.nan)


def _mv_bounce(n, amps, rng):
    r = _rows(n)
    swing = rng.uniform(0.15, 0.35)
    for c in range(n):
        a = amps[c]
        side = c % 2
        r[2 * c] = _key(a, dy=0.13, head=0.05, armr=(RELAX[0] + swing * side, -0.3 - 0.4 * side),
                        arml=(RELAX[0] + swing * (1 - side), -0.3 - 0.4 * (1 - side)))
        r[2 * c + 1] = _partial(dy=0.0, head=0.0)
    return _MoveOut(r)


def _mv_sway(n, amps, rng):
    r = _rows(n)
    lean = rng.uniform(0.06, 0.1)
    for c in range(n):
        a, s = amps[c], 1.0 if (c // 2) % 2 == 0 else -1.0
        settle = 0.1 if c % 2 else 0.03
        r[2 * c] = _key(a, dx=0.3 * s, dy=settle, lean=-lean * s, head=-0.06 * s,
                        armr=(0.3 + 0.35 * (s > 0), -0.3), arml=(0.3 + 0.35 * (s < 0), -0.3))
    return _MoveOut(r)


def _mv_shoulder_pop(n, amps, rng):
    r = _rows(n)
    pop = rng.uniform(0.22, 0.32)
    for c in range(n):
        a, right = amps[c], c % 2 == 0
        r[2 * c] = _key(a, dy=0.06, head=0.08 if right else -0.08, shr=pop if right else 0.0,
                        shl=0.0 if right else pop, armr=(0.3 + 0.15 * right, -1.0),
                        arml=(0.3 + 0.15 * (not right), -1.0))
        r[2 * c + 1] = _partial(shr=0.0, shl=0.0, dy=0.0)
    return _MoveOut(r)


def _mv_hip_shift(n, amps, rng):
    r = _rows(n)
    shift = rng.uniform(0.28, 0.4)
    for c in range(n):
        a, s = amps[c], 1.0 if c % 2 == 0 else -1.0
        r[2 * c] = _key(a, dx=shift * s, dy=0.05, lean=-0.07 * s, head=0.05 * s, armr="hip", arml="hip")
    return _MoveOut(r)


def _mv_arm_wave(n, amps, rng):
    r = _rows(n)
    seq = [("out", "relax"), ("v_up", "out"), ("up", "v_up"), ("out", "out")]
    wob = rng.uniform(0.35, 0.6)
    for c in range(n):
        a = amps[c]
        ar, al = seq[c % 4]
        r[2 * c] = _key(a, dy=0.08, head=0.04 * (1 if c % 2 else -1), armr=ar, arml=al)
        # wave: the forearms flick between counts
        row = _partial(dy=0.0)
        row[P_BR] = _arm(ar, a)[1] + wob * a
        row[P_BL] = _arm(al, a)[1] - wob * a
        r[2 * c + 1] = row
    return _MoveOut(r)


def _mv_clap(n, amps, rng):
    r = _rows(n)
    high = rng.random() < 0.35
    for c in range(n):
        a = amps[c]
        if c % 2 == 0:
            r[2 * c] = _key(a, dy=0.03, armr="open" if not high else "v_up", arml="open" if not high else "v_up")
        else:
            arm = "high_clap" if high else "clap"
            r[2 * c] = _key(a, dy=0.15, head=0.06, armr=arm, arml=arm)
    return _MoveOut(r)


def _mv_step_touch(n, amps, rng):
    r = _rows(n)
    clap = rng.random() < 0.5
    feet = []
    for c in range(n):
        a = amps[c]
        phase = c % 4
        foot = 0 if phase < 2 else 1  # the foot that leads this half
        lean = 0.06 if foot == 0 else -0.06
        if phase % 2 == 0:  # step out
            feet.append(("out", foot, 0.9 * a, c, c + 0.5, c + 1))
            r[2 * c] = _key(a, dy=0.1, lean=lean, armr="open" if clap else ("out" if foot == 0 else "bent"),
                            arml="open" if clap else ("out" if foot == 1 else "bent"))
        else:  # the other foot closes
            feet.append(("in", 1 - foot, 0.0, c, c + 0.5, c + 1))
            r[2 * c] = _key(a, dy=0.16, lean=lean * 0.5, armr="clap" if clap else "bent",
                            arml="clap" if clap else "bent")
    return _MoveOut(r, feet)


def _mv_reach(n, amps, rng):
    r = _rows(n)
    for c in range(n):
        a = amps[c]
        phase = c % 4
        if phase == 0:
            r[2 * c] = _key(a, dy=0.08, lean=0.1, head=0.08, armr="v_up", arml="hip")
        elif phase == 2:
            r[2 * c] = _key(a, dy=0.08, lean=-0.1, head=-0.08, armr="hip", arml="v_up")
        else:
            r[2 * c] = _key(a, dy=0.14, armr="bent", arml="bent")
    return _MoveOut(r)


def _mv_squat(n, amps, rng):
    r = _rows(n)
    depth = rng.uniform(0.45, 0.65)
    seq = [(depth, "out", 0.0), (depth + 0.08, "flex", 0.05), (0.08, "v_up", -0.05), (0.14, "relax", 0.0)]
    for c in range(n):
        dy, arm, head = seq[c % 4]
        r[2 * c] = _key(amps[c], dy=dy, head=head, armr=arm, arml=arm)
    return _MoveOut(r)


def _mv_pump(n, amps, rng):
    r = _rows(n)
    for c in range(n):
        a = amps[c]
        r[2 * c] = _key(a, dy=0.12, head=0.08, armr="pump_up", arml="hip")
        row = _partial(dy=0.0, head=0.0)
        row[[P_AR, P_BR]] = _arm("pump_mid", a)
        r[2 * c + 1] = row
    return _MoveOut(r)


def _mv_knee_lift(n, amps, rng):
    r = _rows(n)
    feet = []
    for c in range(n):
        a = amps[c]
        phase = c % 4
        if phase in (0, 2):  # lift starts; the knee is highest on the next count
            foot = 0 if phase == 0 else 1
            if c + 2 <= n:
                feet.append(("lift", foot, 1.0 * a, c, c + 1, c + 2))
            r[2 * c] = _key(a, dy=0.06, armr="flex", arml="flex")
        else:
            foot = 0 if phase == 1 else 1
            touch = "knee_touch"
            r[2 * c] = _key(a, dy=0.1, lean=0.05 if foot == 1 else -0.05,
                            armr=touch if foot == 1 else "out", arml=touch if foot == 0 else "out")
    return _MoveOut(r, feet)


def _mv_disco(n, amps, rng):
    r = _rows(n)
    for c in range(n):
        a = amps[c]
        if c % 2 == 0:
            r[2 * c] = _key(a, dx=0.2, dy=0.05, lean=-0.05, head=-0.1, armr="v_up", arml="hip")
        else:
            r[2 * c] = _key(a, dx=-0.2, dy=0.1, lean=0.05, head=0.06, armr="point_down", arml="hip")
    return _MoveOut(r)


MOVES = {
    "bounce": _mv_bounce, "sway": _mv_sway, "shoulder_pop": _mv_shoulder_pop, "hip_shift": _mv_hip_shift,
    "arm_wave": _mv_arm_wave, "clap": _mv_clap, "step_touch": _mv_step_touch, "reach": _mv_reach,
    "squat": _mv_squat, "pump": _mv_pump, "knee_lift": _mv_knee_lift, "disco": _mv_disco,
}
# move pools by phrase energy (calm, medium, loud) with relative weights
POOLS = (
    {"bounce": 1.0, "sway": 1.5, "shoulder_pop": 1.2, "hip_shift": 1.2, "arm_wave": 0.6},
    {"arm_wave": 1.0, "clap": 1.0, "step_touch": 1.0, "reach": 1.0, "shoulder_pop": 0.6, "hip_shift": 0.6,
     "disco": 0.8, "sway": 0.4},
    {"clap": 1.0, "step_touch": 1.2, "reach": 0.8, "squat": 0.8, "pump": 1.0, "knee_lift": 0.9, "disco": 0.9,
     "arm_wave": 0.6},
)

# a close-up (legs outside the frame) draws from moves that show in the arms, shoulders and head
CLOSE_UP_POOLS = (
    {"sway": 1.2, "shoulder_pop": 1.5, "arm_wave": 1.0, "bounce": 0.5},
    {"arm_wave": 1.2, "clap": 1.2, "reach": 1.0, "shoulder_pop": 1.0, "disco": 0.8},
    {"clap": 1.2, "pump": 1.2, "reach": 1.0, "disco": 1.0, "arm_wave": 0.8},
)


def _mirror(out: _MoveOut) -> _MoveOut:
    r = out.rows.copy()
    r[:, [P_DX, P_LEAN, P_HEAD]] *= -1
    r[:, [P_SHR, P_SHL]] = out.rows[:, [P_SHL, P_SHR]]
    r[:, [P_AR, P_BR, P_AL, P_BL]] = out.rows[:, [P_AL, P_BL, P_AR, P_BR]]
    return _MoveOut(r, [(op, 1 - foot, size, c0, cm, c1) for op, foot, size, c0, cm, c1 in out.feet])


# ------------------------------------------------------------------------------------------------ planning


@dataclass(frozen=True)
class ChoreoConfig:
    """Settings of the procedural choreographer."""

    phrase_counts: int = 8  # counts per phrase (rounded to whole bars of the analysed meter)
    half_time_above_bpm: float = 140.0  # above this local tempo a count lasts two beats
    and_keys_below_bpm: float = 150.0  # "and" keys (between beats) are used only below this tempo
    default_bpm: float = 100.0  # beat grid used when the analysis found fewer than two beats
    intro_s: float = 0.6  # keys earlier than this are shrunk towards the reference pose (no jump at the start)
    amp_floor: float = 0.35  # move size in silence; grows with RMS energy to 1 at loud parts
    amp_jitter: float = 0.08  # per-phrase random change of move size (fraction)
    energy_calm: float = 0.45  # phrase energy (RMS / its 95th percentile) below which calm moves are used
    energy_loud: float = 0.75  # phrase energy above which the loud-move pool is used
    mirror_repeat_p: float = 0.45  # chance that a phrase's second half repeats its first half mirrored
    step_margin_heads: float = 0.3  # room (head heights) kept at the sides when travelling
    soft_knees_heads: float = 0.06  # the pelvis stays this much (head heights) below standing after the start
    ease: str = "cosine"  # easing between keys: "cosine" or "quintic" (sharper stops; ~0.03 better alignment)


@dataclass(frozen=True)
class MoveUse:
    """One move in the plan."""

    name: str  # key of MOVES
    start_s: float  # time of its first count
    end_s: float  # time of the count after its last
    counts: int  # number of counts
    mirrored: bool  # left and right swapped


@dataclass(frozen=True, eq=False)
class ChoreoPlan:
    """Everything needed to evaluate poses at any frame rate."""

    key_t: np.ndarray  # [K] key times (s), increasing, first 0.0
    key_v: np.ndarray  # [K, N_PARAMS] values (NaN = parameter not keyed there)
    steps: tuple  # ((foot, t0, t_peak, t1, x_from, x_to, lift) ...), x and lift in head heights, image x
    moves: tuple[MoveUse, ...]  # the moves in time order
    phrase_starts_s: np.ndarray  # [P] start time of each full phrase (s)
    count_s: np.ndarray  # [C] time of every count (s)


def _beat_grid(music, t_end: float, cfg: ChoreoConfig) -> tuple[np.ndarray, np.ndarray]:
    """Analysed beats extended over gaps and to cover [0, t_end]: (times [B], bar position [B])."""
    beats = np.asarray(getattr(music, "beats_s", np.zeros(0)), dtype=np.float64).reshape(-1)
    pos_in = np.asarray(getattr(music, "beat_index_in_bar", np.zeros(0)), dtype=np.int64).reshape(-1)
    bpb = int(getattr(music, "beats_per_bar", 4) or 4)
    bpb = bpb if 2 <= bpb <= 12 else 4
    keep = np.isfinite(beats)
    beats, pos_in = beats[keep], (pos_in[keep] if pos_in.shape == keep.shape else np.zeros(keep.sum(), np.int64))
    order = np.argsort(beats, kind="stable")
    beats, pos_in = beats[order], pos_in[order]
    if beats.size:
        ok = np.concatenate([[True], np.diff(beats) > 0.15])  # drop near-duplicates
        beats, pos_in = beats[ok], pos_in[ok]
    if beats.size < 2:
        tempo = float(getattr(music, "tempo_bpm", 0.0) or 0.0)
        period = 60.0 / (tempo if 40.0 <= tempo <= 240.0 else cfg.default_bpm)
        start = beats[0] if beats.size else period
        times = start + period * np.arange(0, int((t_end - start) / period) + 3)
        return times, (np.arange(times.size) % bpb)
    times, pos = [beats[0]], [int(pos_in[0]) % bpb]
    for i in range(1, beats.size):
        gap = beats[i] - beats[i - 1]
        local = np.median(np.diff(beats[max(0, i - 4): i + 4]))
        n_fill = int(round(gap / local)) - 1 if gap > 1.6 * local else 0
        for k in range(1, n_fill + 1):
            times.append(beats[i - 1] + gap * k / (n_fill + 1))
            pos.append((pos[-1] + 1) % bpb)
        times.append(beats[i])
        pos.append(int(pos_in[i]) % bpb)
    times_a, pos_a = np.array(times), np.array(pos)
    p_first = float(np.median(np.diff(times_a[:5])))
    p_last = float(np.median(np.diff(times_a[-5:])))
    n_before = int((times_a[0] - 0.25) // p_first) if times_a[0] > 0.25 + p_first else 0
    before = times_a[0] - p_first * np.arange(n_before, 0, -1)
    n_after = max(0, int(math.ceil((t_end - times_a[-1]) / p_last)) + 1)
    after = times_a[-1] + p_last * np.arange(1, n_after + 1)
    pos_b = (pos_a[0] - np.arange(n_before, 0, -1)) % bpb
    pos_c = (pos_a[-1] + np.arange(1, n_after + 1)) % bpb
    return np.concatenate([before, times_a, after]), np.concatenate([pos_b, pos_a, pos_c]).astype(np.int64)


def _energy(music, t0: np.ndarray, t1: np.ndarray, smooth: int = 4) -> np.ndarray:
    """Loudness of each count [C] in 0..1: mean RMS over [t0, t1), averaged over ``smooth`` neighbouring counts
    (about a bar, so accents inside a bar do not matter), divided by the 90th percentile of those values over the
    song (so a quietly mastered song still dances; quiet parts are quiet relative to the rest)."""
    ft = np.asarray(getattr(music, "frame_times_s", np.zeros(0)), dtype=np.float64).reshape(-1)
    rms = np.asarray(getattr(music, "rms", np.zeros(0)), dtype=np.float64).reshape(-1)
    if ft.size < 2 or rms.size != ft.size or not np.isfinite(rms).all() or t0.size == 0:
        return np.full(t0.shape, 0.7)
    cs = np.concatenate([[0.0], np.cumsum(rms)])
    i0 = np.clip(np.searchsorted(ft, t0), 0, ft.size - 1)
    i1 = np.maximum(np.clip(np.searchsorted(ft, t1), 0, ft.size), i0 + 1)
    mean = (cs[i1] - cs[i0]) / (i1 - i0)  # [C]
    if smooth > 1 and mean.size > 1:
        mean = uniform_filter1d(mean, min(smooth, mean.size), mode="nearest")
    inside = t0 < ft[-1]  # counts past the end of the audio (extrapolated beats) do not set the reference
    ref = float(np.percentile(mean[inside], 90)) if inside.any() else float(mean.max())
    if ref < 1e-6:
        return np.zeros(t0.shape)
    return np.clip(mean / ref, 0.0, 1.0)


def _song_key(music) -> int:
    beats = np.asarray(getattr(music, "beats_s", np.zeros(0)), dtype=np.float64)
    rms = np.asarray(getattr(music, "rms", np.zeros(0)), dtype=np.float32)
    return zlib.crc32(np.round(beats * 1000).astype(np.int64).tobytes() + rms[::7].tobytes())


class ProceduralChoreographer:
    """Beat-synced procedural dance (see the module docstring). Implements :class:`MusicToPose`."""

    def __init__(self, config: ChoreoConfig = ChoreoConfig()):
        if config.ease not in EASES:
            raise ChoreographyError(f"ease must be one of {EASES}, got {config.ease!r}")
        self.config = config

    # -- planning

    def plan(self, music: MusicAnalysis, seed: int, body: BodyLayout, t_end: float) -> ChoreoPlan:
        """Moves, keys and steps for [0, t_end] seconds."""
        cfg = self.config
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFFFFFF, _song_key(music)])
        rig = _make_rig(body)
        neutral = _neutral(rig)
        pools = POOLS if body.joints_in_frame().all() else CLOSE_UP_POOLS
        beats, bar = _beat_grid(music, t_end, cfg)
        bpb = int(getattr(music, "beats_per_bar", 4) or 4)
        bpb = bpb if 2 <= bpb <= 12 else 4
        phrase_len = max(bpb * max(1, cfg.phrase_counts // bpb), 2)

        # count grid: count times, the "and" after each count, and whether that "and" is itself a beat (half time)
        counts_t, and_t, and_beat = [], [], []
        segments = []  # (first count index, n counts, segment id or -1 for a pick-up / resync fill)
        phrase_starts = []
        i = 0
        while i < beats.size - 1 and beats[i] <= t_end:
            if bar[i] != 0:
                counts_t.append(beats[i])
                and_t.append((beats[i] + beats[i + 1]) / 2)
                and_beat.append(False)
                segments.append((len(counts_t) - 1, 1, -1))
                i += 1
                continue
            span = beats[i: i + phrase_len + 1]
            period = float(np.median(np.diff(span))) if span.size > 1 else 0.5
            step = 2 if 60.0 / period > cfg.half_time_above_bpm else 1
            n = min(phrase_len, (beats.size - 1 - i) // step)
            if n < 1:
                break
            first = len(counts_t)
            for c in range(n):
                b = i + c * step
                counts_t.append(beats[b])
                and_t.append(beats[b + 1] if step == 2 else (beats[b] + beats[b + 1]) / 2)
                and_beat.append(step == 2)
            segments.append((first, n, len(segments)))
            if n == phrase_len:
                phrase_starts.append(beats[i])
            i += n * step
        counts_t.append(beats[i])  # the end of the last segment
        counts = np.array(counts_t)
        and_t_a, and_beat_a = np.array(and_t), np.array(and_beat, dtype=bool)
        energy = _energy(music, counts[:-1], counts[1:], bpb)  # [C]
        amp_base = cfg.amp_floor + (1 - cfg.amp_floor) * energy  # [C]

        n_counts = counts.size - 1
        rows = np.full((2 * n_counts, N_PARAMS), np.nan)  # [2C, P]
        foot_ops = []  # (op, foot, size, t0, tm, t1)
        moves: list[MoveUse] = []
        use_count = {name: 0 for name in MOVES}
        prev = None

        def tempo_factor(t0: float, t1: float) -> float:
            inside = (beats >= t0) & (beats < t1)
            bpm = 60.0 * inside.sum() / max(t1 - t0, 1e-6)
            return float(np.clip((bpm - 50.0) / 50.0, 0.6, 1.0))

        def place(name: str, first: int, n: int, mirror: bool, amps: np.ndarray) -> None:
            out = MOVES[name](n, amps, rng)
            if mirror:
                out = _mirror(out)
            rows[2 * first: 2 * (first + n)] = out.rows
            for op, foot, size, c0, cm, c1 in out.feet:
                tt = [float(np.interp(first + c, np.arange(counts.size), counts)) for c in (c0, cm, c1)]
                foot_ops.append((op, foot, size, *tt))
            moves.append(MoveUse(name, float(counts[first]), float(counts[first + n]), n, mirror))
            use_count[name] += 1

        for first, n, phrase in segments:
            if phrase < 0:
                place("bounce", first, n, bool(rng.random() < 0.5), amp_base[first: first + n] * 0.8)
                continue
            # calm / medium / loud pool from the phrase's loudness, tempered for slow songs
            e = float(energy[first: first + n].mean()) * tempo_factor(counts[first], counts[first + n])
            pool = pools[0 if e < cfg.energy_calm else (2 if e > cfg.energy_loud else 1)]
            jitter = 1.0 + cfg.amp_jitter * rng.uniform(-1.0, 1.0)
            amps = np.clip(amp_base[first: first + n] * jitter, 0.2, 1.05)
            if n == 8:
                layouts = ((4, 4), (4, 4), (2, 2, 4), (4, 2, 2), (8,))
                parts = list(layouts[int(rng.integers(len(layouts)))])
            else:
                parts = [4] * (n // 4) + ([n % 4] if n % 4 else [])
            at = first
            repeat = len(parts) == 2 and parts[0] == parts[1] and rng.random() < cfg.mirror_repeat_p
            chosen = None
            for k, size in enumerate(parts):
                if k == 1 and repeat and chosen is not None:
                    name, mirror = chosen[0], not chosen[1]
                else:
                    names = [m for m in pool if m != prev]
                    w = np.array([pool[m] / (1.0 + 0.5 * use_count[m]) for m in names])
                    name = str(rng.choice(names, p=w / w.sum()))
                    mirror = bool(rng.random() < 0.5)
                place(name, at, size, mirror, amps[at - first: at - first + size])
                chosen, prev = (name, mirror), name
                at += size

        # key table: every count keys every parameter; "and" rows key what the move asked for (all parameters,
        # by linear interpolation, when the "and" is itself a beat), and no "and" keys at very fast tempi
        key_t = [0.0]
        key_v = [neutral]
        for c in range(n_counts):
            key_t.append(counts[c])
            key_v.append(rows[2 * c])
            and_row = rows[2 * c + 1]
            if and_beat_a[c]:
                nxt = rows[2 * c + 2] if c + 1 < n_counts else rows[2 * c]
                mid = 0.5 * (rows[2 * c] + nxt)
                and_row = np.where(np.isnan(and_row), mid, and_row)
            elif 60.0 / max(counts[c + 1] - counts[c], 1e-6) > cfg.and_keys_below_bpm:
                continue
            if np.isfinite(and_row).any():
                key_t.append(and_t_a[c])
                key_v.append(and_row)
        key_t.append(counts[-1])
        key_v.append(_key((float(amp_base[-1]) if amp_base.size else cfg.amp_floor) * 0.8, dy=0.05))
        kt, kv = np.array(key_t), np.array(key_v)
        # no key at (or before) t = 0 other than the reference pose
        keep = np.concatenate([[True], kt[1:] > 1e-3])
        kt, kv = kt[keep], kv[keep]
        kv[1:, P_DY] += cfg.soft_knees_heads  # knees stay a little bent after the start (NaN stays NaN)
        # shrink early keys towards the reference pose so the first move does not jump
        ramp = np.clip(kt / cfg.intro_s, 0.0, 1.0)[:, None]
        kv = np.where(np.isnan(kv), np.nan, neutral + ramp * (kv - neutral))

        steps = self._plan_steps(foot_ops, rig, body)
        return ChoreoPlan(key_t=kt, key_v=kv, steps=tuple(steps), moves=tuple(moves),
                          phrase_starts_s=np.array(phrase_starts), count_s=counts)

    def _plan_steps(self, ops, rig: _Rig, body: BodyLayout) -> list[tuple]:
        """Foot operations -> concrete steps (foot, t0, tm, t1, x_from, x_to, lift), x in head heights (image x
        offset from the frame-0 ankle), keeping the feet apart and the body's travel inside the canvas."""
        h = rig.head
        k = body.work_keypoints()
        # how far the whole frame-0 body may travel sideways (head heights), always allowing 0
        inside = (k[:, 0] >= 0) & (k[:, 0] < body.canvas_w)
        xs = k[inside, 0] if inside.any() else k[:, 0]
        m = _margin(body.canvas_w, body.canvas_h) + self.config.step_margin_heads * h
        lo = min(0.0, (m - xs.min()) / h)
        hi = max(0.0, (body.canvas_w - 1 - m - xs.max()) / h)
        base = rig.ankle0[:, 0] / h  # frame-0 ankle x (head heights)
        width0 = abs(base[1] - base[0])
        min_w, max_w = max(0.35, 0.7 * width0), width0 + 1.6
        x = np.zeros(2)  # current offsets
        steps = []
        for op, foot, size, t0, tm, t1 in sorted(ops, key=lambda o: o[3]):
            o = rig.out[foot]
            other = 1 - foot
            if op == "lift":
                steps.append((foot, t0, tm, t1, x[foot], x[foot], float(size)))
                continue
            if op == "out":
                target = x[foot] + o * size
            else:  # close towards the other foot at the frame-0 width
                target = (base[other] + x[other]) + o * width0 - base[foot]
            # stance width limits (feet never cross)
            sep = (base[foot] + target - base[other] - x[other]) * o
            sep_ok = float(np.clip(sep, min_w, max_w))
            target = base[other] + x[other] + o * sep_ok - base[foot]
            # travel limits: the mean foot offset stays within [lo, hi]
            centre = 0.5 * (target + x[other])
            target += 2 * (float(np.clip(centre, lo, hi)) - centre)
            sep = (base[foot] + target - base[other] - x[other]) * o
            if sep < min_w - 1e-6 or sep > max_w + 1e-6 or abs(target - x[foot]) < 0.05:
                steps.append((foot, t0, tm, t1, x[foot], x[foot], 0.25 * size + 0.1))  # a tap in place
                continue
            steps.append((foot, t0, tm, t1, x[foot], float(target), 0.35))
            x[foot] = target
        return steps

    # -- evaluation

    def poses_from_plan(self, plan: ChoreoPlan, body: BodyLayout, fps: float, n_frames: int) -> np.ndarray:
        """Evaluate a plan at frames t / fps, t = 0 .. n_frames - 1: [T, 18, 2] float32 canvas px.

        Staying inside the frame: every key has an amplitude a_k (1 = the move as planned, 0 = the reference pose,
        parameters in between move linearly). While some frame has a joint outside the canvas (minus the margin),
        the keys around that frame shrink by 15%; the amplitude is eased between keys like the moves, so it adds
        no motion on the beats, and feet are never moved (steps are planned inside the travel limits)."""
        rig = _make_rig(body)
        neutral = _neutral(rig)
        t = np.arange(n_frames, dtype=np.float64) / fps
        kt, kv = plan.key_t, plan.key_v
        feet_x, lift = _feet(t, plan.steps, rig.head)
        box_lo, box_hi, relevant = _frame_box(body)
        seg = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, kt.size - 1)  # [T] key segment of each frame

        def evaluate(a_keys: np.ndarray) -> np.ndarray:
            scaled = neutral + a_keys[:, None] * (kv - neutral)  # [K, P], NaN stays NaN
            prm = np.empty((n_frames, N_PARAMS))
            for p in range(N_PARAMS):
                ok = np.isfinite(scaled[:, p])
                prm[:, p] = _ease_interp(t, kt[ok], scaled[ok, p], self.config.ease)
            a_t = _ease_interp(t, kt, a_keys, self.config.ease)[:, None]
            return _forward(rig, prm, feet_x, a_t * lift)

        def outside(poses: np.ndarray) -> np.ndarray:
            q = poses[:, relevant]
            return ~((q >= box_lo - 1e-3) & (q <= box_hi + 1e-3)).all(axis=(1, 2))

        # the keys that shape a frame: from the last key of all parameters at or before it to the next one after it
        full = np.flatnonzero(np.isfinite(kv).all(axis=1))  # count keys (every parameter keyed)
        first_k = full[np.clip(np.searchsorted(full, seg, side="right") - 1, 0, full.size - 1)]  # [T]
        last_k = full[np.clip(np.searchsorted(full, seg + 1, side="left"), 0, full.size - 1)]  # [T]
        a_keys = np.ones(kt.size)
        out = evaluate(a_keys)
        bad = outside(out)
        for _ in range(24):
            if not bad.any():
                break
            shrink = np.zeros(kt.size + 1)
            np.add.at(shrink, first_k[bad], 1)
            np.add.at(shrink, last_k[bad] + 1, -1)
            hit = np.cumsum(shrink)[:-1] > 0  # [K] keys between first_k and last_k of some bad frame
            a_keys = np.where(hit, a_keys * 0.85, a_keys)
            a_keys = np.where(a_keys < 0.03, 0.0, a_keys)
            out = evaluate(a_keys)
            bad = outside(out)
        if bad.any():  # last resort (the reference pose itself does not fit): move the whole body in
            out[bad] = _shift_inside(out[bad], box_lo, box_hi, relevant)
        out[0] = body.work_keypoints()
        return (out * np.array([1.0, body.y_stretch])).astype(np.float32)

    def __call__(self, music: MusicAnalysis, fps: float, seed: int, body: BodyLayout,
                 n_frames: int | None = None) -> np.ndarray:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ChoreographyError(f"the seed must be a whole number, got {seed!r}")
        fps = float(fps)
        if not math.isfinite(fps) or fps <= 0 or fps > 240:
            raise ChoreographyError(f"fps must be within (0, 240], got {fps}")
        if n_frames is None:
            n_frames = int(round(float(music.duration_s) * fps))
        n_frames = int(n_frames)
        if n_frames < 1:
            raise ChoreographyError("the dance must have at least one frame (music too short for this fps?)")
        plan = self.plan(music, seed, body, (n_frames - 1) / fps)
        return self.poses_from_plan(plan, body, fps, n_frames)


EASES = ("cosine", "quintic")


def _ease_interp(t: np.ndarray, kt: np.ndarray, kv: np.ndarray, ease: str = "cosine") -> np.ndarray:
    """Eased interpolation through keys (zero slope at every key); constant outside the keys.

    "cosine": (1 - cos(pi u)) / 2; "quintic": 6u^5 - 15u^4 + 10u^3 (also zero acceleration at the keys: longer
    stops on the beats, faster motion between them)."""
    if kt.size == 1:
        return np.full(t.shape, kv[0])
    i = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, kt.size - 2)
    u = np.clip((t - kt[i]) / np.maximum(kt[i + 1] - kt[i], 1e-9), 0.0, 1.0)
    s = u * u * u * (u * (6 * u - 15) + 10) if ease == "quintic" else 0.5 - 0.5 * np.cos(np.pi * u)
    return kv[i] + s * (kv[i + 1] - kv[i])


def _feet(t: np.ndarray, steps, head: float) -> tuple[np.ndarray, np.ndarray]:
    """Foot x offsets and lifts [T, 2] (work px) from steps; a foot moves sideways only in the middle 70% of its
    step, while it is off the ground, and rises and falls with cosine easing."""
    x = np.zeros((t.size, 2))
    lift = np.zeros((t.size, 2))
    for foot in (0, 1):
        for _, t0, tm, t1, x0, x1, up in (s for s in steps if s[0] == foot):
            x[t >= t0, foot] = x0
            sel = (t >= t0) & (t < t1)
            if not sel.any():
                continue
            tt = t[sel]
            u = np.clip(((tt - t0) / max(t1 - t0, 1e-9) - 0.15) / 0.7, 0.0, 1.0)
            x[sel, foot] = x0 + (x1 - x0) * (0.5 - 0.5 * np.cos(np.pi * u))
            rise = np.where(tt < tm, (tt - t0) / max(tm - t0, 1e-9), (t1 - tt) / max(t1 - tm, 1e-9))
            lift[sel, foot] = up * (0.5 - 0.5 * np.cos(np.pi * np.clip(rise, 0.0, 1.0)))
            x[t >= t1, foot] = x1
    return x * head, lift * head


_CLOSE_UP_KEPT = [J[n] for n in ("Nose", "Neck", "RShoulder", "LShoulder", "REye", "LEye", "REar", "LEar")]


def _frame_box(body: BodyLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Work-space box every relevant joint must stay in, and which joints are relevant (inside the canvas at
    frame 0). The box is the canvas minus the margin, widened to include the frame-0 joints.

    A close-up (some joints already outside the canvas at frame 0, as at the photo's scale) keeps only the head,
    neck and shoulders in frame: arms may swing out of the picture and back, as in a close-up dance video;
    holding them inside would leave a close-up almost motionless."""
    k = body.work_keypoints()
    ys = body.y_stretch
    m = _margin(body.canvas_w, body.canvas_h)
    lo = np.array([m, m / ys])
    hi = np.array([body.canvas_w - 1 - m, (body.canvas_h - 1 - m) / ys])
    relevant = body.joints_in_frame()
    if not relevant.all():
        kept = np.zeros_like(relevant)
        kept[_CLOSE_UP_KEPT] = True
        relevant &= kept
    if relevant.any():
        lo = np.minimum(lo, k[relevant].min(axis=0))
        hi = np.maximum(hi, k[relevant].max(axis=0))
    return lo, hi, relevant


def _shift_inside(poses: np.ndarray, lo: np.ndarray, hi: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Shrink (about the centre of the box) and shift whole poses [N, 18, 2] so the relevant joints fit."""
    q = poses[:, relevant]
    size = np.maximum(q.max(axis=1) - q.min(axis=1), 1e-9)  # [N, 2]
    s = np.minimum(1.0, ((hi - lo) / size).min(axis=1))[:, None, None]  # [N, 1, 1]
    centre = (q.max(axis=1) + q.min(axis=1))[:, None] / 2
    poses = centre + s * (poses - centre)
    q = poses[:, relevant]
    shift = np.maximum(lo - q.min(axis=1), 0.0) + np.minimum(hi - q.max(axis=1), 0.0)  # [N, 2]
    return poses + shift[:, None]
