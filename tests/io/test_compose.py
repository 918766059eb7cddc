"""The labelled side-by-side A/B clip, checked on the written and decoded file."""

from __future__ import annotations

import numpy as np
import pytest
from support.media import FPS, LABELS, SR, H, T, W, tone

from dancegen.io.compose import side_by_side
from dancegen.io.read import probe
from dancegen.io.video import VideoError, write_mp4


def test_side_by_side_layout_labels_and_halves(clip):
    right = clip[:, ::-1]  # upside down, so the halves differ
    out = side_by_side(clip, right, LABELS, gap=8)
    bar_h = out.shape[1] - H
    assert out.shape == (T, H + bar_h, 2 * W + 8, 3) and out.dtype == np.uint8
    assert 8 <= bar_h <= 40
    np.testing.assert_array_equal(out[:, bar_h:, :W], clip)
    np.testing.assert_array_equal(out[:, bar_h:, W + 8:], right)
    gap = out[:, bar_h:, W:W + 8].reshape(-1, 3)
    assert (gap == gap[0]).all()
    bar = out[0, :bar_h].astype(np.int16)
    background = bar[0, 0]
    for half in (bar[:, :W], bar[:, W + 8:]):  # text drawn in both halves: bright pixels on the dark bar
        assert (np.abs(half - background).max(axis=-1) > 100).sum() >= 10
    assert (out[:, :bar_h] == out[0, :bar_h]).all()  # the same bar on every frame


def test_side_by_side_legible_at_video_size():
    left = np.full((2, 256, 256, 3), 90, np.uint8)
    out = side_by_side(left, left, LABELS)
    bar = out[0, : out.shape[1] - 256].astype(np.int16)
    ink = np.abs(bar - bar[0, 0]).max(axis=-1) > 100  # [bar_h, width] text pixels
    assert out.shape[1] - 256 >= 14  # a bar tall enough for readable text
    assert ink[:, :256].sum() > 50 and ink[:, 264:].sum() > ink[:, :256].sum()  # right label is the longer one
    cols = np.flatnonzero(ink.any(axis=0))
    assert cols.min() > 0 and cols.max() < out.shape[2] - 1  # text keeps clear of the outer edges


def test_side_by_side_resizes_right_to_left_height(clip):
    right = np.repeat(np.repeat(clip, 2, axis=1), 2, axis=2)  # [T, 2H, 2W, 3]
    out = side_by_side(clip, right, LABELS, gap=4)
    bar_h = out.shape[1] - H
    assert out.shape == (T, H + bar_h, W + 4 + W, 3)
    assert np.abs(out[:, bar_h:, W + 4:].astype(np.int16) - clip).mean() < 4.0


@pytest.mark.parametrize(
    ("left", "right", "labels", "message"),
    [
        (np.zeros((5, H, W, 3), np.uint8), np.zeros((6, H, W, 3), np.uint8), LABELS, "same number of frames"),
        (np.zeros((5, H, W, 3), np.float32), np.zeros((5, H, W, 3), np.uint8), LABELS, "uint8"),
        (np.zeros((5, H, W), np.uint8), np.zeros((5, H, W, 3), np.uint8), LABELS, "shape"),
        (np.zeros((5, H, W, 3), np.uint8), np.zeros((5, H, W, 3), np.uint8), ("only one",), "two strings"),
    ],
)
def test_side_by_side_rejects_bad_input(left, right, labels, message):
    with pytest.raises(VideoError, match=message):
        side_by_side(left, right, labels)


def test_side_by_side_then_write(tmp_path, clip):
    out = side_by_side(clip, clip, LABELS)
    info = probe(write_mp4(out, FPS, tmp_path / "ab.mp4", audio=tone(3.0), sr=SR))
    even_h, even_w = out.shape[1] + out.shape[1] % 2, out.shape[2] + out.shape[2] % 2
    assert (info.width, info.height, info.n_frames) == (even_w, even_h, T)
