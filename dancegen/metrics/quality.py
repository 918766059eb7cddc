"""Frame quality of generated videos: temporal flicker where the dance does not move (no reference video needed)
and, against a ground-truth video, PSNR and SSIM through torchmetrics, with LPIPS only when its backbone weights
are on this machine.

Flicker, precisely. Between consecutive frames t-1 and t, a pixel *moves with the dance* when it lies within
``margin`` px (Euclidean distance) of a pixel whose skeleton drawing (the drawing the pose encoder sees: body,
hands and face) differs between t-1 and t in any channel; every other pixel is *still*: the skeleton around it,
drawn limbs and black background alike, is identical in both frames, so nothing in the conditioning asks it to
change. The flicker is the mean absolute difference of the two frames over the still pixels and the three
channels, in grey levels (0-255), pooled over all consecutive pairs. A still video has flicker 0; noise that
changes from frame to frame raises it. ``still_fraction`` says how much of the video it covers. The default
margin is 8 % of the shorter side (10 px at 128 px, 41 px at 512 px): a limb's own width and some of the body
around its bone.

Videos stream through the meters chunk by chunk (``add``), so only the previous frame is ever kept.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

STILL_MARGIN = 0.08  # pixels within this fraction of the shorter side of a changed skeleton pixel are not still


def margin_px(width: int, height: int, fraction: float = STILL_MARGIN) -> int:
    """The still-pixel margin of a ``width`` x ``height`` video, px."""
    return max(1, round(fraction * min(width, height)))


def moving_mask(previous: np.ndarray, current: np.ndarray, margin: int, scale: int = 1) -> np.ndarray:
    """Skeleton drawings of two consecutive frames, [scale * H, scale * W, 3] each -> bool [H, W]: True where the
    dance moves the picture, i.e. within ``margin`` frame px of a drawing pixel that differs between the two."""
    difference = cv2.transform(cv2.absdiff(previous, current), np.ones((1, 3), np.float32))  # [sH, sW] channel sum
    changed = (difference > 0).astype(np.uint8)
    if scale > 1:  # a frame pixel changed when any of its scale x scale drawing pixels did
        h, w = changed.shape[0] // scale, changed.shape[1] // scale
        changed = changed.reshape(h, scale, w, scale).max(axis=(1, 3))  # [H, W]
    if not changed.any():
        return changed.astype(bool)
    # exact Euclidean distance of every pixel to the nearest changed one
    distance = cv2.distanceTransform(1 - changed, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)  # [H, W] px
    return distance <= margin


class FlickerMeter:
    """Temporal flicker (module docstring) of several videos that follow the same skeletons: ``add(frames,
    skeletons)`` with consecutive chunks, frames {name: [n, H, W, 3] uint8} and skeleton drawings
    [n, scale * H, scale * W, 3]; then ``score(name)``."""

    def __init__(self, names: Sequence[str], margin: int, scale: int = 1):
        self.names, self.margin, self.scale = list(names), int(margin), int(scale)
        self.last_skeleton: np.ndarray | None = None  # [sH, sW, 3] the previous frame's drawing
        self.last: dict[str, np.ndarray] = {}  # name -> [H, W, 3] the previous frame
        self.total = dict.fromkeys(self.names, 0.0)  # sum of |difference| over still pixels and channels
        self.still = 0  # still pixels over all pairs so far
        self.pixels = 0  # all pixels over all pairs so far

    def add(self, frames: dict[str, np.ndarray], skeletons: np.ndarray) -> None:
        for i in range(len(skeletons)):
            if self.last_skeleton is not None:
                still = (~moving_mask(self.last_skeleton, skeletons[i], self.margin, self.scale)).astype(np.uint8)
                count = int(still.sum())  # still [H, W]: 1 where still
                self.still += count
                self.pixels += still.size
                for name in self.names:
                    if count:  # per-channel mean |difference| over the still pixels, times their number
                        means = cv2.mean(cv2.absdiff(frames[name][i], self.last[name]), mask=still)
                        self.total[name] += sum(means[:3]) * count
            self.last_skeleton = skeletons[i]
            self.last = {name: frames[name][i] for name in self.names}

    def score(self, name: str) -> dict:
        """{"flicker": grey levels or None (no still pixel, or one frame), "still_fraction": 0..1}."""
        flicker = round(self.total[name] / (3 * self.still), 3) if self.still else None
        return {"flicker": flicker, "still_fraction": round(self.still / self.pixels, 4) if self.pixels else 0.0}


def temporal_flicker(frames: np.ndarray, skeletons: np.ndarray, margin: int, scale: int = 1) -> dict:
    """Flicker of one whole video: frames [T, H, W, 3] uint8, skeleton drawings [T, scale * H, scale * W, 3]."""
    meter = FlickerMeter(["video"], margin, scale)
    meter.add({"video": frames}, skeletons)
    return meter.score("video")


# ------------------------------------------------------------------------------------------- ground truth


def lpips_missing() -> str | None:
    """None when LPIPS can run here without downloading anything; otherwise the note saying what it needs.

    torchmetrics' LPIPS ships its linear heads but builds the AlexNet backbone through torchvision with ImageNet
    weights, which torchvision downloads into the torch hub cache unless they are already there."""
    if importlib.util.find_spec("torchvision") is None:
        return ("LPIPS needs torchvision and its AlexNet ImageNet weights in the torch hub cache "
                f"({torch.hub.get_dir()}/checkpoints); not computed")
    from torchvision.models import AlexNet_Weights

    weights = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(AlexNet_Weights.IMAGENET1K_V1.url)
    if not weights.is_file():
        return f"LPIPS needs the AlexNet backbone weights {weights} (torchvision would download them); not computed"
    return None


def _unit(frames: np.ndarray) -> torch.Tensor:
    """uint8 [n, H, W, 3] -> float32 [n, 3, H, W] in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0


class GroundTruthMeter:
    """One video against its ground truth, frame by frame as chunks pass: PSNR (dB) and SSIM per frame, averaged
    over the frames compared (torchmetrics, data range [0, 1]); LPIPS (torchmetrics, AlexNet, inputs in [0, 1])
    when ``lpips`` is on (only when :func:`lpips_missing` says it can run)."""

    def __init__(self, lpips: bool = False):
        from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

        self.psnr = PeakSignalNoiseRatio(data_range=1.0, dim=(1, 2, 3))  # per frame, then the mean
        self.ssim = StructuralSimilarityIndexMeasure(data_range=1.0)  # Gaussian 11 x 11, sigma 1.5 (Wang et al. 2004)
        self.lpips = None
        if lpips:
            from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

            self.lpips = LearnedPerceptualImagePatchSimilarity(net_type="alex", normalize=True)
        self.frames = 0  # frames compared so far

    def add(self, frames: np.ndarray, truth: np.ndarray) -> None:
        """Compare ``frames`` [n, H, W, 3] uint8 with the ground truth's frames [m, H, W, 3] (m < n: it ended)."""
        n = min(len(frames), len(truth))
        if n == 0:
            return
        pred, target = _unit(frames[:n]), _unit(truth[:n])  # [n, 3, H, W]
        self.psnr.update(pred, target)
        self.ssim.update(pred, target)
        if self.lpips is not None:
            self.lpips.update(pred, target)
        self.frames += n

    def score(self) -> dict:
        """{"psnr", "ssim", "lpips", "gt_frames"}; None where nothing was compared (PSNR also when infinite: a frame
        equal to its ground truth) or LPIPS was not run."""
        if not self.frames:
            return {"psnr": None, "ssim": None, "lpips": None, "gt_frames": 0}
        psnr = float(self.psnr.compute())
        return {"psnr": round(psnr, 3) if np.isfinite(psnr) else None, "ssim": round(float(self.ssim.compute()), 4),
                "lpips": round(float(self.lpips.compute()), 4) if self.lpips is not None else None,
                "gt_frames": self.frames}
