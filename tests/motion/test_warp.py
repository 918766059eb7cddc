"""The timing of a brought dance: its beats found, warped onto a song's beats at another tempo, looped, cut, mirrored,
replayed from its record, NaN-aware, and its bad inputs refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dancegen.errors import UserError
from dancegen.metrics.motion import beat_alignment_score
from dancegen.motion.errors import MotionError
from dancegen.motion.warp import (MAX_STRETCH, MIN_STRETCH, MIRROR, WarpSegment, apply_warp, frame_count,
                                  keep_timing, motion_beats, plan_warp, segments_from_json, segments_to_json,
                                  source_frames)
from dancegen.pose.topology import J

FPS, OUT_FPS, WIDTH = 30.0, 25.0, 256
FIRST, PERIOD = 0.3, 0.6  # the source stops at 0.3 s, then every 0.6 s (100 bpm)
SONG_BEATS = 0.25 + 0.5 * np.arange(40)  # the song's beats: every 0.5 s (120 bpm) from 0.25 s
# a standing body [18, 2] px (OpenPose-18 order), 184 px from the head to the ankles
STAND = np.array([[128, 40], [128, 60], [108, 62], [100, 90], [96, 118], [148, 62], [156, 90], [160, 118],
                  [116, 130], [116, 175], [116, 220], [140, 130], [140, 175], [140, 220], [124, 36], [132, 36],
                  [118, 38], [138, 38]], dtype=np.float64)


def source(seconds: float = 6.0, drift_px_s: float = 0.0) -> np.ndarray:
    """A dance [T, 18, 2] at FPS: the right arm swings up and down, stopping sharply (speed |sin|) at FIRST + k
    PERIOD; the whole body drifts right at ``drift_px_s``."""
    t = np.arange(int(round(seconds * FPS))) / FPS
    p = np.repeat(STAND[None], t.size, axis=0)
    phase = (1 - np.cos(np.pi * (t - FIRST) / PERIOD)) / 2  # 0 at even stops, 1 at odd ones
    p[:, J["RWrist"]] += phase[:, None] * [-40.0, -60.0]
    p[:, J["RElbow"]] += phase[:, None] * [-20.0, -20.0]
    p[..., 0] += drift_px_s * t[:, None]
    return p


def warped(p: np.ndarray, segments) -> np.ndarray:
    """``p`` through ``segments`` at OUT_FPS over the whole warp."""
    return apply_warp(p, FPS, segments, OUT_FPS, frame_count(segments, OUT_FPS), WIDTH)


def test_motion_beats_are_the_stops_even_with_unseen_joints():
    p = source()
    expected = FIRST + PERIOD * np.arange(10)
    np.testing.assert_allclose(motion_beats(p, FPS), expected, atol=0.5 / FPS)
    holes = p.copy()
    rng = np.random.default_rng(1)
    holes[rng.random(holes.shape[:2]) < 0.2] = np.nan  # a fifth of the joints unseen, frame by frame
    holes[:, J["LWrist"]] = np.nan  # and one never seen
    found = motion_beats(holes, FPS)
    assert found.size == expected.size
    np.testing.assert_allclose(found, expected, atol=1.5 / FPS)


def test_the_warp_puts_the_stops_on_the_song_beats():
    p = source()
    song_s = 4.8
    beats = SONG_BEATS[SONG_BEATS < song_s]
    plain = apply_warp(p, FPS, keep_timing(p.shape[0] / FPS), OUT_FPS, int(song_s * OUT_FPS), WIDTH)
    assert beat_alignment_score(plain, OUT_FPS, beats) < 0.5  # 100 bpm stops against 120 bpm beats
    segments = plan_warp(motion_beats(p, FPS), p.shape[0] / FPS, beats, song_s)
    out = warped(p, segments)
    assert out.shape == (int(song_s * OUT_FPS), 18, 2) and out.dtype == np.float32
    assert beat_alignment_score(out, OUT_FPS, beats) >= 0.5
    long_song = plan_warp(motion_beats(p, FPS), p.shape[0] / FPS, SONG_BEATS, 15.0, mirror_alternate=True)
    assert beat_alignment_score(warped(p, long_song), OUT_FPS, SONG_BEATS[SONG_BEATS < 15.0]) >= 0.5


def _check_monotone_and_bounded(segments, song_s):
    assert segments[0].song_start_s == 0.0 and segments[-1].song_end_s == song_s
    for a, b in zip(segments, segments[1:]):
        assert a.song_end_s == b.song_start_s
    for seg in segments:
        t = np.linspace(seg.song_start_s, seg.song_end_s, 400)
        assert np.all(np.diff(seg.source_time(t)) >= 0)
        k = np.asarray(seg.knots)
        stretch = np.diff(k[:, 0]) / np.diff(k[:, 1])
        assert np.all(stretch >= MIN_STRETCH - 1e-9) and np.all(stretch <= MAX_STRETCH + 1e-9), stretch


@pytest.mark.parametrize("seed", range(10))
def test_the_warp_is_monotone_with_bounded_stretch_for_uneven_beats(seed):
    rng = np.random.default_rng(seed)
    src_period = rng.uniform(0.2, 1.2)
    src = np.cumsum(src_period * rng.uniform(0.6, 1.4, 24))  # uneven, some gaps off by 40 %
    song = np.cumsum(0.5 * rng.uniform(0.8, 1.2, 80))
    song_s = float(rng.uniform(5.0, 30.0))
    segments = plan_warp(src, src[-1] + 0.2, song, song_s, downbeats_s=song[2::4], mirror_alternate=True)
    _check_monotone_and_bounded(segments, song_s)


def test_loops_fill_a_longer_song_a_shorter_one_cuts_and_boundaries_sit_on_downbeats():
    p = source()
    beats = motion_beats(p, FPS)
    downbeats = SONG_BEATS[1::4]  # a pick-up beat, then bars of 4
    long = plan_warp(beats, p.shape[0] / FPS, SONG_BEATS, 14.0, downbeats_s=downbeats)
    assert len(long) >= 3 and not any(s.mirrored for s in long)  # mirroring is off by default
    _check_monotone_and_bounded(long, 14.0)
    assert long[0].source_time(downbeats[0]) == pytest.approx(beats[0])  # its first stop on the first downbeat
    for seg in long[1:]:
        assert np.abs(downbeats - seg.song_start_s).min() < 1e-9
        assert seg.source_time(seg.song_start_s) == pytest.approx(beats[0])  # each loop starts over
    used = source_frames(long, FPS, p.shape[0], OUT_FPS, frame_count(long, OUT_FPS))
    assert (np.diff(used) < 0).sum() == len(long) - 1  # it goes back only at the loops' starts
    short = plan_warp(beats, p.shape[0] / FPS, SONG_BEATS, 3.0)
    assert len(short) == 1 and short[0].song_end_s == 3.0
    assert np.all(np.diff(source_frames(short, FPS, p.shape[0], OUT_FPS, 75)) >= 0)  # never back: a cut
    assert warped(p, short).shape == (75, 18, 2)


def test_mirrored_loops_swap_the_sides_and_stay_in_place():
    p = source()
    segments = plan_warp(motion_beats(p, FPS), p.shape[0] / FPS, SONG_BEATS, 10.0, mirror_alternate=True)
    assert [s.mirrored for s in segments][:2] == [False, True]
    out = warped(p, segments).astype(np.float64)
    t = np.arange(out.shape[0]) / OUT_FPS
    first = (t > 0.5) & (t < segments[0].song_end_s - 0.3)
    second = (t > segments[1].song_start_s + 0.3) & (t < segments[1].song_end_s - 0.3)
    right, left = out[:, J["RWrist"], 1], out[:, J["LWrist"], 1]
    assert np.ptp(right[first]) > 50 and np.ptp(left[first]) < 1e-3  # the right arm dances first ...
    assert np.ptp(left[second]) > 50 and np.ptp(right[second]) < 1e-3  # ... then the left
    centre = STAND[[J["Neck"], J["RShoulder"], J["LShoulder"], J["RHip"], J["LHip"]], 0].mean()
    np.testing.assert_allclose(out[second, J["RHip"], 0], 2 * centre - STAND[J["LHip"], 0], atol=1e-4)
    np.testing.assert_allclose(out[second, J["Neck"], 0], STAND[J["Neck"], 0], atol=1e-4)  # in place
    plain = apply_warp(p, FPS, [WarpSegment(s.song_start_s, s.song_end_s, s.knots) for s in segments], OUT_FPS,
                       out.shape[0], WIDTH).astype(np.float64)
    np.testing.assert_allclose(out[second][:, list(MIRROR), 0], 2 * centre - plain[second][..., 0], atol=1e-4)
    np.testing.assert_allclose(out[second][:, list(MIRROR), 1], plain[second][..., 1], atol=1e-4)


def test_replay_from_the_json_record_is_bit_for_bit():
    p = source(drift_px_s=7.3)
    p[40:47, J["LKnee"]] = np.nan
    segments = plan_warp(motion_beats(p, FPS), p.shape[0] / FPS, SONG_BEATS * 1.0137, 13.3,
                         downbeats_s=SONG_BEATS[::4] * 1.0137, mirror_alternate=True)
    record = json.loads(json.dumps({"motion_warp": segments_to_json(segments)}))
    again = segments_from_json(record["motion_warp"])
    assert again == segments
    np.testing.assert_array_equal(warped(p, again), warped(p, segments))  # NaN where NaN, bits equal elsewhere
    assert WarpSegment.from_json(segments[1].to_json()) == segments[1]


def test_unseen_joints_stay_unseen():
    p = source()
    p[60:70, J["LKnee"]] = np.nan  # 2.0 - 2.3 s
    p[:, J["REar"]] = np.nan
    segments = keep_timing(p.shape[0] / FPS)
    out = apply_warp(p, FPS, segments, 24.0, 144, WIDTH)
    t = np.arange(144) / 24.0
    gone = (t > 59 / FPS) & (t < 70 / FPS)  # a time next to an unseen frame is unseen
    assert np.isnan(out[gone, J["LKnee"]]).all() and np.isfinite(out[~gone, J["LKnee"]]).all()
    assert np.isnan(out[:, J["REar"]]).all()
    others = [j for j in range(18) if j not in (J["LKnee"], J["REar"])]
    assert np.isfinite(out[:, others]).all()


def test_keep_timing_resamples_without_changing_the_timing():
    p = source(seconds=2.0)
    same = apply_warp(p, FPS, keep_timing(2.0), FPS, p.shape[0], WIDTH)
    np.testing.assert_array_equal(same, p.astype(np.float32))
    double = apply_warp(p, FPS, keep_timing(2.0), 2 * FPS, 2 * p.shape[0] - 1, WIDTH)
    np.testing.assert_array_equal(double[::2], p.astype(np.float32))
    np.testing.assert_allclose(double[1::2], ((p[:-1] + p[1:]) / 2).astype(np.float32), atol=1e-4)


def _steps(out: np.ndarray) -> np.ndarray:
    """Largest joint move (px) from each frame to the next [N - 1]."""
    return np.nanmax(np.linalg.norm(np.diff(out.astype(np.float64), axis=0), axis=-1), axis=1)


def test_no_jump_across_a_loop_boundary():
    p = source(drift_px_s=12.0)  # the dancer travels ~58 px through one loop, then the next starts back
    segments = plan_warp(motion_beats(p, FPS), p.shape[0] / FPS, SONG_BEATS, 9.0)
    boundary = segments[0].song_end_s
    jump = np.abs(p[int(round(5.1 * FPS)), J["Neck"], 0] - p[int(round(FIRST * FPS)), J["Neck"], 0])
    assert len(segments) == 2 and jump > 50
    out = warped(p, segments)
    t = np.arange(out.shape[0] - 1) / OUT_FPS
    near = np.abs(t - boundary) < 0.5
    # the blend adds at most 1.5 x jump / (blend frames) to the dance's own step (the smoothstep's steepest slope)
    bound = _steps(out)[~near].max() + 1.5 * jump / (0.4 * OUT_FPS) + 0.5
    assert _steps(out)[near].max() <= bound
    cut = apply_warp(p, FPS, segments, OUT_FPS, out.shape[0], WIDTH, blend_s=0.0)
    assert _steps(cut)[near].max() > bound  # without the blend it jumps


def test_bad_inputs_raise_one_line_user_errors():
    still = np.repeat(STAND[None], 90, axis=0) + np.random.default_rng(0).normal(0, 1.0, (90, 18, 2))
    cases = [lambda: motion_beats(still, FPS),  # detector jitter on a body that stands still
             lambda: motion_beats(source(), 0),
             lambda: motion_beats(source()[:, :17], FPS),
             lambda: apply_warp(source(), -1, keep_timing(1.0), OUT_FPS, 10, WIDTH),
             lambda: apply_warp(source(), FPS, (), OUT_FPS, 10, WIDTH),
             lambda: plan_warp([1.0], 6.0, SONG_BEATS, 10.0),
             lambda: plan_warp([1.0, 2.0], 6.0, [], 10.0),
             lambda: plan_warp([1.0, 2.0], 0.0, SONG_BEATS, 10.0),
             lambda: keep_timing(float("nan")),
             lambda: segments_from_json([{"song_start_s": 0, "song_end_s": 1, "knots": [[0, 0]], "mirrored": False}]),
             lambda: segments_from_json([keep_timing(2.0)[0].to_json(),
                                         WarpSegment(2.5, 3.0, ((2.5, 0.0), (3.0, 0.5))).to_json()]),
             lambda: WarpSegment(0.0, 1.0, ((0.0, 1.0), (1.0, 0.5)))]  # back in source time
    for case in cases:
        with pytest.raises(MotionError) as info:
            case()
        assert isinstance(info.value, UserError)
        message = str(info.value)
        assert message and "\n" not in message
