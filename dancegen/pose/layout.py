"""Where the dancer stands on the generation canvas at frame 0: a :class:`BodyLayout` from a face box or keypoints.

Coordinates
    Every pose is ``[18, 2]`` float (x right, y down) in pixels of the *generation canvas* (W x H), joints in the
    OpenPose-18 order of :data:`dancegen.pose.topology.JOINTS`. The functions below take the face box or keypoints in
    pixels of the *reference* (w x h) and map them by a plain resize of the whole reference to W x H: (u, v) ->
    (u * W / w, v * H / h), as the pipeline resizes the reference for the VAE (StableAnimator resizes the reference
    to H x W too), so frame 0 of the skeleton lies on the person. The studio's reference is the photo cropped to the
    canvas's aspect (:mod:`.reference`), so the two scales agree to a pixel and nothing is stretched; for a reference
    of another aspect the body is built in an isotropic "work" space (reference pixels times W / w) and its y is
    stretched by ``BodyLayout.y_stretch`` at the end, exactly like the resized pixels.

Layout
    :func:`body_from_face` (face box only: standard proportions, 7.5 head heights) and :func:`body_from_keypoints`
    (a detected OpenPose-18 body, missing joints filled from proportions) give a :class:`BodyLayout`: the canvas,
    the frame-0 keypoints and the bone lengths.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .topology import J, LIMBS, PARENT

Pair = tuple[float, float] | Sequence[float]  # (width, height)


class BodyLayoutError(ValueError):
    """A face box, keypoints or canvas that cannot give a body layout (one-line message)."""


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


def bone_lengths(pts: np.ndarray) -> np.ndarray:
    return np.array([np.hypot(*(pts[b] - pts[a])) for a, b in LIMBS], dtype=np.float64)  # [17]


def _check_sizes(image_size_wh: Pair, canvas_size_wh: Pair) -> tuple[float, float, int, int]:
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


def margin(cw: int, ch: int) -> float:
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
    m = margin(cw, ch)
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
    return BodyLayout(canvas_w=cw, canvas_h=ch, keypoints=kps.astype(np.float64), bone_lengths=bone_lengths(pts_work),
                      head_height=float(head_h), y_stretch=float(ys), fit_scale=float(scale), source=source,
                      notices=notices)


def body_from_face(face_bbox_xyxy: Sequence[float] | np.ndarray, image_size_wh: Pair, canvas_size_wh: Pair,
                   fit: str = "scale",
                   proportions: Proportions = DEFAULT_PROPORTIONS) -> BodyLayout:
    """A standing front-facing body whose head sits on the face box.

    face_bbox_xyxy: (x0, y0, x1, y1) of the face in reference px (a face detector's box, forehead to chin).
    image_size_wh: reference (width, height), the photo or the studio's crop of it (:mod:`.reference`);
    canvas_size_wh: generation canvas (W, H).
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




def body_from_keypoints(kps18: np.ndarray, conf: np.ndarray, image_size_wh: Pair, canvas_size_wh: Pair,
                        fit: str = "scale", min_conf: float = 0.3,
                        proportions: Proportions = DEFAULT_PROPORTIONS) -> BodyLayout:
    """Layout from a detected OpenPose-18 body (reference px) with per-joint confidences [18].

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
        parent = PARENT[j]
        fill(parent)
        out[j] = out[parent] + head * (q[j] - q[parent])

    for j in range(18):
        fill(j)
    sx, sy = cw / iw, ch / ih
    work = out * sx
    work, scale, notices = _fit(work, work[J["Nose"]].copy(), cw, ch, sy / sx, fit)
    return _layout(work, head * sx * scale, cw, ch, sy / sx, scale, "keypoints", notices)

