"""Every mp4 of one generation written at the output rate while the generated frames stream in.

:class:`OutputVideos` takes chunks of the generated videos (e.g. baseline and identity, at the generation rate),
turns each into output-rate frames with its own :class:`~dancegen.io.interpolate.Interpolator`, composes the
side-by-side clip from the two output streams, draws the skeleton video at the output times (through a callable:
poses are continuous, so the skeleton is drawn at each output time rather than interpolated as pixels) and writes
them all with the music. Only the current chunk and one generated frame per video are ever held.
:func:`write_chunks` feeds it from one chunked decoder per video, handing every chunk to a measuring callable.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from .compose import SideBySide
from .interpolate import Interpolator, PairInterpolator
from .video import VideoWriter


class OutputVideos:
    """``{name}.mp4`` per generated video, ``side_by_side.mp4`` (with ``labels``, two videos) and ``skeleton.mp4``
    in ``folder``, all at ``out_fps`` with the music.

    ``n_frames`` generated frames at ``fps`` will come; the outputs last ``duration_s`` (the music's) to within one
    output frame. ``skeleton(positions)``: the skeleton drawings [m, sH, sW, 3] uint8 at fractional generated-frame
    positions [m] (see :func:`~dancegen.io.interpolate.output_positions`). ``between``: a factory of the pair
    interpolator each video uses (None: the classical flow one). Use it as a context manager: on an exception no
    file is left."""

    def __init__(self, folder: str | os.PathLike, names: Sequence[str], fps: float, out_fps: float, n_frames: int,
                 duration_s: float, skeleton: Callable[[np.ndarray], np.ndarray], audio: np.ndarray | None = None,
                 sr: int | None = None, labels: tuple[str, str] | None = None,
                 between: Callable[[], PairInterpolator] | None = None):
        self.names = list(names)
        self.skeleton = skeleton
        self.labels = labels if len(self.names) == 2 else None
        self.interpolators = {name: Interpolator(fps, out_fps, n_frames, duration_s,
                                                 between() if between is not None else None)
                              for name in self.names}
        self.positions = next(iter(self.interpolators.values())).positions  # [M] of every output frame
        self.written = 0  # output frames written to each file so far
        self._both: SideBySide | None = None
        folder = Path(folder)
        files = [*self.names, *(["side_by_side"] if self.labels else []), "skeleton"]
        self._stack = contextlib.ExitStack()
        self.writers: dict[str, VideoWriter] = {}
        try:
            for name in files:
                self.writers[name] = self._stack.enter_context(VideoWriter(folder / f"{name}.mp4", out_fps, audio,
                                                                           sr))
        except BaseException:
            for writer in self.writers.values():
                writer.abort()
            raise

    @property
    def paths(self) -> dict[str, Path]:
        return {name: writer.path for name, writer in self.writers.items()}

    def __len__(self) -> int:
        """Output frames every file will have."""
        return len(self.positions)

    def add(self, frames: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The next generated chunk of every video ({name: [n, H, W, 3] uint8}, the same n) -> the output frames it
        completed ({name: [m, H, W, 3]}) and their skeleton drawings [m, sH, sW, 3], all written already."""
        out = {name: self.interpolators[name].push_chunk(frames[name]) for name in self.names}
        m = len(out[self.names[0]])
        drawn = self.skeleton(self.positions[self.written:self.written + m]) if m else np.empty((0, 1, 1, 3), np.uint8)
        if m:
            for name in self.names:
                self.writers[name].write(out[name])
            if self.labels:
                if self._both is None:
                    hw = out[self.names[0]].shape[1:3]
                    self._both = SideBySide(hw, out[self.names[1]].shape[1:3], self.labels)
                self.writers["side_by_side"].write(self._both(out[self.names[0]], out[self.names[1]]))
            self.writers["skeleton"].write(drawn)
            self.written += m
        return out, drawn

    def __enter__(self) -> OutputVideos:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self._stack.__exit__(kind, value, traceback)


# measure(start, frames, output frames, their skeletons): see write_chunks
Measure = Callable[[int, dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray], None]


def write_chunks(videos: OutputVideos, decoders: Mapping[str, Iterator[np.ndarray]], measure: Measure,
                 progress: Callable[[int], None] | None = None) -> dict[str, float]:
    """Every video's next chunk from its decoder ({name: chunks [n, H, W, 3] uint8, the same n for all, in
    ``videos.names``' order}) into ``videos`` until the first decoder ends; after each chunk ``measure(start, frames,
    the output frames it completed, their skeleton drawings)`` (see :meth:`OutputVideos.add`; ``start``: the chunk's
    first generated frame) and ``progress(generated frames done)``. -> seconds spent {"decoding", "muxing",
    "metrics"} (the last: in ``measure``)."""
    names = list(decoders)
    timings = dict.fromkeys(("decoding", "muxing", "metrics"), 0.0)
    start = 0
    while True:
        clock = time.perf_counter()
        chunks = [next(decoders[name], None) for name in names]  # [n, H, W, 3] uint8 per video
        if chunks[0] is None:
            break
        frames = dict(zip(names, chunks))
        timings["decoding"] += time.perf_counter() - clock
        clock = time.perf_counter()
        shown, shown_skeletons = videos.add(frames)  # the output frames this chunk completed, written
        timings["muxing"] += time.perf_counter() - clock
        clock = time.perf_counter()
        measure(start, frames, shown, shown_skeletons)
        timings["metrics"] += time.perf_counter() - clock
        start += len(chunks[0])
        if progress is not None:
            progress(start)
    return timings
