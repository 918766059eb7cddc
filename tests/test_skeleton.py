"""Skeleton rendering as in StableAnimator's DWPose drawing (see the notes at the top of dancegen/skeleton.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from dancegen.choreo import JOINTS, LIMBS, body_from_face
from dancegen.skeleton import COLORS, DRAWN_LIMBS, SkeletonInputError, render_pose, render_sequence, to_pose_tensor

NECK, RSH, RELB, NOSE = (JOINTS.index(n) for n in ("Neck", "RShoulder", "RElbow", "Nose"))


def _pose(**joints) -> np.ndarray:
    p = np.full((18, 2), np.nan)
    for name, xy in joints.items():
        p[JOINTS.index(name)] = xy
    return p


def test_limb_list_and_colours_are_openpose():
    assert DRAWN_LIMBS == LIMBS
    assert COLORS[0] == (255, 0, 0) and COLORS[12] == (0, 0, 255) and COLORS[17] == (255, 0, 85)
    assert len(set(COLORS)) == 18


def test_native_2160_canvas_exact_pixels():
    # short side 2160: drawn without any resize, so pixels are exact
    img = render_pose(_pose(Neck=(1100, 1000), RShoulder=(900, 1000)), 2160, 2160)
    assert img.shape == (2160, 2160, 3) and img.dtype == np.uint8
    # limb 0 (neck - right shoulder) is red, blended at 0.6: floor(255 * 0.6) = 153; stick half-width 4 px
    assert img[1000, 1000].tolist() == [153, 0, 0]
    assert img[996, 1000].tolist() == [153, 0, 0] and img[1004, 1000].tolist() == [153, 0, 0]
    assert img[995, 1000].tolist() == [0, 0, 0] and img[1005, 1000].tolist() == [0, 0, 0]
    # joints: filled circles of radius 4, full colour (drawn after the blend)
    assert img[1000, 1100].tolist() == list(COLORS[NECK]) and img[1000, 900].tolist() == list(COLORS[RSH])
    assert img[1000, 1104].tolist() == list(COLORS[NECK]) and img[1000, 1105].tolist() == [0, 0, 0]
    assert img[1000, 1095].tolist() == [153, 0, 0]  # limb just outside the dot
    # everything else is black
    mask = img.any(axis=2)
    assert mask.sum() == np.count_nonzero(img[990:1011, 890:1111].any(axis=2))


def test_channel_order_is_rgb_as_the_saved_pngs():
    img = render_pose(_pose(Neck=(1000, 1000), RShoulder=(800, 1000), RElbow=(800, 1400), Nose=(1000, 600)),
                      2160, 2160)
    assert img[1000, 900].tolist() == [153, 0, 0]  # neck - right shoulder: red
    assert img[1200, 800].tolist() == [153, 102, 0]  # right upper arm: orange (255, 170, 0) * 0.6
    assert img[800, 1000].tolist() == [0, 0, 153]  # neck - nose: blue


def test_line_thickness_at_512_follows_the_2160_supersampling():
    # DWPose draws on a 2160 px canvas and shrinks it: a limb is 2 px wide at 512 px, not 4
    for y in (100.1, 256.0, 333.7):
        img = render_pose(_pose(Neck=(400, y), RShoulder=(100, y)), 512, 512)
        column = img[:, 250]
        full = np.flatnonzero(column[:, 0] == 153)
        assert full.size == 2 and abs(full.mean() - y) < 1.0
        assert np.count_nonzero(column.any(axis=1)) <= 3
        assert (column[:, 1:] == 0).all()


def test_smaller_canvas_is_the_2160_drawing_shrunk_bilinearly():
    pose = body_from_face((230, 60, 282, 122), (512, 512), (512, 512)).keypoints
    small = render_pose(pose, 512, 512)
    big = render_pose(pose * (2160 / 512), 2160, 2160)
    assert np.array_equal(small, cv2.resize(big, (512, 512), interpolation=cv2.INTER_LINEAR))
    tall = render_pose(pose * np.array([576 / 512, 1024 / 512]), 576, 1024)
    assert tall.shape == (1024, 576, 3) and tall.any()


def test_scores_darken_and_low_scores_hide_limbs_and_joints():
    pose = _pose(Neck=(1100, 1000), RShoulder=(900, 1000))
    scores = np.ones(18)
    scores[[NECK, RSH]] = 0.5
    img = render_pose(pose, 2160, 2160, scores)
    assert img[1000, 1000].tolist() == [37, 0, 0]  # int(255 * 0.25) = 63, then floor(63 * 0.6)
    assert img[1000, 1100].tolist() == [127, 42, 0]  # joint: int(c * 0.5)
    scores[RSH] = 0.3  # limb drawn (>= 0.3), joint not (needs > 0.3)
    img = render_pose(pose, 2160, 2160, scores)
    assert img[1000, 1000].tolist() == [int(int(255 * 0.15) * 0.6), 0, 0]
    assert img[1000, 900, 1] == 0  # no orange-red joint dot, only the limb's pure red
    scores[RSH] = 0.29
    img = render_pose(pose, 2160, 2160, scores)
    assert img[1000, 1000].tolist() == [0, 0, 0] and img[1000, 1100].tolist() == [127, 42, 0]


def test_missing_and_out_of_frame_joints_are_skipped():
    assert not render_pose(np.full((18, 2), np.nan), 512, 512).any()  # black background, nothing drawn
    img = render_pose(_pose(Neck=(1100, 1000), RShoulder=(-50, 1000)), 2160, 2160)
    assert img[1000, 500].tolist() == [0, 0, 0] and img[1000, 1100].tolist() == list(COLORS[NECK])
    img = render_pose(_pose(Neck=(1100, 1000), RShoulder=(900, 2160.0)), 2160, 2160)
    assert img[1500, 1000].tolist() == [0, 0, 0]


def test_rendering_is_deterministic_and_sequences_match_single_frames():
    pose = body_from_face((230, 60, 282, 122), (512, 512), (512, 512)).keypoints
    poses = np.stack([pose, pose + (10.0, 0.0), pose + (0.0, -5.0)])
    frames = render_sequence(poses, 512, 512)
    assert frames.shape == (3, 512, 512, 3) and frames.dtype == np.uint8
    assert np.array_equal(frames[1], render_pose(poses[1], 512, 512))
    assert np.array_equal(render_sequence(poses, 512, 512), frames)
    assert not np.array_equal(frames[0], frames[1])
    darker = render_sequence(poses, 512, 512, scores=np.full(18, 0.8))
    assert darker.max() < frames.max()


def test_to_pose_tensor_maps_to_minus_one_one():
    frames = np.zeros((2, 4, 6, 3), np.uint8)
    frames[1, 0, 0] = (255, 127, 0)
    x = to_pose_tensor(frames)
    assert x.shape == (2, 3, 4, 6) and x.dtype == torch.float32
    assert x[0].eq(-1).all()
    assert x[1, :, 0, 0].tolist() == pytest.approx([1.0, 127 / 127.5 - 1, -1.0])


def test_bad_input_raises():
    with pytest.raises(SkeletonInputError):
        render_pose(np.zeros((17, 2)), 512, 512)
    with pytest.raises(SkeletonInputError):
        render_pose(np.zeros((18, 2)), 4, 512)
    with pytest.raises(SkeletonInputError):
        render_sequence(np.zeros((18, 2)), 512, 512)
    with pytest.raises(SkeletonInputError):
        to_pose_tensor(np.zeros((2, 4, 4, 3), np.float32))
