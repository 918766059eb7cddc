"""The procedural choreographer as a MusicToPose: on analysed synthetic music it hits the beats, keeps feet
planted and bones rigid, stays in frame, varies, follows the energy; close-ups, silence, bad arguments,
retargeting."""

from __future__ import annotations

import numpy as np
import pytest
from choreo.handmade import hand_music
from support.audio_synth import synth_track

from dancegen.choreo import MOVES, ChoreographyError, ProceduralChoreographer, retarget_to_body
from dancegen.metrics.motion import beat_alignment_score, bone_length_variation, foot_sliding_px
from dancegen.music import analyse_samples
from dancegen.pose.layout import body_from_face, body_from_keypoints
from dancegen.pose.topology import J

FPS = 24.0
SR = 22050
HEAD = [J[n] for n in ("Nose", "REye", "LEye", "REar", "LEar")]


def inside(poses, w, h, joints=slice(None)):
    q = poses[:, joints][np.isfinite(poses[:, joints, 0])]
    return bool(((q >= 0) & (q < [w, h])).all())


@pytest.fixture(scope="module")
def analysed(warmed_up):
    """[(MusicAnalysis, true beats)] of 20-s synthetic tracks: 4/4 drums, 3/4 chords, a fast half-time song."""
    out = []
    for bpm, meter, style in ((120.0, 4, "drums"), (96.0, 3, "chords"), (152.0, 4, "drums")):
        y, beats, _ = synth_track(bpm, 20.0, sr=SR, meter=meter, style=style)
        out.append((analyse_samples(y, SR), beats))
    return out


def test_dances_on_analysed_music_hit_the_beats_and_stay_physical(analysed, whole):
    ch = ProceduralChoreographer()
    for m, beats in analysed:
        poses = ch(m, FPS, 0, whole)
        assert poses.shape == (480, 18, 2) and poses.dtype == np.float32
        assert np.array_equal(poses[0], whole.keypoints.astype(np.float32))
        assert beat_alignment_score(poses, FPS, beats) >= 0.24  # real dance (AIST++) ~0.24
        assert foot_sliding_px(poses) < 1.0
        assert inside(poses, 320, 576)
        body = [j for j in range(18) if j not in HEAD]
        assert np.isfinite(poses[:, body]).all()
        assert np.abs(poses[1] - poses[0]).max() < 10.0  # no jump after the first frame


def test_a_30_second_dance_varies_and_uses_the_room(music44, whole):
    ch = ProceduralChoreographer()
    plan = ch.plan(music44, 0, whole, 29.0)
    poses = ch(music44, FPS, 0, whole, 720).astype(np.float64)
    names = {m.move for p in plan.phrases for m in p.moves} - {"groove", "finish"}
    assert len(names) >= 8, names
    bh = np.linalg.norm(poses[0, J["Neck"]] - poses[0, [J["RAnkle"], J["LAnkle"]]].mean(axis=0))
    assert np.ptp(poses[:, J["Neck"], 1]) > 0.2 * bh  # levels
    sh = np.minimum(poses[:, J["RShoulder"], 1], poses[:, J["LShoulder"], 1])
    assert ((poses[:, J["RWrist"], 1] < sh) | (poses[:, J["LWrist"], 1] < sh)).mean() >= 0.15  # arms up
    hips = poses[:, [J["RHip"], J["LHip"]], 0].mean(axis=1)
    assert np.ptp(hips) > 0.25 * bh  # travel


def test_movement_follows_the_music_energy(whole):
    beats = 0.5 + 0.5 * np.arange(80)
    m = hand_music(beats, 40.0, 4, rms=lambda t: np.where(t < 20.0, 0.1, 0.9), downbeat_offset=1)
    ch = ProceduralChoreographer()
    poses = ch(m, FPS, 0, whole).astype(np.float64)
    speed = np.linalg.norm(np.diff(poses, axis=0), axis=-1)
    speed = np.nanmean(speed, axis=1)
    assert speed[600:900].mean() > 1.5 * speed[48:420].mean()
    plan = ch.plan(m, 0, whole, 39.0)
    quiet = [mv.size for p in plan.phrases if p.kind == "dance" and p.end_s < 20 for mv in p.moves]
    loud = [mv.size for p in plan.phrases if p.kind == "dance" and p.start_s > 21 for mv in p.moves]
    assert max(quiet) < min(loud)


def test_deterministic_per_seed_and_different_across_seeds(music44, whole):
    ch = ProceduralChoreographer()
    a, b, c = (ch(music44, FPS, s, whole, 300) for s in (0, 0, 1))
    assert np.array_equal(a, b, equal_nan=True)
    assert np.nanmax(np.abs(a - c)) > 20.0


def test_frame_count_and_frames_past_the_music(whole):
    m = hand_music(0.3 + 0.5 * np.arange(40), 20.0)
    ch = ProceduralChoreographer()
    assert ch(m, 24.0, 0, whole).shape == (480, 18, 2)
    assert ch(m, 10.0, 0, whole, n_frames=7).shape == (7, 18, 2)
    long = ch(m, 10.0, 0, whole, n_frames=300)  # past the end of the music: beats go on, then the ending
    assert long.shape == (300, 18, 2) and np.nanmax(np.ptp(long[150:250], axis=0)) > 5.0


def test_a_detected_pose_with_a_raised_arm_starts_the_dance(music44):
    ref = body_from_face((230, 60, 282, 122), (512, 512), (512, 512)).keypoints.copy()
    ref[J["RElbow"]] = ref[J["RShoulder"]] + (-30.0, -45.0)
    ref[J["RWrist"]] = ref[J["RElbow"]] + (5.0, -50.0)
    lay = body_from_keypoints(ref, np.ones(18), (512, 512), (512, 512))
    poses = ProceduralChoreographer()(music44, FPS, 3, lay, 300)
    assert np.allclose(poses[0], ref, atol=1e-3)
    assert np.abs(poses[1] - poses[0]).max() < 10.0
    assert inside(poses, 512, 512) and foot_sliding_px(poses) < 1.0


def test_a_close_up_dances_upper_body_moves_with_head_and_shoulders_in_frame(music44, close_up):
    ch = ProceduralChoreographer()
    plan = ch.plan(music44, 0, close_up, 29.0)
    names = {m.move for p in plan.phrases for m in p.moves} - {"groove", "finish"}
    assert names and all("upper" in MOVES[n].tags for n in names), names
    poses = ch.poses(plan, music44, close_up, FPS, 696)
    kept = [J[n] for n in ("Neck", "RShoulder", "LShoulder")] + HEAD
    assert inside(poses, 256, 256, kept)
    wrists = poses[:, [J["RWrist"], J["LWrist"]], 1]
    assert np.ptp(wrists, axis=0).min() > 1.0 * close_up.head_height  # the hands go up and down


def test_silence_or_missing_beats_still_gives_a_dance(whole):
    m = hand_music([], 8.0, rms=lambda t: np.zeros_like(t))
    poses = ProceduralChoreographer()(m, FPS, 0, whole)
    assert poses.shape == (192, 18, 2) and np.nanmax(np.ptp(poses, axis=0)) > 2.0 and inside(poses, 320, 576)


def test_bad_arguments_raise_clear_errors(whole):
    m = hand_music(0.5 * np.arange(10), 5.0)
    for kwargs in (dict(fps=0.0), dict(fps=25.0, n_frames=0), dict(fps=25.0, seed=1.5)):
        fps = kwargs.pop("fps")
        with pytest.raises(ChoreographyError):
            ProceduralChoreographer()(m, fps, kwargs.pop("seed", 0), whole, **kwargs)
    with pytest.raises(ChoreographyError):
        retarget_to_body(np.zeros((4, 17, 2)), whole)


def test_retarget_keeps_the_motion_and_uses_the_reference_bones(music44, whole):
    source = ProceduralChoreographer()(music44, FPS, 5, whole, 200, style="hiphop").astype(np.float64)
    finite = np.isfinite(source).all(axis=(1, 2))
    source = source[finite]
    assert len(source) > 150
    out = retarget_to_body(source * 1.7 + np.array([40.0, -25.0]), whole)
    assert np.allclose(out[0], whole.keypoints, atol=1e-3)
    assert bone_length_variation(out) < 1e-4
