"""Fitting a motion to the photo's body: every bone the photo's length (foreshortening kept), the path scaled,
frame 0 where the photo's person stands."""

from __future__ import annotations

import numpy as np
import pytest
from support.motion import dancer

from dancegen.motion.errors import MotionError
from dancegen.motion.fit import bone_length_error, bone_medians, fit_to_body
from dancegen.pose.layout import body_from_face
from dancegen.pose.topology import J, LIMBS


@pytest.fixture()
def body():
    return body_from_face((230, 60, 282, 122), (512, 512), (512, 512), fit="scale")  # a whole body


def test_each_bone_gets_the_photos_length_and_frame_0_stands_where_the_photo_does(body):
    src = dancer(60, head=12.0, x0=40.0, travel=30.0)  # 1/4 of the photo's size, walking right
    src[:, J["RWrist"]] = src[:, J["RElbow"]] + 1.6 * (src[:, J["RWrist"]] - src[:, J["RElbow"]])  # long forearm
    src[:, J["LKnee"]] = src[:, J["LHip"]] + 0.7 * (src[:, J["LKnee"]] - src[:, J["LHip"]])  # short thigh
    src[40:, J["RElbow"]] = src[40:, J["RShoulder"]] + 0.5 * (src[40:, J["RElbow"]] - src[40:, J["RShoulder"]])
    fitted = fit_to_body(src, body)
    assert bone_length_error(fitted, body) < 0.10
    work = fitted / np.array([1.0, body.y_stretch])
    assert np.allclose(bone_medians(work), body.bone_lengths, rtol=1e-6)  # each bone on its own scale
    upper_arm = LIMBS.index((J["RShoulder"], J["RElbow"]))
    lengths = np.hypot(*(work[:, J["RElbow"]] - work[:, J["RShoulder"]]).T)
    assert lengths[50] == pytest.approx(0.5 * lengths[10], rel=1e-6)  # the foreshortened half stays half
    assert lengths[10] == pytest.approx(body.bone_lengths[upper_arm], rel=1e-6)
    ankles = [J["RAnkle"], J["LAnkle"]]
    assert np.allclose(fitted[0, ankles].mean(axis=0), body.keypoints[ankles].mean(axis=0))
    ratio = body.bone_lengths.sum() / bone_medians(src).sum()
    travel = fitted[-1, J["Neck"], 0] - fitted[0, J["Neck"], 0]
    assert travel == pytest.approx(ratio * (src[-1, J["Neck"], 0] - src[0, J["Neck"], 0]), rel=1e-6)


def test_a_joint_never_seen_takes_the_photos_bone_and_a_body_without_size_is_refused(body):
    src = dancer(10, head=30.0)
    src[:, [J["RKnee"], J["RAnkle"]]] = np.nan  # the source never shows the right leg
    fitted = fit_to_body(src, body)
    shin = fitted[:, J["RAnkle"]] - fitted[:, J["RKnee"]]
    assert np.allclose(shin, body.keypoints[J["RAnkle"]] - body.keypoints[J["RKnee"]])
    with pytest.raises(MotionError, match="no size"):
        fit_to_body(np.zeros((10, 18, 2)), body)
