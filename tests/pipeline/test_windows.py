"""StableAnimator's temporal windows and their blending weights."""

import numpy as np
import pytest

from dancegen.pipeline.windows import temporal_windows, window_weights


@pytest.mark.parametrize("frames, tile, overlap", [(1, 16, 4), (16, 16, 4), (17, 16, 4), (40, 16, 4),
                                                   (100, 8, 2), (61, 8, 3)])
def test_windows_cover_every_frame(frames, tile, overlap):
    windows = temporal_windows(frames, tile, overlap)
    covered = sorted(set(i for w in windows for i in w))
    assert covered == list(range(frames))
    assert all(len(w) == min(tile, frames) and w == sorted(set(w)) for w in windows)
    if frames > tile:
        assert all(w[0] == 0 for w in windows)  # frame 0 anchors every window
        for a, b in zip(windows, windows[1:]):  # neighbours share overlap - 1 frames besides frame 0
            assert len(set(a[1:]) & set(b[1:])) >= overlap - 1


def test_window_weights_are_symmetric_and_positive():
    w = window_weights(16).numpy()
    assert np.all(w > 0) and np.allclose(w, w[::-1]) and w.max() <= 1.0 and w[0] < w[7]
