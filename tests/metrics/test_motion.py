"""Motion metrics on hand-made pose sequences: beat alignment, foot sliding, bone lengths, framing."""

from __future__ import annotations

import numpy as np
import pytest

from dancegen.metrics.motion import (beat_alignment_score, bone_length_variation, foot_sliding_px, fraction_inside,
                                     planted_mask)
from dancegen.pose.layout import body_from_face
from dancegen.pose.topology import JOINTS

FPS = 25.0
W = H = 512


def _oscillation(period_s, seconds, fps, amplitude=50.0):
    """All joints moving as x = A (1 - cos(2 pi t / P)) / 2: speed minima every P / 2."""
    t = np.arange(int(seconds * fps)) / fps
    x = amplitude * (1 - np.cos(2 * np.pi * t / period_s)) / 2
    poses = np.zeros((t.size, 18, 2))
    poses[..., 0] = 100 + x[:, None] + np.arange(18)[None] * 5
    poses[..., 1] = 100 + np.arange(18)[None] * 10
    return poses


def test_beat_alignment_score_rewards_motion_that_stops_on_the_beats():
    poses = _oscillation(1.0, 10.0, 30.0)
    on = np.arange(0.5, 9.6, 0.5)  # speed minima at multiples of 0.5 s
    assert beat_alignment_score(poses, 30.0, on) > 0.95
    assert beat_alignment_score(poses, 30.0, on + 0.25) < 0.1  # a quarter period off: far from every minimum
    assert beat_alignment_score(poses, 30.0, on + 0.05) == pytest.approx(np.exp(-0.5), abs=0.05)
    assert beat_alignment_score(poses, 30.0, []) == 0.0


def test_foot_sliding_counts_planted_ankles_only():
    still = np.tile(_oscillation(1.0, 2.0, 30.0)[:1], (60, 1, 1))
    still[:, JOINTS.index("RAnkle")] = (200.0, 400.0)
    still[:, JOINTS.index("LAnkle")] = (260.0, 400.0)
    still[:, [JOINTS.index("RHip"), JOINTS.index("LHip")], 1] = 200.0
    still[:, [JOINTS.index("RKnee"), JOINTS.index("LKnee")], 1] = 300.0
    assert foot_sliding_px(still) == 0.0
    sliding = still.copy()
    sliding[:, JOINTS.index("RAnkle"), 0] += 0.5 * np.arange(60)  # planted but gliding 0.5 px per frame
    assert foot_sliding_px(sliding) == pytest.approx(0.25, abs=1e-6)  # mean over both planted ankles
    lifted = still.copy()
    lifted[:, JOINTS.index("RAnkle"), 1] -= 40.0  # in the air: its motion is not sliding
    lifted[:, JOINTS.index("RAnkle"), 0] += 3.0 * np.arange(60)
    assert foot_sliding_px(lifted) == 0.0
    assert planted_mask(lifted)[:, 1].all() and not planted_mask(lifted)[:, 0].any()


def test_bone_length_variation_and_fraction_inside():
    poses = np.repeat(body_from_face((230, 60, 282, 122), (512, 512), (512, 512)).keypoints[None], 5, axis=0)
    assert bone_length_variation(poses) < 1e-9
    stretched = poses.copy()
    wrist, elbow = JOINTS.index("RWrist"), JOINTS.index("RElbow")
    stretched[2, wrist] = poses[2, elbow] + 1.05 * (poses[2, wrist] - poses[2, elbow])
    assert bone_length_variation(stretched) == pytest.approx(0.05, rel=1e-3)
    outside = poses.copy()
    outside[1, 0] = (-1.0, 10.0)
    outside[2, 3] = (10.0, 512.0)
    assert fraction_inside(outside, 512, 512) == pytest.approx(1 - 2 / 90)
