"""The form of a dance: sections repeat alike, phrases start on downbeats, triple meter in threes, no move twice in
a row, quick turns (the back never shows for more than a beat), motion that flows between hits, an ending."""

from __future__ import annotations

import dataclasses

import numpy as np
from choreo.handmade import FPS

from dancegen.choreo import STYLES, ProceduralChoreographer
from dancegen.choreo.vocabulary import ALL_MOVES
from dancegen.pose.topology import J

# the limbs' own paths: arm loops that slow on every beat by design, and steps that do not stop on a hit
LIMB_JOINTS = [J[n] for n in ("RElbow", "RWrist", "LElbow", "LWrist", "RKnee", "RAnkle", "LKnee", "LAnkle")]

def rel_hip(poses):
    """Poses relative to the mid-hip of each frame [T, 18, 2]."""
    return poses - 0.5 * (poses[:, [J["RHip"]]] + poses[:, [J["LHip"]]])


def test_a_repeated_section_is_danced_like_its_first_time(aba, whole):
    ch = ProceduralChoreographer()
    plan = ch.plan(aba, 3, whole, 29.0)
    a1 = [p for p in plan.phrases if p.kind == "dance" and 1.0 <= p.start_s < 9.0]
    a2 = [p for p in plan.phrases if p.kind == "dance" and 17.0 <= p.start_s < 25.0]
    assert [p.section for p in a1] == ["A"] * len(a1) and len(a1) == len(a2) == 2
    assert [p.moves for p in a1] == [p.moves for p in a2]
    b = [p for p in plan.phrases if p.section == "B"]
    assert b and {m.move for p in b for m in p.moves} != {m.move for p in a1 for m in p.moves}
    assert min(m.size for p in b for m in p.moves) > max(m.size for p in a1 for m in p.moves)  # louder, bigger
    poses = ch.poses(plan, aba, whole, FPS, 697)
    f = int(FPS)  # 24 frames per second, beats on whole frames
    first, again, other = (rel_hip(poses[s * f + f: s * f + 7 * f]) for s in (1, 17, 9))
    ok = np.isfinite(first) & np.isfinite(again)
    assert np.abs(first - again)[ok].max() < 1e-3  # within rounding
    d_same = np.nanmean(np.linalg.norm(first - again, axis=-1))
    d_other = np.nanmean(np.linalg.norm(first - other, axis=-1))
    assert d_same <= 0.5 * d_other and d_other > 3.0


def test_phrases_start_on_downbeats_and_moves_do_not_repeat(music44, aba, whole):
    ch = ProceduralChoreographer()
    for music in (music44, aba):
        for style in STYLES:
            plan = ch.plan(music, 0, whole, 29.0, style=style)
            downbeats = music.downbeats_s
            moves = [m.move for p in plan.phrases for m in p.moves]
            assert all(a != b for a, b in zip(moves, moves[1:])), moves
            for p in plan.phrases:
                if p.kind != "intro":
                    assert np.abs(downbeats - p.start_s).min() < 1e-6, (style, p.start_s)
            assert plan.phrases[0].kind == "intro" and plan.phrases[0].start_s == 0.0  # the pick-up beat
            assert sum(p.counts for p in plan.phrases if p.kind == "dance") % 4 == 0


def test_triple_meter_is_danced_in_threes(music34, whole):
    ch = ProceduralChoreographer()
    for style in STYLES:
        plan = ch.plan(music34, 1, whole, 29.0, style=style)
        assert plan.meter == 3
        for p in plan.phrases:
            if p.kind != "dance":
                continue
            assert p.counts in (3, 6)
            at = 0
            for m in p.moves:
                assert m.counts % 3 == 0 and at % 3 == 0, (style, p)  # 3 + 3, never 4 + 2 across the bar
                assert ALL_MOVES[m.move].triple is not None
                at += m.counts


def test_the_back_never_shows_for_more_than_a_beat_and_turns_narrow_the_shoulders(music44, whole):
    ch = ProceduralChoreographer()
    narrowest = []
    for seed in range(4):
        poses = ch(music44, FPS, seed, whole, 696, style="pop")
        back = np.isnan(poses[:, J["Nose"], 0]).astype(int)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], back, [0]])))
        runs = edges[1::2] - edges[::2]
        assert runs.size == 0 or runs.max() <= 12, runs  # a beat is 12 frames
        width = np.abs(poses[:, J["RShoulder"], 0] - poses[:, J["LShoulder"], 0])
        narrowest.append(width.min() / width[0])
    assert np.mean(np.array(narrowest) <= 0.5) >= 0.75, narrowest


def test_motion_flows_between_hits_and_stops_on_them(music44, whole):
    """Counts that are not hits are passed through: the same plan with every count a hit is slower there (the head
    and trunk: the arms' loops slow down on every beat by design, steps follow their own paths)."""
    ch = ProceduralChoreographer()
    plan = ch.plan(music44, 0, whole, 29.0, style="pop")
    stops = dataclasses.replace(plan, phrases=tuple(dataclasses.replace(p, hits=tuple(range(p.counts)))
                                                    for p in plan.phrases))

    def speed(pl):
        poses = ch.poses(pl, music44, whole, FPS, 696).astype(np.float64)
        body = [j for j in range(18) if j not in LIMB_JOINTS]
        return np.nanmean(np.linalg.norm(np.gradient(poses[:, body], axis=0), axis=-1), axis=1)  # [T] px / frame

    flowing, stopping = speed(plan), speed(stops)
    hit_f, flow_f = [], []
    for p in plan.phrases:
        if p.kind == "dance":
            for c in range(p.counts):
                (hit_f if c in p.hits else flow_f).append(int(round((p.start_s + c * 0.5) * FPS)))
    assert len(flow_f) > 0.25 * (len(hit_f) + len(flow_f)) and hit_f  # not every count is a stop
    assert flowing[flow_f].mean() > 1.3 * stopping[flow_f].mean(), (flowing[flow_f].mean(),
                                                                           stopping[flow_f].mean())
    assert np.allclose(flowing[hit_f].mean(), stopping[hit_f].mean(), rtol=0.5, atol=0.3)


def test_the_dance_ends_on_a_held_pose(music44, whole):
    ch = ProceduralChoreographer()
    plan = ch.plan(music44, 0, whole, 29.0)
    end = plan.phrases[-1]
    assert end.kind == "ending" and end.moves[0].move == "finish"
    assert np.abs(music44.downbeats_s - end.start_s).min() < 1e-6 and end.start_s > 25.0
    poses = ch.poses(plan, music44, whole, FPS, 697)
    held = poses[int(np.ceil(end.start_s * FPS)):]
    assert len(held) > 12 and np.abs(held - held[0]).max() < 1e-3
    assert np.abs(poses[int(end.start_s * FPS) - 12] - held[0]).max() > 2.0  # arrives there by moving
