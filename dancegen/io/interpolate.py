"""Frame-rate conversion: generated frames at ``fps`` in, output frames at ``out_fps`` out, streamed.

The video model makes frames at the generation rate (``--fps``, e.g. 8); the videos are written at the output rate
(``--output-fps``, e.g. 24). Output frame j shows time j / out_fps, i.e. the fractional generated-frame position
``p_j = j * fps / out_fps``:

* p_j whole: output frame j *is* generated frame p_j, unchanged (with a whole ratio r = out_fps / fps, frame r*k is
  generated frame k; 8 -> 24: frames 0, 3, 6, ... are the generated ones, 1, 2, 4, 5, ... are made in between);
* otherwise (other ratios, e.g. 8 -> 20 or 10 -> 24): the frame at the exact time p_j, made from its two nearest
  generated frames floor(p_j) and floor(p_j) + 1 at fraction p_j - floor(p_j) (a generated frame then appears
  unchanged only where some p_j hits it: 8 -> 20 shows every second one, 10 -> 24 every fifth);
* equal rates: the output is the input, nothing is made;
* past the last generated frame (its own display time, up to one generation frame): there is no later frame to
  move towards, so the last generated frame stays on screen, as it does at the generation rate.

The output has ``round(duration_s * out_fps)`` frames (``duration_s``: the music's length; default n / fps), and at
least enough to reach the last generated frame, so its length is the music's to within one output frame.

In-between frames come from a :class:`PairInterpolator`. :class:`FlowInterpolator` is the classical one, needing no
weights: OpenCV's DIS optical flow both ways, the motion projected to the wanted time (where motions overlap, the
one that keeps its colour is in front), both neighbours warped backwards along it and blended. A learned
interpolator (RIFE, FILM) plugs in as another class with the same ``__call__`` (frames a, b and fractions ->
frames), passed to :class:`Interpolator` as ``between``.

:class:`Interpolator` streams: generated frames are pushed one at a time (or in chunks) and the output frames that
are due come back at once, holding only the previous generated frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np

_SNAP = 1e-6  # positions this close to a whole number are that generated frame exactly


def output_count(n_frames: int, fps: float, out_fps: float, duration_s: float | None = None) -> int:
    """Output frames for ``n_frames`` generated ones: round(duration_s * out_fps), and at least up to the last
    generated frame's time (duration_s default: n_frames / fps)."""
    duration = n_frames / fps if duration_s is None else float(duration_s)
    reach = math.floor((n_frames - 1) * out_fps / fps + _SNAP) + 1  # frames up to time (n - 1) / fps
    return max(1, round(duration * out_fps), reach)


def output_positions(n_frames: int, fps: float, out_fps: float, duration_s: float | None = None) -> np.ndarray:
    """[M] float64: the generated-frame position p_j = j * fps / out_fps of every output frame j (module docstring),
    snapped to whole numbers where they hit a generated frame; M = :func:`output_count`."""
    m = output_count(n_frames, fps, out_fps, duration_s)
    p = np.arange(m, dtype=np.float64) * float(fps) / float(out_fps)
    whole = np.round(p)
    return np.where(np.abs(p - whole) < _SNAP, whole, p)


def sample_linear(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``values`` [T, ...] at fractional indices ``positions`` [M] (linear between neighbours, the last one held
    past the end): [M, ...] float32. For continuous quantities such as poses, which can be drawn at any time."""
    values = np.asarray(values, dtype=np.float64)
    pos = np.clip(np.asarray(positions, dtype=np.float64), 0, len(values) - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(values) - 1)
    w = (pos - lo).reshape((-1,) + (1,) * (values.ndim - 1))
    return ((1 - w) * values[lo] + w * values[hi]).astype(np.float32)


class PairInterpolator(Protocol):
    """Anything that makes the frames between two frames (the seam for a learned interpolator such as RIFE)."""

    def __call__(self, a: np.ndarray, b: np.ndarray, fractions: Sequence[float]) -> list[np.ndarray]:
        """Frames a (time 0) and b (time 1), [H, W, 3] uint8 RGB -> the frame at each fraction in (0, 1)."""
        ...


def _grey(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)


def _warp(image: np.ndarray, grid: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` sampled at grid + flow (backward warping, bilinear, edges repeated)."""
    coords = grid + flow
    return cv2.remap(image, coords[..., 0], coords[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class FlowInterpolator:
    """The classical in-between (no weights): DIS optical flow both ways, the motion projected to time t, both
    frames warped backwards to it and blended (the flow-projection interpolation of Baker et al., "A Database and
    Evaluation Methodology for Optical Flow", 2011, without its occlusion masks).

    Every pixel x of a moves by v = F_ab(x) from a to b, every pixel z of b by v = -F_ba(z); at time t each lies at
    x + t v (z - (1 - t) v) and carries v there. Where several land on one pixel, the one whose colour its motion
    best keeps (|a(x) - b(x + F_ab(x))|, the other way for b) is in front: a moving limb over the background it
    covers. Pixels nothing lands on take the mean motion of their neighbours. The frame at t is a sampled at
    y - t v(y) and b at y + (1 - t) v(y), weighted 1 - t and t. The motion is projected on a grid of about
    ``project_px`` px on the short side (every pixel of small frames) and resized. ``preset``: OpenCV's DIS preset
    (0 ultrafast, 1 fast, 2 medium)."""

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, project_px: int = 256, fill_passes: int = 64):
        self.flow = cv2.DISOpticalFlow_create(preset)
        self.flow.setUseSpatialPropagation(True)
        self.project_px = int(project_px)  # the motion is projected at about this many px on the short side
        self.fill_passes = int(fill_passes)  # hole-filling passes (each grows the known motion by a pixel)

    def _project(self, sources: list[tuple[np.ndarray, np.ndarray, np.ndarray]], h: int, w: int) -> np.ndarray:
        """sources: (where each pixel is at time t [N, 2] px, its motion v [N, 2], its colour error [N]) per frame
        -> the motion field at t [h, w, 2] (holes filled)."""
        targets, motions, errors = [], [], []
        for at, motion, error in sources:
            x = np.rint(at[:, 0]).astype(np.int64)
            y = np.rint(at[:, 1]).astype(np.int64)
            inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
            targets.append((y * w + x)[inside])
            motions.append(motion[inside])
            errors.append(error[inside])
        target, motion, error = (np.concatenate(v) for v in (targets, motions, errors))
        order = np.lexsort((error, target))  # by pixel, the smallest colour error first
        ordered = target[order]
        chosen = order[np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])]  # the first of every pixel
        field = np.zeros((h * w, 2), np.float32)
        field[target[chosen]] = motion[chosen]
        known = np.zeros(h * w, np.float32)
        known[target] = 1.0
        field, known = field.reshape(h, w, 2), known.reshape(h, w)
        for _ in range(self.fill_passes):  # holes: the mean motion of their known neighbours, growing inwards
            if known.all():
                break
            total = cv2.blur(field * known[..., None], (3, 3))
            count = cv2.blur(known, (3, 3))
            grow = (known == 0) & (count > 0)
            field[grow] = total[grow] / count[grow][:, None]
            known[grow] = 1.0
        return field

    def __call__(self, a: np.ndarray, b: np.ndarray, fractions: Sequence[float]) -> list[np.ndarray]:
        ga, gb = _grey(a), _grey(b)
        f_ab = self.flow.calc(ga, gb, None)  # [H, W, 2] px, x then y
        f_ba = self.flow.calc(gb, ga, None)
        h, w = ga.shape
        grid = np.dstack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)))  # [H, W, 2]
        af, bf = a.astype(np.float32), b.astype(np.float32)
        err_a = np.abs(af - _warp(bf, grid, f_ab)).sum(axis=-1)  # [H, W] colour lost along the motion
        err_b = np.abs(bf - _warp(af, grid, f_ba)).sum(axis=-1)
        k = max(1, round(min(h, w) / self.project_px))  # the motion is projected on every k-th pixel
        hk, wk = -(-h // k), -(-w // k)
        start = grid[::k, ::k].reshape(-1, 2) / k  # [N, 2] in grid px
        v_a, v_b = f_ab[::k, ::k].reshape(-1, 2) / k, -f_ba[::k, ::k].reshape(-1, 2) / k
        err_a, err_b = err_a[::k, ::k].reshape(-1), err_b[::k, ::k].reshape(-1)
        out = []
        for t in fractions:
            t = float(t)
            v = self._project([(start + t * v_a, v_a, err_a), (start - (1 - t) * v_b, v_b, err_b)], hk, wk) * k
            if k > 1:  # back to every pixel
                v = cv2.resize(v, (w, h), interpolation=cv2.INTER_LINEAR)
            mixed = (1 - t) * _warp(af, grid, -t * v) + t * _warp(bf, grid, (1 - t) * v)
            out.append(np.clip(np.rint(mixed), 0, 255).astype(np.uint8))
        return out


class Interpolator:
    """Generated frames at ``fps`` pushed in order -> the output frames at ``out_fps`` (module docstring).

    ``n_frames``: how many generated frames will come; ``duration_s``: the length the output must have (the
    music's; default n_frames / fps). :meth:`push` takes one frame [H, W, 3] uint8 and returns the output frames now
    due; :meth:`push_chunk` does so for a chunk [n, H, W, 3]. Only the previous generated frame is kept."""

    def __init__(self, fps: float, out_fps: float, n_frames: int, duration_s: float | None = None,
                 between: PairInterpolator | None = None):
        if not (math.isfinite(fps) and math.isfinite(out_fps)) or fps <= 0 or out_fps < fps:
            raise ValueError(f"the output rate must be at least the generation rate, got {out_fps:g} < {fps:g}")
        if n_frames < 1:
            raise ValueError(f"there must be at least one generated frame, got {n_frames}")
        self.fps, self.out_fps, self.n_frames = float(fps), float(out_fps), int(n_frames)
        self.positions = output_positions(self.n_frames, self.fps, self.out_fps, duration_s)  # [M]
        self.between = between
        self.pushed = 0  # generated frames seen so far
        self.emitted = 0  # output frames given so far
        self._previous: np.ndarray | None = None  # the last generated frame pushed

    def __len__(self) -> int:
        return len(self.positions)

    def push(self, frame: np.ndarray) -> list[np.ndarray]:
        """One generated frame in -> the output frames it completes (p_j <= its index; all the rest after the last)."""
        k = self.pushed
        if k >= self.n_frames:
            raise ValueError(f"only {self.n_frames} generated frames were announced")
        last = k == self.n_frames - 1
        stop = len(self.positions) if last else int(np.searchsorted(self.positions, k, side="right"))
        due = self.positions[self.emitted:stop]
        out: list[np.ndarray] = []
        inside = due[due < k] if k else due[:0]  # strictly between frame k - 1 and frame k
        if len(inside):
            if self.between is None:
                self.between = FlowInterpolator()
            out += self.between(self._previous, frame, list(inside - (k - 1)))
        out += [frame] * (len(due) - len(inside))  # p = k, and past the end the last frame stays
        self.emitted, self.pushed, self._previous = stop, k + 1, frame
        return out

    def push_chunk(self, frames: np.ndarray) -> np.ndarray:
        """Generated frames [n, H, W, 3] in -> the output frames now due [m, H, W, 3] (m may be 0)."""
        out = [o for frame in frames for o in self.push(frame)]
        return np.stack(out) if out else np.empty((0, *frames.shape[1:]), frames.dtype)
