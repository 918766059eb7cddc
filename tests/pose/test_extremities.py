"""Hands and face synthesised from the body (dancegen/pose/extremities.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dancegen.pose.extremities import (FACE_ANCHORS, FACE_TEMPLATE, HAND_TEMPLATE, ExtremityConfig, ExtremityInputError,
                                       facing_sign, synthesise_extremities, synthesise_face, synthesise_hands)
from dancegen.pose.layout import body_from_face
from dancegen.pose.topology import JOINTS

J = {n: i for i, n in enumerate(JOINTS)}
W = H = 512
# iBUG 300-W left/right correspondence: the index each landmark has in the mirror image of the face
_FACE_MIRROR = np.array(list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30] + [35, 34, 33, 32, 31]
                        + [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40]
                        + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55] + [64, 63, 62, 61, 60, 67, 66, 65])


def _body() -> np.ndarray:
    """A standing, front-facing body [18, 2] on a 512 px canvas (symmetric about x = 256)."""
    return body_from_face((230, 60, 282, 122), (W, H), (W, H)).keypoints.copy()


def _rot(v: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return v @ np.array([[c, s], [-s, c]])  # rows rotated by +angle (screen axes)


def test_hand_template_is_openpose_hand_order():
    assert HAND_TEMPLATE.shape == (21, 2) and not HAND_TEMPLATE.flags.writeable
    assert HAND_TEMPLATE[0].tolist() == [0.0, 0.0]  # wrist at the origin
    for finger in range(5):
        chain = HAND_TEMPLATE[1 + 4 * finger: 5 + 4 * finger]  # base -> tip
        reach = np.hypot(*chain.T)
        assert np.all(np.diff(reach) > 0), finger  # every finger runs away from the wrist
        assert np.all(chain[:, 0] > 0)  # along the forearm, past the wrist
    tips_v = HAND_TEMPLATE[[4, 8, 12, 16, 20], 1]
    assert np.all(np.diff(tips_v) < 0)  # thumb, index, middle, ring, little: from the thumb side across
    assert tips_v[0] > 0 > tips_v[4]  # thumb on +v, little finger on -v
    assert 0.9 < HAND_TEMPLATE[12, 0] <= 1.0  # the middle fingertip is about one hand length out


def test_face_template_is_ibug_68_and_symmetric():
    assert FACE_TEMPLATE.shape == (68, 2) and not FACE_TEMPLATE.flags.writeable
    # the mirror image (x -> -x) of landmark i is landmark _FACE_MIRROR[i]: the iBUG ordering of both sides
    assert sorted(_FACE_MIRROR.tolist()) == list(range(68))
    mirrored = FACE_TEMPLATE[_FACE_MIRROR] * np.array([-1.0, 1.0])
    assert np.allclose(mirrored, FACE_TEMPLATE, atol=1e-12)
    t = FACE_TEMPLATE
    assert t[0, 0] < 0 < t[16, 0] and np.argmax(t[:17, 1]) == 8  # jaw from image-left round the chin
    assert t[36:42, 0].mean() == pytest.approx(-0.5) and t[42:48, 0].mean() == pytest.approx(0.5)  # unit IPD
    assert t[36, 0] < t[39, 0] < t[42, 0] < t[45, 0]  # outer, inner, inner, outer eye corners
    assert np.all(np.diff(t[27:31, 1]) > 0) and np.allclose(t[27:31, 0], 0)  # nose bridge down the midline
    brow_y, eye_y, nose_y, mouth_y = t[17:27, 1].mean(), t[36:48, 1].mean(), t[30, 1], t[48:68, 1].mean()
    assert brow_y < eye_y < nose_y < mouth_y < t[8, 1]
    assert FACE_ANCHORS.shape == (5, 2) and FACE_ANCHORS[2].tolist() == t[30].tolist()


def test_hand_is_placed_at_the_wrist_and_sized_from_the_forearm():
    pose = _body()
    hands = synthesise_hands(pose, W, H)
    assert hands.shape == (2, 21, 2) and np.isfinite(hands).all()
    for h, (e, w) in enumerate(((J["RElbow"], J["RWrist"]), (J["LElbow"], J["LWrist"]))):
        forearm = np.hypot(*(pose[w] - pose[e]))
        assert hands[h, 0].tolist() == pose[w].tolist()
        span = np.hypot(*(hands[h, 12] - hands[h, 0]))  # wrist -> middle fingertip
        assert span == pytest.approx(0.75 * forearm * np.hypot(*HAND_TEMPLATE[12]))
        # the hand points on along the forearm: middle fingertip beyond the wrist, about in line
        u = (pose[w] - pose[e]) / forearm
        assert np.dot(hands[h, 12] - hands[h, 0], u) > 0.95 * span
    longer = synthesise_hands(pose, W, H, config=ExtremityConfig(hand_length_ratio=1.5))
    assert np.allclose(longer[:, 1:] - longer[:, :1], 2 * (hands[:, 1:] - hands[:, :1]))


def test_hand_rotates_and_scales_with_the_forearm():
    pose = _body()
    e, w = J["RElbow"], J["RWrist"]
    base = synthesise_hands(pose, W, H)[0] - pose[w]  # [21, 2] relative to the wrist
    forearm = pose[w] - pose[e]
    for angle in (0.4, -1.1, 2.5):
        p = pose.copy()
        p[w] = p[e] + _rot(forearm, angle)
        moved = synthesise_hands(p, W, H)[0] - p[w]
        assert np.allclose(moved, _rot(base, angle), atol=1e-9)
    p = pose.copy()
    p[w] = p[e] + 0.5 * forearm
    assert np.allclose(synthesise_hands(p, W, H)[0] - p[w], 0.5 * base)


def test_hands_are_mirror_images_and_the_thumb_is_lateral():
    pose = _body()
    assert facing_sign(pose, np.ones(18, bool)) == 1.0
    hands = synthesise_hands(pose, W, H)
    mid = pose[J["Neck"], 0]
    mirrored_left = hands[1] * np.array([-1.0, 1.0]) + np.array([2 * mid, 0.0])
    assert np.allclose(mirrored_left, hands[0], atol=1e-6)  # the body is symmetric, so are its hands
    right, left = hands
    assert right[4, 0] < right[20, 0]  # person's right hand (image-left): thumb on the outside (image-left)
    assert left[4, 0] > left[20, 0]
    # the same body seen from behind (left and right swapped in the image): thumbs flip with it
    back = pose.copy()
    for a, b in (("RShoulder", "LShoulder"), ("RElbow", "LElbow"), ("RWrist", "LWrist"), ("RHip", "LHip"),
                 ("RKnee", "LKnee"), ("RAnkle", "LAnkle"), ("REye", "LEye"), ("REar", "LEar")):
        back[[J[a], J[b]]] = pose[[J[b], J[a]]]
    assert facing_sign(back, np.ones(18, bool)) == -1.0
    hb = synthesise_hands(back, W, H)
    assert np.allclose(hb[0], hands[1]) and np.allclose(hb[1], hands[0])  # a right hand, seen from behind


def test_hand_is_omitted_when_its_wrist_or_elbow_is_missing():
    pose = _body()
    full = synthesise_hands(pose, W, H)
    for joint, value in (("RWrist", np.nan), ("RElbow", np.nan), ("RWrist", -3.0), ("RElbow", float(W))):
        p = pose.copy()
        p[J[joint], 0] = value
        hands = synthesise_hands(p, W, H)
        assert np.isnan(hands[0]).all(), joint
        assert np.array_equal(hands[1], full[1])
    scores = np.ones(18)
    scores[J["LWrist"]] = 0.3  # at the DWPose cut: missing
    hands = synthesise_hands(pose, W, H, scores)
    assert np.isnan(hands[1]).all() and np.array_equal(hands[0], full[0])
    scores[J["LWrist"]] = 0.31
    assert np.array_equal(synthesise_hands(pose, W, H, scores), full)


def test_face_sits_between_the_eyes_on_the_nose():
    pose = _body()
    face = synthesise_face(pose, W, H)
    assert face.shape == (68, 2) and np.isfinite(face).all()
    eye_px = np.hypot(*(pose[J["LEye"]] - pose[J["REye"]]))
    tol = 0.1 * eye_px
    assert np.hypot(*(face[36:42].mean(0) - pose[J["REye"]])) < tol  # right eye on the body's right eye
    assert np.hypot(*(face[42:48].mean(0) - pose[J["LEye"]])) < tol
    assert np.hypot(*(face[30] - pose[J["Nose"]])) < tol  # nose tip on the nose
    assert face[0, 0] < pose[J["Nose"], 0] < face[16, 0]
    # face width: the jaw ends sit inside the ears
    assert pose[J["REar"], 0] < face[0, 0] and face[16, 0] < pose[J["LEar"], 0]


def test_face_scales_and_turns_with_the_head():
    pose = _body()
    head = [J[n] for n in ("Nose", "REye", "LEye", "REar", "LEar")]
    face = synthesise_face(pose, W, H)
    centre = pose[J["Nose"]].copy()
    for scale, angle in ((2.0, 0.0), (0.5, 0.0), (1.0, 0.5), (1.3, -0.8)):
        p = pose.copy()
        p[head] = centre + scale * _rot(pose[head] - centre, angle)
        moved = synthesise_face(p, W, H)
        assert np.allclose(moved, centre + scale * _rot(face - centre, angle), atol=1e-6)
    eye_px = np.hypot(*(pose[J["LEye"]] - pose[J["REye"]]))
    width = np.hypot(*(face[16] - face[0]))
    assert width == pytest.approx(eye_px * np.hypot(*(FACE_TEMPLATE[16] - FACE_TEMPLATE[0])), rel=0.1)


def test_ears_count_only_when_visible():
    pose = _body()
    p = pose.copy()
    p[J["LEar"]] += (40.0, 0.0)  # an ear further out widens the fitted face
    wide = synthesise_face(p, W, H)
    base = synthesise_face(pose, W, H)
    assert np.hypot(*(wide[16] - wide[0])) > np.hypot(*(base[16] - base[0]))
    p[J["LEar"]] = np.nan  # a missing ear is simply left out of the fit
    assert np.isfinite(synthesise_face(p, W, H)).all()


def test_face_is_omitted_without_nose_or_eyes_or_when_facing_away():
    pose = _body()
    for joint in ("Nose", "REye", "LEye"):
        p = pose.copy()
        p[J[joint]] = np.nan
        assert np.isnan(synthesise_face(p, W, H)).all(), joint
    p = pose.copy()
    p[J["Nose"], 1] = H + 5.0
    assert np.isnan(synthesise_face(p, W, H)).all()
    p = pose.copy()
    p[[J["REye"], J["LEye"]]] = pose[[J["LEye"], J["REye"]]]  # eyes mirrored: the back of the head
    assert np.isnan(synthesise_face(p, W, H)).all()
    scores = np.ones(18)
    scores[J["Nose"]] = 0.2
    assert np.isnan(synthesise_face(pose, W, H, scores)).all()
    hands, face = synthesise_extremities(pose, W, H)
    assert np.array_equal(hands, synthesise_hands(pose, W, H)) and np.array_equal(face, synthesise_face(pose, W, H))


def test_synthesis_is_deterministic_and_pure():
    pose = _body()
    before = pose.copy()
    a = synthesise_extremities(pose, W, H)
    b = synthesise_extremities(pose, W, H)
    assert np.array_equal(pose, before)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_bad_input_raises():
    with pytest.raises(ExtremityInputError):
        synthesise_hands(np.zeros((17, 2)), W, H)
    with pytest.raises(ExtremityInputError):
        synthesise_face(np.zeros((18, 2)), 0, H)
    with pytest.raises(ExtremityInputError):
        synthesise_face(_body(), W, H, scores=np.ones(5))
