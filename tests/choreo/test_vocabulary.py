"""The move table and the styles: every move dances inside the canvas from the reference pose, with planted feet
and rigid bones while facing the camera; styles differ and the default style follows the music."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from choreo.handmade import FPS, hand_music

from dancegen.choreo import MOVES, STYLES, ProceduralChoreographer, default_style
from dancegen.choreo.document import MoveEntry
from dancegen.choreo.moves import cycle_of
from dancegen.metrics.motion import bone_length_variation, foot_sliding_px
from dancegen.pose.topology import J


def only(plan, name: str):
    """The plan with every dance phrase made of ``name`` alone (mirrored every other phrase), home floor."""
    out = []
    for k, p in enumerate(plan.phrases):
        if p.kind == "dance":
            p = dataclasses.replace(p, moves=(MoveEntry(name, p.counts, bool(k % 2), 1.0),), floor=(0.0, 0.0),
                                    hits=(0,))
        out.append(p)
    return dataclasses.replace(plan, phrases=tuple(out))


def inside(poses, w, h):
    q = poses[np.isfinite(poses[..., 0])]
    return bool(((q >= 0) & (q < [w, h])).all())


def test_the_vocabulary_is_big_and_every_style_draws_from_it():
    assert len(MOVES) >= 40
    assert len(STYLES) >= 3
    for style in STYLES.values():
        for pool in style.pools:
            assert set(pool) <= set(MOVES)
    tags = {t for m in MOVES.values() for t in m.tags}
    assert {"travel", "level", "turn", "arms_up", "upper"} <= tags
    assert sum(m.triple is not None for m in MOVES.values()) >= 12


@pytest.mark.parametrize("meter", [4, 3])
def test_every_move_dances_inside_the_canvas_from_the_reference_pose(music44, music34, whole, meter):
    music = music44 if meter == 4 else music34
    ch = ProceduralChoreographer()
    base = ch.plan(music, 0, whole, 10.0, style="pop")
    names = [n for n, m in MOVES.items() if cycle_of(m, meter == 3)]
    assert len(names) >= (40 if meter == 4 else 12)
    for name in names:
        poses = ch.poses(only(base, name), music, whole, FPS, 241)
        assert poses.shape == (241, 18, 2) and poses.dtype == np.float32, name
        assert np.array_equal(poses[0], whole.keypoints.astype(np.float32)), name
        body = [j for j in range(18) if j not in (J["Nose"], J["REye"], J["LEye"], J["REar"], J["LEar"])]
        assert np.isfinite(poses[:, body]).all(), name  # only head points are ever hidden
        assert inside(poses, 320, 576), name
        assert foot_sliding_px(poses) < 1.0, name
        width = np.abs(poses[:, J["RShoulder"], 0] - poses[:, J["LShoulder"], 0])
        if "turn" in MOVES[name].tags:  # shoulders narrow as the body turns (bones shorten in the picture)
            assert width.min() < 0.5 * width[0], name
        else:
            assert bone_length_variation(poses) < 0.01, name
        assert np.ptp(poses, axis=0)[np.isfinite(np.ptp(poses, axis=0))].max() > 5.0, name  # it moves


def test_styles_differ(music44, whole):
    ch = ProceduralChoreographer()
    used = {}
    for style in STYLES:
        used[style] = {m.move for p in ch.plan(music44, 0, whole, 30.0, style=style).phrases for m in p.moves}
    names = list(used)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            overlap = len(used[a] & used[b] - {"groove", "finish"}) / len(used[a] - {"groove", "finish"})
            assert overlap < 0.5, (a, b, used[a], used[b])
    poses = [ch(music44, FPS, 0, whole, 240, style=s) for s in STYLES]
    assert np.nanmax(np.abs(poses[0] - poses[1])) > 20.0


def test_default_style_follows_the_music():
    beats = 0.5 + 0.5 * np.arange(40)
    assert default_style(hand_music(beats, 20.0, 3)) == "korean"
    slow = 0.8 * np.arange(1, 25)  # 75 BPM
    assert default_style(hand_music(slow, 20.0, 4)) == "korean"
    m = hand_music(beats, 20.0, 4)
    t = np.arange(m.samples.size) / m.sr
    bass = dataclasses.replace(m, samples=(0.5 * np.sin(2 * np.pi * 60 * t)).astype(np.float32), tempo_bpm=100.0)
    assert default_style(bass) == "hiphop"
    bright = dataclasses.replace(bass, samples=(0.5 * np.sin(2 * np.pi * 880 * t)).astype(np.float32))
    assert default_style(bright) == "pop"
    fast_bass = dataclasses.replace(bass, tempo_bpm=150.0)
    assert default_style(fast_bass) == "pop"


def test_an_unknown_style_is_refused(music44, whole):
    from dancegen.choreo import ChoreographyError

    with pytest.raises(ChoreographyError, match="unknown style 'tango'"):
        ProceduralChoreographer().plan(music44, 0, whole, 10.0, style="tango")
