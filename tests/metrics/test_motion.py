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


class SquareFinder:
    """Stands in for DWPose, whose weights are not here: 'detects' the body as a white square and puts the 18 joints
    at fixed offsets from its centre (score 1), or reports every joint unseen (score 0) on a frame without it."""

    OFFSETS = np.stack([np.arange(18) * 2.0, np.arange(18) * 3.0], axis=1)  # [18, 2]

    def detect(self, frame: np.ndarray):
        from dancegen.pose.detect import BodyKeypoints

        ys, xs = np.nonzero(frame[..., 0] > 128)
        if xs.size == 0:
            return BodyKeypoints(np.zeros((18, 2)), np.zeros(18), np.zeros(4))
        return BodyKeypoints(np.array([xs.mean(), ys.mean()]) + self.OFFSETS, np.ones(18), np.zeros(4))


def test_beat_alignment_of_poses_redetected_in_the_frames():
    """A square swinging with a 1 s period (it stops every 0.5 s), drawn into 4 s of 64 x 160 frames at 30 fps and
    found again frame by frame, chunk by chunk: its beat alignment is that of the drawn positions; frames without
    it lower the body rate and are bridged; frames that never show it give no number."""
    from dancegen.metrics.motion import RedetectedMotion

    truth = np.round(_oscillation(1.0, 4.0, 30.0, amplitude=100.0))  # [120, 18, 2] whole px
    x = truth[:, 0, 0].astype(int) - 100  # 0 .. 100
    frames = np.zeros((len(truth), 64, 160, 3), np.uint8)
    for t, left in enumerate(x):
        frames[t, 20:25, left + 20:left + 25] = 255  # centre (left + 22, 22)
    beats = np.arange(0.5, 3.6, 0.5)
    motion = RedetectedMotion(SquareFinder(), len(frames))
    for start in range(0, len(frames), 16):
        motion.add(start, frames[start:start + 16])
    expected = beat_alignment_score(truth, 30.0, beats)
    assert motion.body_rate() == 1.0 and expected > 0.9
    assert motion.beat_alignment(30.0, beats) == pytest.approx(expected, abs=1e-9)
    frames[50:53] = 0  # the body is lost for three frames while it speeds up: bridged, not taken as a stop
    gappy = RedetectedMotion(SquareFinder(), len(frames))
    gappy.add(0, frames)
    assert gappy.body_rate() == pytest.approx(117 / 120)
    assert gappy.beat_alignment(30.0, beats) == pytest.approx(expected, abs=0.01)
    blind = RedetectedMotion(SquareFinder(), len(frames))
    blind.add(0, np.zeros_like(frames))
    assert blind.body_rate() == 0.0 and blind.beat_alignment(30.0, beats) is None

    # the same through the report of a generation's metrics: a number, and no "needs DWPose" note
    from dancegen.metrics.report import NO_POSE_MODEL, GenerationMetrics

    metrics = GenerationMetrics(["identity"], len(frames), 30.0, (160, 64), beats, truth, [],
                                body_detector=SquareFinder())
    metrics.add(0, {"identity": frames}, np.zeros_like(frames))
    report = metrics.report()
    row = report["videos"]["identity"]
    assert row["beat_alignment_generated"] == pytest.approx(gappy.beat_alignment(30.0, beats), abs=1e-4)
    assert row["body_rate"] == pytest.approx(117 / 120, abs=1e-4) and NO_POSE_MODEL not in report["notes"]
    assert row["beat_alignment_planned"] == pytest.approx(expected, abs=1e-4)
