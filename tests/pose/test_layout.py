"""Where the dancer stands at frame 0: OpenPose-18 topology, body layouts from a face box or detected keypoints."""

from __future__ import annotations

import numpy as np
import pytest

from dancegen.metrics.motion import fraction_inside
from dancegen.pose.layout import BodyLayoutError, body_from_face, body_from_keypoints
from dancegen.pose.topology import JOINTS, LIMBS

W = H = 512


def test_joint_order_and_limbs_form_a_tree_rooted_at_the_neck():
    assert JOINTS[:5] == ("Nose", "Neck", "RShoulder", "RElbow", "RWrist") and JOINTS[-1] == "LEar"
    assert len(JOINTS) == 18 and len(LIMBS) == 17
    children = [b for _, b in LIMBS]
    assert sorted(children) == sorted(set(range(18)) - {1})  # every joint but the neck has exactly one parent
    seen = {1}
    for a, b in LIMBS:  # parents are reached before their children in drawing order
        assert a in seen
        seen.add(b)


def test_body_from_face_places_a_standing_body_under_the_face():
    # a tall photo with a small face: the whole body fits at the photo's scale
    box = (450.0, 100.0, 550.0, 220.0)
    lay = body_from_face(box, (1000, 1500), (512, 768))
    s = 512 / 1000
    k = lay.keypoints
    assert lay.fit_scale == 1.0 and lay.notices == () and lay.y_stretch == pytest.approx(1.0)
    nose = k[JOINTS.index("Nose")]
    assert box[0] * s < nose[0] < box[2] * s and box[1] * s < nose[1] < box[3] * s
    assert nose[0] == pytest.approx(500 * s)
    head = 120 / 0.833 * s
    assert lay.head_height == pytest.approx(head, rel=1e-3)
    # ankles about 7.25 head heights below the crown (crown = top of the face box minus 0.167 heads)
    crown = 100 * s - 0.167 * head
    for name in ("RAnkle", "LAnkle"):
        assert k[JOINTS.index(name), 1] == pytest.approx(crown + 7.25 * head, abs=1.0)
    # the person faces the camera: their right side is image-left; the body is symmetric about the face
    assert k[JOINTS.index("RShoulder"), 0] < nose[0] < k[JOINTS.index("LShoulder"), 0]
    assert np.allclose(k[[2, 3, 4, 8, 9, 10], 0] + k[[5, 6, 7, 11, 12, 13], 0], 2 * nose[0])
    assert fraction_inside(k[None], 512, 768) == 1.0
    assert lay.bone_lengths.shape == (17,) and (lay.bone_lengths > 0).all()


def test_body_from_face_shrinks_a_body_that_does_not_fit_and_says_so():
    lay = body_from_face((300, 500, 700, 900), (1000, 1000), (512, 512))  # selfie-sized face, low in the frame
    assert lay.fit_scale < 0.5 and lay.notices and "fit" in lay.notices[0]
    margin = max(4.0, 0.02 * 512)
    assert (lay.keypoints >= margin - 1e-6).all() and (lay.keypoints <= 511 - margin + 1e-6).all()
    clipped = body_from_face((300, 500, 700, 900), (1000, 1000), (512, 512), fit="clip")
    assert clipped.fit_scale == 1.0 and fraction_inside(clipped.keypoints[None], 512, 512) < 1.0


def test_body_from_face_follows_a_plain_resize_of_a_photo_with_another_aspect():
    box = (900.0, 100.0, 1000.0, 220.0)
    lay = body_from_face(box, (2000, 1500), (512, 512), fit="clip")  # photo squashed horizontally
    sx, sy = 512 / 2000, 512 / 1500
    assert lay.y_stretch == pytest.approx(sy / sx)
    nose = lay.keypoints[JOINTS.index("Nose")]
    assert nose[0] == pytest.approx(950 * sx)
    assert nose[1] == pytest.approx((100 + 0.58 * 120) * sy)


@pytest.mark.parametrize("box, image, canvas", [
    ((10, 10, 5, 50), (100, 100), (64, 64)),  # x1 < x0
    ((10, 10, 50, 50), (0, 100), (64, 64)),  # empty photo
    ((10, 10, 50, 50), (100, 100), (8, 64)),  # canvas too small
    ((200, 200, 250, 250), (100, 100), (64, 64)),  # outside the photo
    ((np.nan, 10, 50, 50), (100, 100), (64, 64)),
])
def test_body_from_face_rejects_bad_input(box, image, canvas):
    with pytest.raises(BodyLayoutError):
        body_from_face(box, image, canvas)
    assert issubclass(BodyLayoutError, ValueError)


def test_body_from_keypoints_keeps_detected_joints_and_fills_missing_ones():
    ref = body_from_face((400, 100, 480, 200), (1000, 1400), (1000, 1400), fit="clip").keypoints
    kps, conf = ref.copy(), np.full(18, 0.9)
    missing = [JOINTS.index(n) for n in ("RWrist", "LElbow", "LWrist", "RAnkle", "REar")]
    kps[missing] = np.nan
    conf[missing[:3]] = 0.1
    conf[missing[3:]] = 0.0
    kps[JOINTS.index("LElbow")] = (5.0, 5.0)  # low confidence: ignored even though finite
    lay = body_from_keypoints(kps, conf, (1000, 1400), (500, 700))
    assert lay.source == "keypoints" and lay.fit_scale == 1.0
    assert np.allclose(lay.keypoints, ref * 0.5, atol=1e-6)  # the detected body is a standing template

    # a raised arm is kept as detected; the missing forearm continues from the detected elbow
    kps2 = ref.copy()
    kps2[JOINTS.index("RElbow")] = ref[JOINTS.index("RShoulder")] + (-80.0, -120.0)
    kps2[JOINTS.index("RWrist")] = np.nan
    conf2 = np.ones(18)
    conf2[JOINTS.index("RWrist")] = 0.0
    lay2 = body_from_keypoints(kps2, conf2, (1000, 1400), (1000, 1400), fit="clip")
    assert np.allclose(lay2.keypoints[JOINTS.index("RElbow")], kps2[JOINTS.index("RElbow")])
    forearm = ref[JOINTS.index("RWrist")] - ref[JOINTS.index("RElbow")]
    assert np.allclose(lay2.keypoints[JOINTS.index("RWrist")], kps2[JOINTS.index("RElbow")] + forearm, atol=1e-6)


def test_body_from_keypoints_mirrors_the_fill_for_a_person_seen_from_behind():
    ref = body_from_face((400, 100, 480, 200), (1000, 1400), (1000, 1400), fit="clip").keypoints
    mirrored = ref.copy()
    mirrored[:, 0] = 880 - ref[:, 0]  # right side now image-right
    conf = np.ones(18)
    conf[JOINTS.index("LAnkle")] = 0.0
    lay = body_from_keypoints(mirrored, conf, (1000, 1400), (1000, 1400), fit="clip")
    assert np.allclose(lay.keypoints, mirrored, atol=1e-6)


def test_body_from_keypoints_needs_enough_joints():
    with pytest.raises(BodyLayoutError):
        body_from_keypoints(np.zeros((18, 2)), np.zeros(18), (100, 100), (64, 64))
    with pytest.raises(BodyLayoutError):
        body_from_keypoints(np.zeros((17, 2)), np.ones(17), (100, 100), (64, 64))
