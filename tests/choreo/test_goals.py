"""Every dance of a small test set turns, changes level, travels across the room and keeps its arms moving (the
goals of bench/choreo.py, at the sizes a unit test can afford; hand-built music, whole-body framing)."""

from __future__ import annotations

import numpy as np
import pytest
from choreo.handmade import FPS, hand_music

from dancegen.choreo import STYLES, ProceduralChoreographer
from dancegen.choreo.vocabulary import ALL_MOVES
from dancegen.metrics.dance import dance_metrics

SONGS = ((120.0, 4), (90.0, 3), (75.0, 4))  # (bpm, beats per bar)


@pytest.fixture(scope="module")
def dances(whole):
    """[(style, plan, dance_metrics)] of 24-s dances of each song in each style."""
    ch = ProceduralChoreographer()
    out = []
    for bpm, bpb in SONGS:
        beats = (60.0 / bpm) * np.arange(1, int(24.0 * bpm / 60.0))
        m = hand_music(beats, 24.0, bpb)
        for style in STYLES:
            plan = ch.plan(m, 0, whole, 23.9, style)
            poses = ch.poses(plan, m, whole, FPS, 576)
            out.append((style, plan, dance_metrics(poses, FPS, beats, 320, 576)))
    return out


def test_every_dance_turns_and_changes_level(dances):
    for style, plan, d in dances:
        tags = {t for p in plan.phrases for mv in p.moves for t in ALL_MOVES[mv.move].tags}
        assert {"turn", "level", "travel"} <= tags, (style, tags)
        assert d["min_shoulder_ratio"] <= 0.5 and d["turns"] >= 1, (style, d["min_shoulder_ratio"])
        assert d["level_range_bh"] >= 0.1, (style, d["level_range_bh"])
        assert d["back_view_s"] <= 0.5  # never more than a beat (the slowest beat here: 0.8 s)


def test_dances_travel_across_the_room_and_keep_the_arms_moving(dances):
    travel = [d["travel_bh"] for _, _, d in dances]
    wrist = [d["wrist_speed_median_bh_s"] for _, _, d in dances]
    # the room at 320 px is ~0.65 bh; the bench's goal is 0.5 bh (not met by every dance yet, see bench/choreo.py)
    assert min(travel) >= 0.1 and np.median(travel) >= 0.3, travel
    assert min(wrist) >= 0.3 and np.median(wrist) >= 0.45, wrist  # held arms measured 0.28-0.34 bh/s
    assert min(d["beat_alignment"] for _, _, d in dances) >= 0.24
