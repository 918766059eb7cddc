"""Cleaning a read motion: gaps and lost joints filled without a jump, jitter smoothed, a sharp stop kept, a face
turned away left unseen."""

from __future__ import annotations

import numpy as np
from support.motion import dancer

from dancegen.motion.clean import clean_motion
from dancegen.pose.topology import J


def _seen(poses):
    return np.where(np.isfinite(poses).all(axis=-1), 0.9, 0.0)


def test_frames_with_nobody_and_lost_joints_are_filled_without_a_jump():
    truth = dancer(60, travel=60.0)
    poses = truth.copy()
    found = np.ones(60, bool)
    found[20:30] = False  # nobody for a third of a second
    poses[~found] = np.nan
    poses[40:50, J["RWrist"]] = np.nan  # one joint lost
    poses[:5, J["LAnkle"]] = np.nan  # and one lost at the start
    clean, report = clean_motion(poses, _seen(poses), found, 30.0)
    assert np.isfinite(clean).all()
    assert report.frames == 60 and report.frames_without_person == 10
    assert report.joint_frames_filled == 15 and report.joints_never_seen == ()
    steps = np.linalg.norm(np.diff(clean, axis=0), axis=-1)  # [59, 18] px per frame
    true_steps = np.linalg.norm(np.diff(truth, axis=0), axis=-1)
    assert steps.max() < 1.5 * true_steps.max()  # no jump anywhere: the gaps are bridged
    assert np.abs(clean[20:30, J["Neck"]] - truth[20:30, J["Neck"]]).max() < 1.0  # a walk across a gap: a walk
    assert np.abs(clean[:5, J["LAnkle"]] - truth[5, J["LAnkle"]]).max() < 1.0  # held before it is first seen


def test_jitter_is_smoothed_and_a_sharp_stop_survives():
    t = np.arange(90)
    x = np.minimum(t, 45) * 6.0  # moves 6 px a frame, then stops dead at frame 45
    truth = dancer(90)
    truth += np.stack([x, np.zeros(90)], axis=1)[:, None, :]
    noisy = truth + np.random.default_rng(0).normal(0.0, 1.5, truth.shape)
    clean, _ = clean_motion(noisy, _seen(noisy), np.ones(90, bool), 30.0)
    assert np.abs(clean - truth).mean() < 0.6 * np.abs(noisy - truth).mean()  # the jitter falls
    neck = clean[:, J["Neck"], 0]
    speed = np.abs(np.diff(neck))  # px per frame
    assert speed[30:42].mean() > 5.0  # still moving just before the stop...
    assert speed[48:].mean() < 1.0  # ...and still three frames after it
    assert abs(neck[45] - truth[45, J["Neck"], 0]) < 3.0  # the stop is where it was: no overshoot, no lag


def test_a_face_lost_for_long_while_the_body_is_seen_stays_unseen():
    poses = dancer(60)
    for j in (J["Nose"], J["REye"], J["LEye"], J["REar"], J["LEar"]):
        poses[10:40, j] = np.nan  # turned away for a second
    poses[50:53, J["Nose"]] = np.nan  # a blink of a miss
    clean, report = clean_motion(poses, _seen(poses), np.ones(60, bool), 30.0)
    assert np.isnan(clean[10:40, J["Nose"]]).all() and np.isfinite(clean[50:53, J["Nose"]]).all()
    assert report.face_frames_hidden == 150 and report.joint_frames_filled == 3
    never = dancer(20)
    never[:, J["LEar"]] = np.nan
    clean, report = clean_motion(never, _seen(never), np.ones(20, bool), 30.0)
    assert report.joints_never_seen == ("LEar",) and np.isnan(clean[:, J["LEar"]]).all()
