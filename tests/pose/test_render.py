"""Skeleton rendering as in StableAnimator's DWPose drawing (see the notes at the top of dancegen/pose/render.py)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from dancegen.pose.extremities import synthesise_extremities
from dancegen.pose.layout import body_from_face
from dancegen.pose.render import (COLORS, DRAWN_LIMBS, FACE_POINT_COLOR, HAND_EDGE_COLORS, HAND_EDGES, HAND_POINT_COLOR,
                                  SkeletonFrames, SkeletonInputError, render_pose, render_whole_body)
from dancegen.pose.topology import JOINTS, LIMBS

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


def test_rendering_is_deterministic_and_scores_darken():
    pose = body_from_face((230, 60, 282, 122), (512, 512), (512, 512)).keypoints
    frames = [render_pose(p, 512, 512) for p in (pose, pose + (10.0, 0.0), pose + (0.0, -5.0))]
    assert frames[0].shape == (512, 512, 3) and frames[0].dtype == np.uint8
    assert np.array_equal(render_pose(pose + (10.0, 0.0), 512, 512), frames[1])
    assert not np.array_equal(frames[0], frames[1])
    darker = render_pose(pose, 512, 512, scores=np.full(18, 0.8))
    assert darker.max() < frames[0].max()


def test_bad_input_raises():
    with pytest.raises(SkeletonInputError):
        render_pose(np.zeros((17, 2)), 512, 512)
    with pytest.raises(SkeletonInputError):
        render_pose(np.zeros((18, 2)), 4, 512)
    with pytest.raises(SkeletonInputError):
        render_whole_body(np.zeros((2, 18, 2)), 512, 512)


def _hand_star(wrist=(1000.0, 1000.0), length=600.0) -> np.ndarray:
    """One big synthetic-free hand [21, 2]: each finger a straight ray from the wrist (edge midpoints far apart)."""
    hand = np.zeros((21, 2))
    hand[0] = wrist
    for f in range(5):
        direction = np.array([math.cos(math.radians(-60 + 30 * f)), math.sin(math.radians(-60 + 30 * f))])
        for k in range(4):
            hand[1 + 4 * f + k] = hand[0] + direction * length * (k + 1) / 4
    return hand


def _edge_rgb(ie: int, level: int = 255) -> list[int]:
    """Expected colour of hand edge ie: HSV hue ie / 20 times level, rounded half-to-even like OpenCV."""
    return np.rint(np.array(HAND_EDGE_COLORS[ie]) * level).astype(int).tolist()


def test_hand_edges_and_colours_follow_dwpose():
    assert HAND_EDGES[:5] == ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5)) and HAND_EDGES[-1] == (19, 20)
    assert len(HAND_EDGES) == 20 and {a for a, _ in HAND_EDGES} | {b for _, b in HAND_EDGES} == set(range(21))
    assert _edge_rgb(0) == [255, 0, 0] and _edge_rgb(10) == [0, 255, 255]  # hue 0 red, hue 0.5 cyan
    assert _edge_rgb(1) == [255, 77, 0] and _edge_rgb(5) == [128, 255, 0]  # 76.50000000000001, 127.5 rounded
    mcolors = pytest.importorskip("matplotlib.colors")  # bit-for-bit the colours DWPose computes
    for ie, colour in enumerate(HAND_EDGE_COLORS):
        assert mcolors.hsv_to_rgb([ie / 20.0, 1.0, 1.0]).tolist() == list(colour)


def test_hand_pixels_on_the_native_canvas():
    hand = _hand_star()
    hands = np.stack([hand, np.full((21, 2), np.nan)])  # right hand only
    img = render_pose(np.full((18, 2), np.nan), 2160, 2160, hands=hands)
    for ie, (a, b) in enumerate(HAND_EDGES):
        if a == 0 and b != 1 and b % 4 == 1:  # wrist -> finger base runs along the same ray as the finger
            continue
        mid = ((hand[a] + hand[b]) / 2).astype(int)
        assert img[mid[1], mid[0]].tolist() == _edge_rgb(ie), ie
    # 2 px thick: 3 rows across a horizontal-ish stretch, nothing 3 px off the line
    x, y = hand[0] + np.array([375.0, 0.0])  # on the middle finger's edge (10, 11), which is horizontal
    assert img[int(y), int(x)].tolist() == _edge_rgb(10)
    assert img[int(y) - 1:int(y) + 2, int(x)].any(axis=1).all() and not img[int(y) + 3, int(x)].any()
    # keypoints: filled blue circles of radius 4, drawn over the edges
    px, py = hand[9].astype(int)
    assert img[py, px].tolist() == list(HAND_POINT_COLOR) == [0, 0, 255]
    assert img[py + 4, px].tolist() == [0, 0, 255] and img[py + 5, px].tolist() != [0, 0, 255]


def test_hand_and_face_scores_scale_the_colours_without_dropping_points():
    hand = _hand_star()
    hands = np.stack([hand, np.full((21, 2), np.nan)])
    hs = np.full((2, 21), 0.5)
    img = render_pose(np.full((18, 2), np.nan), 2160, 2160, hands=hands, hand_scores=hs)
    mid = ((hand[1] + hand[2]) / 2).astype(int)
    assert img[mid[1], mid[0]].tolist() == _edge_rgb(1, int(0.25 * 255))
    px, py = hand[9].astype(int)
    assert img[py, px].tolist() == [0, 0, 127]  # int(0.5 * 255)
    face = np.full((68, 2), np.nan)
    face[5] = (300.0, 400.0)
    fs = np.full(68, 0.2)  # low scores still draw (DWPose has no face threshold), darker
    img = render_pose(np.full((18, 2), np.nan), 2160, 2160, face=face, face_scores=fs)
    assert img[400, 300].tolist() == [51, 51, 51]
    with pytest.raises(SkeletonInputError):
        render_pose(np.full((18, 2), np.nan), 2160, 2160, face=face, face_scores=np.ones(67))


def test_face_dots_are_white_radius_3_and_drawn_last():
    face = np.full((68, 2), np.nan)
    face[0] = (500.0, 500.0)
    face[1] = (1300.0, 1000.0)  # on the neck - right shoulder limb and on a hand edge
    hand = _hand_star(wrist=(1000.0, 1000.0))  # middle finger runs right along y = 1000
    hands = np.stack([np.full((21, 2), np.nan), hand])
    body = _pose(Neck=(1100, 1000), RShoulder=(1500, 1000))
    img = render_pose(body, 2160, 2160, hands=hands, face=face)
    assert img[500, 500].tolist() == list(FACE_POINT_COLOR) == [255, 255, 255]
    assert img[503, 500].tolist() == [255, 255, 255] and img[504, 500].tolist() == [0, 0, 0]
    assert img[1000, 1300].tolist() == [255, 255, 255]  # face over the hand's blue dot 10, over the body
    # the hand is drawn after the body's 0.6 blend: full colour where it crosses the red limb
    assert img[1000, 1250].tolist() == _edge_rgb(9)  # middle finger's edge (9, 10)
    assert img[1003, 1250].tolist() == [153, 0, 0]  # the blended limb beside the 2 px finger line


def test_points_at_or_left_of_pixel_one_are_not_drawn():
    # DWPose's ``x > eps`` on truncated big-canvas pixels: x or y < 1 hides the point and its edges
    face = np.full((68, 2), np.nan)
    face[0] = (0.9, 500.0)
    face[1] = (500.0, -2.0)
    face[2] = (1.0, 800.0)
    img = render_pose(np.full((18, 2), np.nan), 2160, 2160, face=face)
    assert img[800, 1].tolist() == [255, 255, 255]  # x = 1: drawn
    assert not img[490:510].any() and not img[:5, 495:506].any()  # x = 0.9 -> 0 and y < 0: not drawn
    hand = _hand_star(wrist=(0.5, 1000.0))
    img = render_pose(np.full((18, 2), np.nan), 2160, 2160, hands=np.stack([hand, hand + (1000.0, 0.0)]))
    assert not img[1000, 5:140].any()  # no edge leaves the hidden wrist (finger base 9 is at x = 150)
    assert img[1000, 1005:1140].any()  # the other hand is complete


def test_body_only_calls_are_unchanged():
    pose = body_from_face((230, 60, 282, 122), (512, 512), (512, 512)).keypoints
    body = render_pose(pose, 512, 512)
    empty_hands, empty_face = np.full((2, 21, 2), np.nan), np.full((68, 2), np.nan)
    assert np.array_equal(render_pose(pose, 512, 512, hands=empty_hands, face=empty_face), body)
    assert np.array_equal(render_pose(pose, 512, 512, scores=None), body)
    # the whole-body render only adds pixels around the synthesised hands and face
    hands, face = synthesise_extremities(pose, 512, 512)
    whole = render_whole_body(pose, 512, 512)
    changed = np.argwhere((whole != body).any(axis=2))[:, ::-1]  # [n, 2] (x, y)
    assert len(changed) > 0
    pts = np.concatenate([hands.reshape(-1, 2), face])  # [110, 2]
    nearest = np.min(np.hypot(*(changed[:, None, :] - pts[None]).transpose(2, 0, 1)), axis=1)
    assert nearest.max() < 25  # within a finger segment or a dot of a synthesised point
    far = np.ones((512, 512), bool)
    for x, y in pts.astype(int):
        far[max(y - 25, 0):y + 26, max(x - 25, 0):x + 26] = False
    assert np.array_equal(whole[far], body[far])


def test_whole_body_render_has_hands_and_face():
    pose = body_from_face((230, 60, 282, 122), (512, 512), (512, 512)).keypoints
    hands, face = synthesise_extremities(pose, 512, 512)
    assert np.isfinite(hands).all() and np.isfinite(face).all()
    whole = render_whole_body(pose, 512, 512)
    assert whole.shape == (512, 512, 3) and whole.dtype == np.uint8
    assert np.array_equal(whole, render_pose(pose, 512, 512, hands=hands, face=face))
    body = render_pose(pose, 512, 512)
    for hand in hands:  # blue dots and rainbow edges where the body image is black
        x, y = hand[12].astype(int)
        around = np.s_[y - 2:y + 3, x - 2:x + 3]
        assert not body[around].any() and whole[around][..., 2].max() > 100
    x0, y0 = face[[0, 19]].min(axis=0).astype(int)  # jaw corner and brow: the face area above the neck
    x1, y1 = face[[16, 8]].max(axis=0).astype(int)
    grey = whole[y0:y1 + 1, x0:x1 + 1].astype(int)
    whitish = (grey.min(axis=2) > 60) & (np.ptp(grey, axis=2) < 10)  # the white dots (blurred by the resize)
    assert whitish.sum() > 40 and not ((body[y0:y1 + 1, x0:x1 + 1].min(axis=2) > 60)).any()
    # deterministic, and sequences of whole bodies match single frames
    assert np.array_equal(render_whole_body(pose, 512, 512), whole)
    frames = SkeletonFrames(np.stack([pose, pose + (8.0, 0.0)]), 512, 512)
    assert np.array_equal(frames[0], whole) and not np.array_equal(frames[1], whole)
    # a missing wrist drops that hand only
    p = pose.copy()
    p[JOINTS.index("RWrist")] = np.nan
    assert not np.array_equal(render_whole_body(p, 512, 512), whole)


def test_whole_body_on_the_2160_canvas_is_shrunk_like_dwpose():
    pose = body_from_face((230, 60, 282, 122), (512, 512), (512, 512)).keypoints
    small = render_whole_body(pose, 512, 512)
    big = render_whole_body(pose * (2160 / 512), 2160, 2160)
    assert np.array_equal(small, cv2.resize(big, (512, 512), interpolation=cv2.INTER_LINEAR))


def test_left_hand_is_drawn_before_the_right_as_in_dwpose():
    hand = _hand_star()
    scores = np.stack([np.ones(21), np.full(21, 0.5)])  # right bright, left dim, same place
    img = render_pose(np.full((18, 2), np.nan), 2160, 2160, hands=np.stack([hand, hand]), hand_scores=scores)
    mid = ((hand[1] + hand[2]) / 2).astype(int)
    assert img[mid[1], mid[0]].tolist() == _edge_rgb(1)  # the right hand (drawn last) is on top
    img = render_pose(np.full((18, 2), np.nan), 2160, 2160, hands=np.stack([hand, hand]), hand_scores=scores[::-1])
    assert img[mid[1], mid[0]].tolist() == _edge_rgb(1, int(0.5 * 0.5 * 255))


def test_bad_hands_or_face_raise():
    with pytest.raises(SkeletonInputError):
        render_pose(np.zeros((18, 2)), 512, 512, hands=np.zeros((21, 2)))
    with pytest.raises(SkeletonInputError):
        render_pose(np.zeros((18, 2)), 512, 512, face=np.zeros((70, 2)))
    with pytest.raises(SkeletonInputError):
        render_whole_body(np.zeros((17, 2)), 512, 512)
