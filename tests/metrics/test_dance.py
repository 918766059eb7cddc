"""Dance-level measures on hand-made motion with known answers: beats, speeds, hands, travel, levels, turns,
repeats, sliding, and the flat dict of all of them."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dancegen.metrics import dance
from dancegen.metrics.dance import (back_view_s, beat_alignment_motion, beat_precision, body_height_px, dance_metrics,
                                    distinct_moves_per_minute, hands_up_share, joint_speed_bh, kinematic_beats,
                                    kinematic_beats_per_music_beat, level_range_bh, section_repetition, travel_bh,
                                    turns, wrist_speed_bh)
from dancegen.metrics.motion import beat_alignment_score
from dancegen.music import Section
from dancegen.pose.topology import J

FPS = 25.0
# a standing body facing the camera (its right shoulder on the image's left), [18, 2] px
STAND = np.zeros((18, 2))
for _name, _xy in {"Nose": (256, 70), "Neck": (256, 100), "RShoulder": (226, 100), "RElbow": (216, 150),
                   "RWrist": (211, 200), "LShoulder": (286, 100), "LElbow": (296, 150), "LWrist": (301, 200),
                   "RHip": (241, 220), "RKnee": (243, 310), "RAnkle": (246, 400), "LHip": (271, 220),
                   "LKnee": (269, 310), "LAnkle": (266, 400), "REye": (250, 64), "LEye": (262, 64),
                   "REar": (244, 68), "LEar": (268, 68)}.items():
    STAND[J[_name]] = _xy
BH = np.hypot(10.0, 300.0)  # neck (256, 100) to either ankle (256 -+ 10, 400)
UPPER = [J[n] for n in ("Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip",
                        "LHip", "REye", "LEye", "REar", "LEar")]


def _still(n):
    return np.tile(STAND, (n, 1, 1))


def _oscillation(period_s, seconds=10.0, fps=30.0, amplitude=50.0):
    """The body swinging sideways as x = A (1 - cos(2 pi t / P)) / 2: it stops every P / 2 s."""
    t = np.arange(int(seconds * fps)) / fps
    poses = _still(t.size)
    poses[..., 0] += (amplitude * (1 - np.cos(2 * np.pi * t / period_s)) / 2)[:, None]
    return poses


def _turning(width):
    """The body turning about the neck's vertical: x - x_neck scaled by ``width`` [T] (negative: seen from behind)."""
    poses = _still(len(width))
    poses[..., 0] = STAND[J["Neck"], 0] + (STAND[:, 0] - STAND[J["Neck"], 0])[None] * np.asarray(width)[:, None]
    return poses


def test_kinematic_beats_are_where_the_motion_stops():
    stops = np.array([0.6, 1.4, 2.0, 3.2])  # s, on frames; plus 0 and 4 s, the clip's ends
    t = np.arange(101) / FPS
    edges = np.concatenate([[0.0], stops, [4.0]])
    k = np.searchsorted(edges, t, side="right").clip(1, len(edges) - 1)
    speed = np.sin(np.pi * (t - edges[k - 1]) / (edges[k] - edges[k - 1])) ** 2 * (1 + k)  # 0 at each stop
    poses = _still(t.size)
    poses[..., 0] += 4.0 * np.cumsum(speed)[:, None]
    found = kinematic_beats(poses, FPS)
    assert found.shape == stops.shape and np.abs(found - stops).max() <= 1 / FPS + 1e-9
    assert kinematic_beats(_still(2), FPS).size == 0
    assert kinematic_beats(np.full((20, 18, 2), np.nan), FPS) is None  # nothing seen: no value


def test_beat_alignment_variants_and_precision_on_stops_on_every_beat_half_the_beats_extra_and_off():
    every = np.arange(0.5, 9.6, 0.5)  # 19 beats, 0.5 s apart
    cases = {  # name: (poses, beats); stops every P / 2
        "every beat": (_oscillation(1.0), every),
        "half the beats": (_oscillation(2.0), every),  # stops every 1 s: on every other beat
        "extra stops": (_oscillation(1.0), np.arange(1.0, 9.6, 1.0)),  # a stop on every beat and one between
        "off the beat": (_oscillation(1.0), every + 0.25),
    }
    got = {name: (beat_alignment_score(p, 30.0, b), beat_alignment_motion(p, 30.0, b), beat_precision(p, 30.0, b),
                  kinematic_beats_per_music_beat(p, 30.0, b)) for name, (p, b) in cases.items()}
    bailando, fact, precision, per_beat = got["every beat"]
    assert bailando > 0.95 and fact > 0.95 and precision == 1.0 and per_beat == 1.0
    bailando, fact, precision, per_beat = got["half the beats"]
    assert 0.4 < bailando < 0.55 and fact > 0.95 and precision == 1.0 and per_beat == pytest.approx(9 / 19)
    bailando, fact, precision, per_beat = got["extra stops"]  # Bailando's stays high: the new measures fall
    assert bailando > 0.95 and 0.4 < fact < 0.55 and precision == pytest.approx(9 / 19)
    assert per_beat == pytest.approx(19 / 9)
    bailando, fact, precision, per_beat = got["off the beat"]
    assert bailando < 0.1 and fact < 0.1 and precision == 0.0 and per_beat == pytest.approx(19 / 19)
    p = _oscillation(1.0)
    assert beat_alignment_motion(p, 30.0, every + 0.05) == pytest.approx(np.exp(-0.5), abs=0.05)  # one sigma off
    assert beat_precision(p, 30.0, every + 0.07) == 1.0 and beat_precision(p, 30.0, every + 0.1) == 0.0
    assert beat_alignment_motion(p, 30.0, []) is None and beat_precision(_still(300), 30.0, every) is None
    assert kinematic_beats_per_music_beat(p, 30.0, [20.0]) is None  # no beat inside the clip


def test_body_height_and_speeds_in_body_heights_per_second():
    assert body_height_px(_still(3)) == pytest.approx(BH)
    stretched = _still(3) * np.array([1.0, 1.5])
    assert body_height_px(stretched) == pytest.approx(np.hypot(10.0, 450.0))  # measured as given
    gliding = _still(50)
    gliding[..., 0] += 3.0 * np.arange(50)[:, None]  # every joint at 3 px / frame = 75 px / s
    assert joint_speed_bh(gliding, FPS) == pytest.approx((75 / BH, 75 / BH))
    waving = _still(50)
    waving[:, J["RWrist"], 0] -= 2.0 * np.arange(50)  # both wrists at 2 px / frame, the rest still
    waving[:, J["LWrist"], 0] += 2.0 * np.arange(50)
    assert wrist_speed_bh(waving, FPS) == pytest.approx(50 / BH)
    median, mean = joint_speed_bh(waving, FPS)
    assert median == 0.0 and mean == pytest.approx(2 * 50 / 18 / BH)
    assert wrist_speed_bh(_still(1), FPS) is None and joint_speed_bh(np.zeros((5, 18, 2)), FPS) == (None, None)


def test_hands_up_share_counts_frames_with_a_wrist_above_the_shoulder_line():
    poses = _still(40)
    poses[10:20, J["RWrist"], 1] = 80.0  # above the shoulders (y 100)
    poses[20:30, J["LWrist"], 1] = 100.0  # level with them: not above
    poses[30:35, J["LWrist"], 1] = 95.0
    poses[30:33, J["RWrist"], 1] = 60.0  # both up: the frame counts once
    assert hands_up_share(poses) == pytest.approx(15 / 40)
    assert hands_up_share(_still(5)) == 0.0 and hands_up_share(np.zeros((0, 18, 2))) is None


def test_a_squat_has_a_level_range_and_no_travel_and_a_side_step_travels():
    t = np.arange(51)
    depth = 60.0 * np.sin(np.pi * t / 50) ** 2  # px, deepest at frame 25
    squat = _still(51)
    squat[:, UPPER, 1] += depth[:, None]
    squat[:, [J["RKnee"], J["LKnee"]], 1] += depth[:, None] / 2
    assert level_range_bh(squat) == pytest.approx(60 / BH) and travel_bh(squat) == 0.0
    step = _still(51)
    step[..., 0] += np.concatenate([np.linspace(0, 150, 26), np.linspace(150, 50, 26)[1:]])[:, None]
    assert travel_bh(step) == pytest.approx(150 / BH) and level_range_bh(step) == 0.0


def test_turns_count_narrowings_of_the_shoulders_and_the_back_view_is_timed():
    t = np.arange(51) / 50
    n, low = turns(_turning(1 - np.sin(np.pi * t)))  # to the side (width 0) and back
    assert n == 1 and low == pytest.approx(0.0, abs=1e-9)
    assert back_view_s(_turning(1 - np.sin(np.pi * t)), FPS) == 0.0
    n, low = turns(_turning(1 - 0.4 * np.sin(np.pi * t)))  # a twist to 0.6 of the width: no turn
    assert n == 0 and low == pytest.approx(0.6)
    assert turns(_turning(1 - 0.6 * np.sin(np.pi * t / 2)))[0] == 0  # down to 0.4 at the end, not back: open
    full = np.cos(2 * np.pi * np.arange(101) / 100)  # a full turn: side, back, side, front
    n, low = turns(_turning(full))
    assert n == 2 and low == pytest.approx(0.0, abs=0.01)
    assert back_view_s(_turning(full), FPS) == pytest.approx(2.0, abs=1.5 / FPS)  # width < 0 for half of 4 s
    twice = np.concatenate([full, full[1:]])
    assert turns(_turning(twice))[0] == 4 and back_view_s(_turning(twice), FPS) == pytest.approx(2.0, abs=1.5 / FPS)
    assert turns(_turning(np.zeros(5))) == (None, None) and back_view_s(_turning(np.zeros(5)), FPS) is None


def test_section_repetition_of_a_b_a_with_the_a_parts_danced_alike():
    k = np.arange(25)
    a_part = _still(25)
    a_part[:, J["RWrist"], 1] -= 50 * np.sin(2 * np.pi * k / 25)  # a wave of the right arm
    b_part = a_part[:20].copy()
    b_part[:, J["RWrist"], 0] += 30.0  # the same wave, the wrist 30 px further out
    again = a_part.copy()
    again[..., 0] += 100.0  # the same A, danced 100 px to the right: travel does not count
    poses = np.concatenate([a_part, b_part, again])  # A 0-1 s, B 1-1.8 s, A 1.8-2.8 s
    sections = [Section("A", 0.0, 1.0), Section("B", 1.0, 1.8), Section("A", 1.8, 2.8)]
    rep = section_repetition(poses, FPS, sections)
    assert rep["repeat_distance_bh"] == pytest.approx(0.0, abs=1e-12)
    assert rep["different_distance_bh"] == pytest.approx(30 / 18 / BH)  # one joint of 18, 30 px apart
    assert rep["repeat_ratio"] == pytest.approx(0.0, abs=1e-12)
    as_tuples = section_repetition(poses, FPS, [(s.label, s.start_s, s.end_s) for s in sections])
    assert as_tuples == rep
    only_different = section_repetition(poses, FPS, sections[:2])
    assert only_different["repeat_distance_bh"] is None and only_different["repeat_ratio"] is None
    assert section_repetition(poses, FPS, []) == {"repeat_distance_bh": None, "different_distance_bh": None,
                                                  "repeat_ratio": None}


def test_distinct_moves_per_minute():
    assert distinct_moves_per_minute(["step", "wave", "step", "squat"], 30.0) == pytest.approx(6.0)
    assert distinct_moves_per_minute(None, 30.0) is None and distinct_moves_per_minute(["step"], 0.0) is None


def test_dance_metrics_has_every_documented_key_and_no_silent_zero():
    poses = _oscillation(1.0, seconds=4.0, fps=FPS)
    poses[:, J["LAnkle"]] = STAND[J["LAnkle"]]  # the feet stay while the body sways: the left planted still,
    poses[:, J["RAnkle"], 0] = STAND[J["RAnkle"], 0] + 0.5 * np.arange(len(poses))  # the right gliding 0.5 px/frame
    beats = np.arange(0.5, 3.9, 0.5)
    m = dance_metrics(poses, FPS, beats, 512, 512, sections=[("A", 0, 2), ("A", 2, 4)],
                      move_names=["sway", "sway"])
    documented = re.findall(r"^    (\w+) ", dance.__doc__.split("::", 1)[1], flags=re.M)
    assert list(m) == documented
    assert all(v is None or type(v) is float for v in m.values())
    assert m["beat_alignment"] > 0.95 and m["beat_alignment_motion"] > 0.95 and m["beat_precision"] == 1.0
    assert m["foot_sliding_px"] == pytest.approx(0.25) and m["fraction_inside"] == 1.0
    assert m["repeat_distance_bh"] == pytest.approx(0.0, abs=0.05) and m["different_distance_bh"] is None
    assert m["distinct_moves_per_minute"] == pytest.approx(15.0) and m["turns"] == 0.0
    bare = dance_metrics(poses + np.arange(len(poses))[:, None, None] * 20.0, FPS, [], 512, 512)
    for key in ("beat_alignment", "beat_alignment_motion", "beat_precision", "kinematic_beats_per_music_beat",
                "repeat_distance_bh", "different_distance_bh", "repeat_ratio", "distinct_moves_per_minute",
                "foot_sliding_px"):  # no beats, sections or moves; the feet never planted
        assert bare[key] is None, key
    unseen = dance_metrics(np.full((20, 18, 2), np.nan), FPS, beats, 512, 512)
    assert unseen["beat_alignment"] is None and unseen["body_height_px"] is None
    assert unseen["fraction_inside"] == 0.0 and unseen["bone_length_variation"] is None
