"""Frame-quality metrics on inputs with known answers: flicker where the skeleton is still, PSNR / SSIM through
torchmetrics against a ground truth, and the LPIPS note."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from dancegen.metrics.quality import (FlickerMeter, GroundTruthMeter, lpips_missing, margin_px, moving_mask,
                                      temporal_flicker)
from dancegen.pose.render import render_whole_body

W = H = 128


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    """[H, W, 3] uint8 smooth colour ramps."""
    ramp = np.linspace(30, 220, W, dtype=np.float64)
    return np.stack([np.tile(ramp, (H, 1)), np.tile(ramp[:, None], (1, W)), np.full((H, W), 90.0)],
                    -1).astype(np.uint8)


def standing(shift: float = 0.0) -> np.ndarray:
    """An OpenPose-18 body standing in the canvas, its right wrist (joint 4) moved ``shift`` px to the right."""
    pose = np.array([[64, 20], [64, 34], [50, 34], [44, 52], [40, 68], [78, 34], [84, 52], [88, 68], [56, 70],
                     [56, 94], [56, 118], [72, 70], [72, 94], [72, 118], [61, 17], [67, 17], [58, 19], [70, 19]],
                    dtype=np.float64)
    pose[4, 0] += shift
    return pose


def test_flicker_is_zero_for_a_still_video_and_grows_with_noise(picture):
    skeleton = render_whole_body(standing(), W, H)
    skeletons = np.stack([skeleton] * 6)  # [6, H, W, 3]
    still = np.stack([picture] * 6)
    assert temporal_flicker(still, skeletons, margin=10) == {"flicker": 0.0, "still_fraction": 1.0}
    rng = np.random.default_rng(0)
    flicker = []
    for sigma in (2.0, 6.0, 18.0):
        noisy = np.clip(still + rng.normal(0.0, sigma, still.shape), 0, 255).astype(np.uint8)
        flicker.append(temporal_flicker(noisy, skeletons, margin=10)["flicker"])
    assert 0 < flicker[0] < flicker[1] < flicker[2]
    # |a - b| of two independent normal draws has mean 2 sigma / sqrt(pi)
    assert flicker[1] == pytest.approx(2 * 6.0 / np.sqrt(np.pi), rel=0.1)


def test_changes_near_a_moving_limb_do_not_count_changes_elsewhere_do(picture):
    """The right wrist moves 8 px between the two frames. A change painted at the wrist is the dance (not
    flicker); the same change in a corner, far from every limb, is flicker."""
    skeletons = np.stack([render_whole_body(standing(0.0), W, H), render_whole_body(standing(8.0), W, H)])
    moving = moving_mask(skeletons[0], skeletons[1], margin=10)
    assert moving[68, 44] and not moving[5, 120] and 0.01 < moving.mean() < 0.3
    at_wrist, in_corner = np.stack([picture] * 2), np.stack([picture] * 2)
    at_wrist[1, 64:72, 42:50] = 255
    in_corner[1, 2:10, 116:124] = 255
    assert temporal_flicker(at_wrist, skeletons, margin=10)["flicker"] == 0.0
    corner = temporal_flicker(in_corner, skeletons, margin=10)
    assert corner["flicker"] > 0 and corner["still_fraction"] == pytest.approx(1 - moving.mean(), abs=1e-4)
    # the same skeletons drawn at twice the size give the same mask (the studio passes its 2x skeleton video)
    big = np.stack([render_whole_body(standing(0.0) * 2, 2 * W, 2 * H),
                    render_whole_body(standing(8.0) * 2, 2 * W, 2 * H)])
    assert (moving_mask(big[0], big[1], margin=10, scale=2) ^ moving).mean() < 0.02
    assert margin_px(128, 128) == 10 and margin_px(512, 576) == 41


def test_flicker_streams_in_chunks(picture):
    rng = np.random.default_rng(1)
    frames = np.clip(picture + rng.normal(0, 5, (7, H, W, 3)), 0, 255).astype(np.uint8)  # [7, H, W, 3]
    skeletons = np.stack([render_whole_body(standing(s), W, H) for s in (0, 0, 4, 4, 4, 8, 8)])
    whole = temporal_flicker(frames, skeletons, margin=10)
    meter = FlickerMeter(["a"], margin=10)
    for start in (0, 3, 5):
        end = {0: 3, 3: 5, 5: 7}[start]
        meter.add({"a": frames[start:end]}, skeletons[start:end])
    assert meter.score("a") == whole and 0 < whole["still_fraction"] < 1


def test_psnr_and_ssim_are_torchmetrics_values_frame_by_frame(picture):
    rng = np.random.default_rng(2)
    truth = np.stack([np.roll(picture, 3 * i, axis=1) for i in range(5)])  # [5, H, W, 3]
    sigma = np.array([2.0, 4.0, 8.0, 16.0, 32.0])[:, None, None, None]  # per frame: the mean of per-frame PSNRs
    frames = np.clip(truth + rng.normal(0, 1, truth.shape) * sigma, 0, 255).astype(np.uint8)  # is not a pooled one
    meter = GroundTruthMeter()
    meter.add(frames[:3], truth[:3])
    meter.add(frames[3:], truth[3:])
    score = meter.score()
    pred = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    target = torch.from_numpy(truth).permute(0, 3, 1, 2).float() / 255
    psnr = peak_signal_noise_ratio(pred, target, data_range=1.0, dim=(1, 2, 3), reduction="none").mean()
    ssim = structural_similarity_index_measure(pred, target, data_range=1.0)
    assert score["psnr"] == pytest.approx(float(psnr), abs=1e-3) and score["ssim"] == pytest.approx(float(ssim),
                                                                                                    abs=1e-4)
    assert score["gt_frames"] == 5 and score["lpips"] is None
    # a known pair: every value 10 grey levels off -> PSNR = 10 log10(255^2 / 10^2) = 28.13 dB
    offset = GroundTruthMeter()
    offset.add(np.full((2, 32, 32, 3), 110, np.uint8), np.full((2, 32, 32, 3), 100, np.uint8))
    assert offset.score()["psnr"] == pytest.approx(20 * np.log10(255 / 10), abs=1e-3)
    same = GroundTruthMeter()
    same.add(truth, truth[:2])  # the ground truth ended after 2 frames: only those are compared
    assert same.score() == {"psnr": None, "ssim": 1.0, "lpips": None, "gt_frames": 2}  # infinite PSNR: not a number


def test_lpips_without_its_backbone_weights_is_a_note_not_a_number():
    note = lpips_missing()
    if importlib.util.find_spec("torchvision") is None:
        assert note.startswith("LPIPS needs torchvision") and "not computed" in note
    else:
        assert note is None or note.startswith("LPIPS needs the AlexNet backbone weights")
