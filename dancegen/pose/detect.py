"""Body keypoints of the person in the reference photo (real path): DWPose = YOLOX person detector + RTMPose-style
whole-body model with SimCC heads, run with onnxruntime, giving OpenPose-18 keypoints + confidences for
:func:`dancegen.pose.layout.body_from_keypoints`.

Weights: the two ONNX files StableAnimator uses (``yolox_l.onnx`` and ``dw-ll_ucoco_384.onnx``), found in a
checkpoints folder (``DWPose/``, StableAnimator's layout) by :func:`dwpose_folder`, or fetched from StableAnimator's
hub repo on request. Nothing is loaded or downloaded at import.

Processing, as StableAnimator's ``DWPose/dwpose_utils`` (``onnxdet.py``, ``onnxpose.py``, ``wholebody.py``; read at
commit 020e7f2, no code copied):

* The image is given as RGB uint8 (StableAnimator reads with OpenCV and converts BGR -> RGB before detection).
* Detector: the image is resized by r = min(640 / h, 640 / w) (bilinear) into the top-left of a 640 x 640 canvas
  filled with 114, fed as float 0..255 NCHW; outputs [1, 8400, 85] are decoded on the 8 / 16 / 32 stride grids
  (xy = (out + grid) * stride, wh = exp(out) * stride), score = objectness x class score, class-wise NMS at IoU 0.45
  with score > 0.1, then persons (class 0) with score > 0.3 are kept. No person -> the whole image is the box.
* Pose: each box -> centre and size x 1.25, widened to the model's aspect (w / h), warped by an affine transform to
  the model input (288 x 384), normalised with mean (123.675, 116.28, 103.53) and std (58.395, 57.12, 57.375).
  SimCC decoding: argmax of the x and y vectors, score = the smaller of the two maxima, locations / 2 (split
  ratio), mapped back through the box; a location with score <= 0 becomes -1.
* COCO-WholeBody 133 -> OpenPose-18: the first 17 (COCO body) reordered, plus a neck = mean of the shoulders whose
  score is 1 when both shoulder scores are > 0.3, else 0 (DWPose's convention).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import hub
from ..onnxrt import open_session

DETECTOR_FILE = "yolox_l.onnx"
POSE_FILE = "dw-ll_ucoco_384.onnx"

# OpenPose-18 joint j <- COCO-17 keypoint COCO_FOR_OPENPOSE[j] (None: the neck, made from the shoulders)
COCO_FOR_OPENPOSE = (0, None, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)
POSE_MEAN = (123.675, 116.28, 103.53)  # RGB
POSE_STD = (58.395, 57.12, 57.375)


@dataclass(frozen=True)
class BodyDetectorConfig:
    """Settings of the DWPose body detector."""

    det_size: int = 640  # square YOLOX input side (px)
    det_pad_value: int = 114  # fill of the letterbox canvas
    nms_iou: float = 0.45  # class-wise NMS IoU threshold
    det_min_score: float = 0.1  # candidate boxes below this are dropped before NMS
    person_min_score: float = 0.3  # kept person boxes need more than this
    box_padding: float = 1.25  # the pose crop is the box enlarged by this factor
    simcc_split_ratio: float = 2.0  # SimCC bins per input pixel
    providers: tuple[str, ...] = ("CPUExecutionProvider",)  # onnxruntime providers, in order of preference
    threads: int = 0  # onnxruntime intra-op threads (0 = its default)


@dataclass(frozen=True, eq=False)
class BodyKeypoints:
    """One person's body in image pixels."""

    keypoints: np.ndarray  # [18, 2] float64 OpenPose-18 joints (x, y) in image px
    scores: np.ndarray  # [18] float64 confidences (neck: 1 or 0, as DWPose)
    box: np.ndarray  # [4] float64 person box (x0, y0, x1, y1) in image px


# ------------------------------------------------------------------------------------------------ detector pieces


def letterbox(image: np.ndarray, size: int, pad_value: int = 114) -> tuple[np.ndarray, float]:
    """RGB uint8 [H, W, 3] -> (float32 [3, size, size] with the resized image top-left, resize ratio r)."""
    import cv2

    h, w = image.shape[:2]
    r = min(size / h, size / w)
    nh, nw = int(h * r), int(w * r)
    canvas = np.full((size, size, 3), pad_value, dtype=np.uint8)
    canvas[:nh, :nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(canvas.transpose(2, 0, 1), dtype=np.float32), r


def decode_yolox(raw: np.ndarray, size: int, strides: tuple[int, ...] = (8, 16, 32)) -> np.ndarray:
    """Raw YOLOX outputs [A, 5 + classes] (one image) -> [A, 5 + classes] with boxes as (cx, cy, w, h) input px."""
    out = np.array(raw, dtype=np.float64, copy=True)
    grids, steps = [], []
    for s in strides:
        n = size // s
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        grids.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        steps.append(np.full((n * n, 1), s))
    grid, stride = np.concatenate(grids), np.concatenate(steps)
    if grid.shape[0] != out.shape[0]:
        raise ValueError(f"the detector gave {out.shape[0]} anchors, expected {grid.shape[0]} for {size} px")
    out[:, :2] = (out[:, :2] + grid) * stride
    out[:, 2:4] = np.exp(out[:, 2:4]) * stride
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression (DWPose's +1 pixel area convention); indices of kept boxes, best first."""
    x0, y0, x1, y1 = boxes.T
    area = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = np.argsort(scores)[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(int(i))
        w = np.maximum(0.0, np.minimum(x1[i], x1[order[1:]]) - np.maximum(x0[i], x0[order[1:]]) + 1)
        h = np.maximum(0.0, np.minimum(y1[i], y1[order[1:]]) - np.maximum(y0[i], y0[order[1:]]) + 1)
        inter = w * h
        overlap = inter / (area[i] + area[order[1:]] - inter)
        order = order[1:][overlap <= iou]
    return keep


def person_boxes(decoded: np.ndarray, ratio: float, config: BodyDetectorConfig = BodyDetectorConfig()) -> np.ndarray:
    """Decoded YOLOX rows [A, 5 + classes] -> person boxes [N, 4] (x0, y0, x1, y1) in original image px, best first."""
    cx, cy, w, h = decoded[:, 0], decoded[:, 1], decoded[:, 2], decoded[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1) / ratio  # [A, 4]
    scores = decoded[:, 4:5] * decoded[:, 5:]  # [A, classes]
    kept_boxes, kept_scores, kept_cls = [], [], []
    for c in range(scores.shape[1]):
        sel = scores[:, c] > config.det_min_score
        if not sel.any():
            continue
        keep = nms(boxes[sel], scores[sel, c], config.nms_iou)
        kept_boxes.append(boxes[sel][keep])
        kept_scores.append(scores[sel, c][keep])
        kept_cls.append(np.full(len(keep), c))
    if not kept_boxes:
        return np.zeros((0, 4))
    b, s, c = np.concatenate(kept_boxes), np.concatenate(kept_scores), np.concatenate(kept_cls)
    ok = (s > config.person_min_score) & (c == 0)
    return b[ok][np.argsort(-s[ok], kind="stable")]


# ------------------------------------------------------------------------------------------------ pose pieces


def box_to_center_scale(box, padding: float = 1.25, aspect: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(x0, y0, x1, y1) -> centre [2] and size [2] enlarged by ``padding`` and widened to ``aspect`` (w / h)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    center = np.array([x0 + x1, y0 + y1]) * 0.5
    scale = np.array([x1 - x0, y1 - y0]) * padding
    if aspect is not None:
        w, h = scale
        scale = np.array([w, w / aspect]) if w > h * aspect else np.array([h * aspect, h])
    return center, scale


def crop_matrix(center: np.ndarray, scale: np.ndarray, out_wh: tuple[int, int]) -> np.ndarray:
    """2 x 3 affine matrix mapping the box (centre, size) onto an out_w x out_h crop (no rotation)."""
    k = out_wh[0] / scale[0]  # the box width fills the crop width; the aspect already matches
    return np.array([[k, 0.0, out_wh[0] / 2 - k * center[0]], [0.0, k, out_wh[1] / 2 - k * center[1]]])


def simcc_decode(simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float = 2.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """SimCC vectors [N, K, Wx], [N, K, Wy] -> locations [N, K, 2] in input px and scores [N, K]."""
    x = np.asarray(simcc_x, dtype=np.float64)
    y = np.asarray(simcc_y, dtype=np.float64)
    locs = np.stack([np.argmax(x, axis=-1), np.argmax(y, axis=-1)], axis=-1).astype(np.float64)
    vals = np.minimum(np.max(x, axis=-1), np.max(y, axis=-1))
    locs[vals <= 0.0] = -1.0
    return locs / split_ratio, vals


def coco_to_openpose18(kps: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COCO(-WholeBody) keypoints [K >= 17, 2] and scores [K] -> OpenPose-18 keypoints [18, 2] and scores [18]."""
    kps = np.asarray(kps, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if kps.ndim != 2 or kps.shape[0] < 17 or kps.shape[1] != 2 or scores.shape != kps.shape[:1]:
        raise ValueError(f"expected at least 17 COCO keypoints with scores, got {kps.shape} / {scores.shape}")
    out, conf = np.empty((18, 2)), np.empty(18)
    for j, c in enumerate(COCO_FOR_OPENPOSE):
        if c is None:
            out[j] = (kps[5] + kps[6]) / 2
            conf[j] = float(scores[5] > 0.3 and scores[6] > 0.3)
        else:
            out[j], conf[j] = kps[c], scores[c]
    return out, conf


# ------------------------------------------------------------------------------------------------ detector


def find_dwpose(root: str | os.PathLike) -> Path | None:
    """The folder holding both DWPose files in a checkpoints folder (``root/DWPose`` or ``root``), or None."""
    for folder in (Path(root) / "DWPose", Path(root)):
        if all((folder / n).is_file() for n in (DETECTOR_FILE, POSE_FILE)):
            return folder
    return None


def dwpose_folder(root: str | os.PathLike | None, download: bool = False,
                  cache_dir: str | os.PathLike | None = None) -> Path | None:
    """DWPose under ``root``, else (``download``) from StableAnimator's hub repo, else None (it is optional: without
    it the dancer is placed from the face box)."""
    found = find_dwpose(root) if root is not None else None
    if found is None and download:
        found = find_dwpose(hub.fetch(hub.STABLEANIMATOR_REPO, ["DWPose/*.onnx"], cache_dir))
    return found


class BodyDetector:
    """DWPose on onnxruntime: ``detect(rgb) -> BodyKeypoints`` of the most confident person (or None)."""

    def __init__(self, det_session: Any, pose_session: Any, config: BodyDetectorConfig = BodyDetectorConfig()):
        self.det = det_session  # onnxruntime.InferenceSession of yolox_l.onnx (or anything with run / get_inputs)
        self.pose = pose_session  # onnxruntime.InferenceSession of dw-ll_ucoco_384.onnx
        self.config = config

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, config: BodyDetectorConfig = BodyDetectorConfig()
                    ) -> BodyDetector:
        folder = Path(folder)
        det = open_session(folder / DETECTOR_FILE, config.providers, config.threads)
        pose = open_session(folder / POSE_FILE, config.providers, config.threads)
        return cls(det, pose, config)

    def detect_all(self, image: np.ndarray) -> list[BodyKeypoints]:
        """Every detected person in an RGB uint8 image [H, W, 3], most confident box first."""
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 or min(img.shape[:2]) < 2:
            raise ValueError(f"expected an RGB uint8 picture [H, W, 3], got {img.dtype} {img.shape}")
        cfg = self.config
        batch, ratio = letterbox(img, cfg.det_size, cfg.det_pad_value)
        raw = self.det.run(None, {self.det.get_inputs()[0].name: batch[None]})[0][0]  # [A, 5 + classes]
        boxes = person_boxes(decode_yolox(raw, cfg.det_size), ratio, cfg)
        if boxes.shape[0] == 0:
            h, w = img.shape[:2]
            boxes = np.array([[0.0, 0.0, float(w), float(h)]])
        return [self._pose_in_box(img, box) for box in boxes]

    def detect(self, image: np.ndarray) -> BodyKeypoints | None:
        people = self.detect_all(image)
        return people[0] if people else None

    def _pose_in_box(self, img: np.ndarray, box: np.ndarray) -> BodyKeypoints:
        import cv2

        cfg = self.config
        inp = self.pose.get_inputs()[0]
        in_h, in_w = (int(v) for v in inp.shape[2:4])
        center, scale = box_to_center_scale(box, cfg.box_padding, in_w / in_h)
        mat = crop_matrix(center, scale, (in_w, in_h))
        crop = cv2.warpAffine(img, mat, (in_w, in_h), flags=cv2.INTER_LINEAR).astype(np.float64)
        crop = (crop - np.array(POSE_MEAN)) / np.array(POSE_STD)
        x = np.ascontiguousarray(crop.transpose(2, 0, 1)[None], dtype=np.float32)  # [1, 3, in_h, in_w]
        simcc_x, simcc_y = self.pose.run(None, {inp.name: x})[:2]
        locs, vals = simcc_decode(simcc_x, simcc_y, cfg.simcc_split_ratio)  # [1, K, 2], [1, K]
        kps = locs[0] / np.array([in_w, in_h]) * scale + center - scale / 2  # crop px -> image px
        op, conf = coco_to_openpose18(kps, vals[0])
        return BodyKeypoints(keypoints=op, scores=conf, box=np.asarray(box, dtype=np.float64))
