"""StableAnimator's overlapping temporal windows and their blending weights."""

from __future__ import annotations

import torch


def temporal_windows(num_frames: int, tile: int, overlap: int) -> list[list[int]]:
    """Frame 0 plus ``tile - 1`` consecutive frames, stride ``tile - overlap``.

    Frame 0 (the pose aligned with the reference) anchors every window; a last window is added when the stride
    does not reach the end. Videos shorter than a tile are one window.
    """
    if num_frames <= tile:
        return [list(range(num_frames))]
    stride = max(1, tile - overlap)
    windows = [[0, *range(i + 1, i + tile)] for i in range(0, num_frames - tile + 1, stride)]
    if windows[-1][-1] < num_frames - 1:
        windows.append([0, *range(num_frames - tile + 1, num_frames)])
    return windows


def window_weights(length: int) -> torch.Tensor:
    """Triangular blending weights over a window's positions: small at the ends, 1 in the middle. [length]"""
    pos = (torch.arange(length, dtype=torch.float64) + 0.5) * 2 / length
    return torch.minimum(pos, 2 - pos).float()
