"""A dance video to poses with DWPose on stand-in ONNX models (no real weights here), and a video without the
weights: one line saying how to get them."""

from __future__ import annotations

import numpy as np
import pytest
from support.motion import FRAMES, VIDEO_FPS, H, W, dance_video, stand_in_standing_dwpose, standing_in_crop

from dancegen.motion.errors import MotionError
from dancegen.motion.sources import load_detector, read_motion

CROP = np.array([288.0, 384.0])  # the pose model's input (w, h)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return stand_in_standing_dwpose(tmp_path_factory.mktemp("weights"))


def test_a_video_is_read_frame_by_frame_with_dwpose(tmp_path, weights):
    video = dance_video(tmp_path / "dance.mp4")
    clip = read_motion(video, detector=load_detector(weights))
    assert clip.ref.kind == "video" and clip.ref.frames == FRAMES and clip.ref.fps == pytest.approx(VIDEO_FPS)
    assert clip.size == (W, H) and clip.has_audio and clip.found.all()
    # the crop is the whole picture enlarged 1.25 x about its centre, at the model's 0.75 aspect: 160 x 213.3 px
    side = np.array([W, H]) * 1.25
    side = np.array([side[1] * 0.75, side[1]]) if side[0] < side[1] * 0.75 else np.array([side[0], side[0] / 0.75])
    expected = np.array([W, H]) / 2 + (np.round(2 * standing_in_crop()) / 2 / CROP - 0.5) * side
    seen = np.isfinite(clip.poses[0]).all(axis=1)
    assert seen.sum() == 18  # the neck too: both shoulders are seen
    assert np.allclose(clip.poses[:, 2:], expected[2:], atol=1e-6)  # every frame the same standing body
    fast = dance_video(tmp_path / "fast.mp4", 0.2, fps=60)  # read at every other frame; --motion-fps ignored
    clip = read_motion(fast, fps=99.0, detector=load_detector(weights))
    assert clip.ref.fps == pytest.approx(30.0) and clip.ref.frames == 6


def test_a_video_without_the_weights_is_one_line_saying_how_to_get_them(tmp_path):
    video = dance_video(tmp_path / "dance.mp4", 1.0)
    with pytest.raises(MotionError, match=r"needs DWPose's weights .*--weights DIR .*--download") as info:
        read_motion(video, detector_factory=lambda: load_detector(tmp_path / "nowhere"))
    assert "\n" not in str(info.value)
