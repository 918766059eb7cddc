"""Frame-rate conversion: output times and counts, generated frames kept, motion-compensated in-between frames on a
synthetic scene with a known motion, and the streamed videos of a generation at the output rate."""

import cv2
import numpy as np
import pytest

from dancegen.io.interpolate import (FlowInterpolator, Interpolator, output_count, output_positions,
                                     sample_linear)
from dancegen.io.streams import OutputVideos
from dancegen.io.read import frames_of, probe

H, W, SIDE, TOP = 64, 160, 20, 22  # canvas, the square's side and its top row, px
SPEED = 12.0  # px per generated frame, to the right


def scene(left: float, seed: int = 0) -> np.ndarray:
    """[H, W, 3] uint8: a textured bright square (150..255) with its left edge at ``left`` px on a textured dark
    background (0..60); the textures (smooth noise, as in photos) are fixed, so only the square moves."""
    rng = np.random.default_rng(seed)
    frame = cv2.normalize(cv2.GaussianBlur(rng.random((H, W, 3)).astype(np.float32), (0, 0), 1.5), None, 0, 60,
                          cv2.NORM_MINMAX).astype(np.uint8)
    square = cv2.normalize(cv2.GaussianBlur(rng.random((SIDE, SIDE, 3)).astype(np.float32), (0, 0), 1.0), None, 150,
                           255, cv2.NORM_MINMAX).astype(np.uint8)
    x = int(round(left))
    frame[TOP:TOP + SIDE, x:x + SIDE] = square
    return frame


def clip(n: int) -> np.ndarray:
    """[n, H, W, 3]: the square moving at SPEED px per frame from x = 10."""
    return np.stack([scene(10 + SPEED * k) for k in range(n)])


def square_of(frame: np.ndarray) -> tuple[float, int]:
    """(left edge of the bright region, its pixel count) of a frame."""
    bright = frame.astype(np.float32).mean(axis=2) > 110
    xs = np.nonzero(bright)[1]
    return float(np.median(xs)) - (SIDE - 1) / 2, int(bright.sum())


@pytest.mark.parametrize("t", [0.5, 1 / 3, 2 / 3])
def test_a_square_moving_at_constant_speed_lands_where_it_should(t):
    a, b = scene(30), scene(30 + SPEED)
    (mid,) = FlowInterpolator()(a, b, [t])
    left, count = square_of(mid)
    assert left == pytest.approx(30 + t * SPEED, abs=1.0)
    # one whole square, not two faded ones (a cross-fade has no pixel above 110 where only one square was)
    assert count == pytest.approx(SIDE * SIDE, rel=0.1)
    for neighbour in (a, b):  # not a copy of either neighbour
        assert np.abs(mid.astype(int) - neighbour.astype(int)).mean() > 2.0
    # within the range of its neighbours: never brighter or darker than both of them
    assert mid.min() >= min(a.min(), b.min()) and mid.max() <= max(a.max(), b.max())
    # where the square was in a but has left (its trailing part), the background is back
    trailing = mid[TOP + 4:TOP + SIDE - 4, 31:int(30 + t * SPEED) - 1].astype(np.float32).mean(axis=2)
    assert trailing.size and trailing.max() < 110


def test_the_halfway_frame_is_the_scene_halfway_far_closer_than_a_cross_fade():
    """A fast square (24 px a frame, more than its own side): the frame made at t = 1/2 against the scene drawn
    with the square halfway; where the moving square lies over background it covers, the square is in front."""
    a, b, truth = scene(30), scene(30 + 2 * SPEED), scene(30 + SPEED)
    (mid,) = FlowInterpolator()(a, b, [0.5])

    def error(frame):
        return np.abs(frame.astype(np.float32) - truth).mean(axis=2)  # [H, W]

    fade = (a.astype(np.float32) + b) / 2
    assert error(mid).mean() < 0.25 * error(fade).mean()
    x = int(30 + SPEED)
    assert error(mid)[TOP:TOP + SIDE, x:x + SIDE].mean() < 5.0  # grey levels, on a square of 150..255


def test_streaming_8_to_24_keeps_every_generated_frame_and_moves_the_rest():
    frames = clip(5)
    stream = Interpolator(8, 24, len(frames))
    out = [o for f in frames for o in stream.push(f)]
    assert len(out) == len(stream) == 15  # 5 frames, 0.625 s, at 24 fps
    for k, generated in enumerate(frames):
        np.testing.assert_array_equal(out[3 * k], generated)  # output frame 3k is generated frame k, unchanged
    for j in range(1, 3 * (len(frames) - 1)):  # the in-betweens: the square a third / two thirds of the way
        if j % 3:
            assert square_of(out[j])[0] == pytest.approx(10 + SPEED * j / 3, abs=1.0), j
            assert not any(np.array_equal(out[j], f) for f in frames), j
    np.testing.assert_array_equal(out[13], frames[-1])  # past the last generated frame: it stays on screen
    np.testing.assert_array_equal(out[14], frames[-1])


@pytest.mark.parametrize("fps, out_fps, seconds", [(8, 24, 2.0), (8, 20, 2.0), (10, 24, 1.5), (12, 12, 1.0),
                                                   (8, 24, 1.95)])
def test_frame_counts_and_times_follow_the_music_at_any_ratio(fps, out_fps, seconds):
    n = round(seconds * fps)
    positions = output_positions(n, fps, out_fps, seconds)
    m = output_count(n, fps, out_fps, seconds)
    assert len(positions) == m and abs(m / out_fps - seconds) <= 1 / out_fps  # the music's length, +- one frame
    np.testing.assert_allclose(positions, np.arange(m) * fps / out_fps, atol=1e-6)  # frame j at time j / out_fps
    assert positions[-1] >= n - 1 - 1e-9 or m * fps / out_fps > n - 1  # the last generated frame is reached
    whole = positions[positions == np.round(positions)].astype(int)  # output frames that are generated frames
    step = {(8, 24): 1, (8, 20): 2, (10, 24): 5, (12, 12): 1}[(fps, out_fps)]  # 8 -> 20 every 2nd, 10 -> 24 5th
    assert set(range(0, n, step)) <= set(whole.tolist())


@pytest.mark.parametrize("fps, out_fps", [(8, 20), (10, 24)])
def test_other_ratios_interpolate_at_the_exact_time(fps, out_fps):
    frames = clip(6)
    stream = Interpolator(fps, out_fps, len(frames))
    out = stream.push_chunk(frames[:4])
    out = np.concatenate([out, stream.push_chunk(frames[4:])])
    assert len(out) == len(stream)
    for frame, p in zip(out, stream.positions):
        if p <= len(frames) - 1:
            assert square_of(frame)[0] == pytest.approx(10 + SPEED * p, abs=1.0), p
        if p == round(p):
            np.testing.assert_array_equal(frame, frames[int(p)])


def test_equal_rates_give_the_input_back():
    frames = clip(4)
    stream = Interpolator(8, 8, len(frames))
    out = stream.push_chunk(frames)
    np.testing.assert_array_equal(out, frames)


def test_output_slower_than_generation_or_too_many_frames_is_refused():
    with pytest.raises(ValueError, match="at least the generation rate"):
        Interpolator(8, 4, 10)
    stream = Interpolator(8, 8, 1)
    stream.push(scene(0))
    with pytest.raises(ValueError, match="only 1 generated frames"):
        stream.push(scene(0))


def test_poses_are_sampled_linearly_between_frames():
    poses = np.array([[[0.0, 0.0]], [[3.0, 6.0]], [[6.0, 0.0]]])  # [3, 1, 2]
    got = sample_linear(poses, np.array([0, 1 / 3, 1, 1.5, 2, 2.4]))
    np.testing.assert_allclose(got[:, 0], [[0, 0], [1, 2], [3, 6], [4.5, 3], [6, 0], [6, 0]], atol=1e-5)


def test_the_output_videos_stream_at_the_output_rate_with_the_music(tmp_path):
    """Two videos, side by side and a skeleton drawn at the output times: 1 s of music, 8 -> 24 fps."""
    fps, out_fps, seconds, sr = 8, 24, 1.0, 16000
    frames = clip(8)
    music = (0.1 * np.sin(np.arange(int(seconds * sr)) / 7)).astype(np.float32)
    asked = []

    def skeleton(at):
        asked.extend(at.tolist())
        return np.zeros((len(at), H, W, 3), np.uint8)

    with OutputVideos(tmp_path, ["baseline", "identity"], fps, out_fps, len(frames), seconds, skeleton, music, sr,
                      labels=("a", "b")) as videos:
        for start in (0, 3, 6):
            shown, drawn = videos.add({"baseline": frames[start:start + 3], "identity": frames[start:start + 3]})
            assert len(shown["baseline"]) == len(shown["identity"]) == len(drawn)
    assert asked == pytest.approx(list(np.arange(24) / 3))
    for name in ("baseline", "identity", "side_by_side", "skeleton"):
        info = probe(tmp_path / f"{name}.mp4")
        assert info.fps == pytest.approx(out_fps) and info.n_frames == 24, name
        assert info.duration_s == pytest.approx(seconds, abs=1 / out_fps), name
        assert abs(info.audio_duration_s - info.duration_s) <= 1 / out_fps, name
    decoded = frames_of(tmp_path / "baseline.mp4")
    assert square_of(decoded[4])[0] == pytest.approx(10 + SPEED * 4 / 3, abs=1.5)  # through H.264
