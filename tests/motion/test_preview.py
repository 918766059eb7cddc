"""The motion preview: the source (video frames or its drawn skeleton) on the left in the warp's order, the fitted
skeleton on the right, same height, written as an mp4."""

from __future__ import annotations

import numpy as np
import pytest

from dancegen.errors import UserError
from dancegen.io import read
from dancegen.motion.errors import MotionError
from dancegen.motion.preview import GAP_PX, side_by_side_frames, write_preview
from dancegen.motion.warp import frame_count, keep_timing, source_frames
from dancegen.pose.render import render_whole_body

# a standing body [18, 2] on a 64 x 64 canvas (OpenPose-18 order)
BODY = np.array([[32, 10], [32, 16], [26, 17], [24, 25], [23, 33], [38, 17], [40, 25], [41, 33], [29, 34],
                 [29, 45], [29, 56], [35, 34], [35, 45], [35, 56], [31, 9], [33, 9], [29, 10], [35, 10]], float)
H = 64


def test_source_poses_are_drawn_on_the_left_in_the_given_order():
    source = np.stack([BODY * [2.0, 1.5] + [10.0 * i, 0.0] for i in range(4)])  # on 128 x 96, moving right
    source[2, 4] = np.nan  # a wrist not seen
    fitted = np.stack([BODY + [0.0, 2.0 * i] for i in range(5)])
    order = [3, 0, 2, 1, 1]
    frames = list(side_by_side_frames(source, fitted, 64, H, source_size=(128, 96), order=order))
    left_w = 85  # 128 x 64 / 96, rounded
    assert len(frames) == 5
    for k, frame in enumerate(frames):
        assert frame.shape == (H, left_w + GAP_PX + 64, 3) and frame.dtype == np.uint8
        scaled = source[order[k]] * [left_w / 128, H / 96]
        np.testing.assert_array_equal(frame[:, :left_w], render_whole_body(scaled, left_w, H))
        assert not frame[:, left_w:left_w + GAP_PX].any()
        np.testing.assert_array_equal(frame[:, left_w + GAP_PX:], render_whole_body(fitted[k], 64, H))
    assert not np.array_equal(frames[0][:, :left_w], frames[1][:, :left_w])


def test_video_frames_are_scaled_to_the_same_height_and_run_out_on_the_last():
    colours = np.array([[200, 10, 10], [10, 200, 10], [10, 10, 200]], dtype=np.uint8)
    clip = np.broadcast_to(colours[:, None, None, :], (3, 30, 40, 3)).copy()  # [3, 30, 40, 3] solid frames
    fitted = np.repeat(BODY[None], 5, axis=0)
    frames = list(side_by_side_frames(clip, fitted, 64, H))
    left_w = 85  # 40 x 64 / 30, rounded
    for k, frame in enumerate(frames):
        assert frame.shape == (H, left_w + GAP_PX + 64, 3)
        assert (frame[:, :left_w] == colours[min(k, 2)]).all()
    listed = list(side_by_side_frames(list(clip), fitted[:2], 64, H, order=[2, 2]))
    assert (listed[0][:, :left_w] == colours[2]).all()


def test_write_preview_of_a_resampled_dance(tmp_path):
    source = np.stack([BODY + [i, 0.0] for i in range(10)])  # 10 frames at 10 fps on 64 x 64
    segments = keep_timing(1.0)
    n = frame_count(segments, 8.0)
    order = source_frames(segments, 10.0, 10, 8.0, n)
    path = write_preview(tmp_path / "motion_source.mp4", source, source[order], 8.0, 64, H, source_size=(64, 64),
                         order=order)
    info = read.probe(path)
    assert (info.n_frames, info.height) == (n, H) and info.width in (64 + GAP_PX + 64, 64 + GAP_PX + 65)


def test_bad_previews_raise_one_line_user_errors():
    fitted = np.repeat(BODY[None], 3, axis=0)
    cases = [lambda: side_by_side_frames(fitted, fitted, 64, H),  # poses without their canvas size
             lambda: side_by_side_frames(fitted, fitted, 64, H, source_size=(64, 64), order=[0, 1]),
             lambda: side_by_side_frames(fitted, fitted, 64, H, source_size=(64, 64), order=[0, 1, 3]),
             lambda: side_by_side_frames([], fitted, 64, H),
             lambda: side_by_side_frames(fitted, fitted[:, :10], 64, H, source_size=(64, 64))]
    for case in cases:
        with pytest.raises(MotionError) as info:
            case()
        assert isinstance(info.value, UserError) and "\n" not in str(info.value)
