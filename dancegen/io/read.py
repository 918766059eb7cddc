"""Reading videos: probing a file with a real decoder, its frames (all, the first n, or chosen ones by seeking),
and a video's frames at chosen times (a ground truth to compare with).

Everything goes through PyAV (its wheel carries its own FFmpeg). :func:`probe` decodes a file and counts frames and
audio samples instead of trusting container metadata. Writing videos is :mod:`dancegen.io.video`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from .video import BT709, VideoError


@dataclass(frozen=True)
class VideoInfo:
    """What a real decoder reports about a video file."""

    width: int  # decoded frame width in pixels
    height: int  # decoded frame height in pixels
    fps: float  # frames per second, from the decoded frames' timestamps
    n_frames: int  # video frames counted by decoding them all
    video_codec: str  # the codec's name, e.g. "h264"
    pix_fmt: str  # pixel format, e.g. "yuv420p"
    duration_s: float  # video duration = n_frames / fps
    audio_codec: str | None  # e.g. "aac"; None when the file has no audio stream
    audio_duration_s: float | None  # decoded audio samples / sample rate; None without audio
    audio_sr: int | None  # audio sample rate in Hz; None without audio
    video_profile: str | None = None  # codec profile, e.g. "High" (browsers: Baseline, Main, High)
    audio_profile: str | None = None  # e.g. "LC" for AAC-LC
    audio_channels: int | None = None  # decoded audio channels; None without audio
    colorspace: str | None = None  # the colour matrix the file is tagged with, e.g. "bt709"


def _open_video(path) -> av.container.InputContainer:
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"video file not found: {path}")
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise VideoError(f"ffmpeg could not read {path.name}: {exc}") from None
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path.name} has no video stream")
    return container


def probe(path) -> VideoInfo:
    """Decode ``path`` once and report its streams; frames and audio samples are counted, not read from metadata."""
    with _open_video(path) as container:
        vstream = container.streams.video[0]
        astream = container.streams.audio[0] if container.streams.audio else None
        times, size = [], None  # decoded video frame times (s), frame size
        first = last = packets_end = None  # audio: first and last decoded sample, end of the last packet (samples)
        try:
            for packet in container.demux(*[s for s in (vstream, astream) if s is not None]):
                if packet.stream is astream and packet.pts is not None:
                    packets_end = max(packets_end or 0, packet.pts + packet.duration)
                for frame in packet.decode():
                    if isinstance(frame, av.VideoFrame):
                        times.append(float(frame.time))
                        size = (frame.width, frame.height)
                    else:
                        first = frame.pts if first is None else min(first, frame.pts)
                        last = max(last or 0, frame.pts + frame.samples)
        except av.FFmpegError as exc:
            raise VideoError(f"ffmpeg could not decode {Path(path).name}: {exc}") from None
        if not times:
            raise VideoError(f"{Path(path).name} has a video stream but no frame could be decoded")
        n = len(times)
        fps = (n - 1) / (times[-1] - times[0]) if n > 1 and times[-1] > times[0] else float(vstream.average_rate or 0)
        vctx = vstream.codec_context
        audio = {}
        if astream is not None:
            actx = astream.codec_context
            # the decoder skips the encoder's priming; the last packet's duration cuts its padding
            samples = (min(last, packets_end) - first) * astream.time_base * astream.rate if first is not None else 0
            audio = dict(audio_codec=actx.name, audio_duration_s=float(samples) / astream.rate, audio_sr=astream.rate,
                         audio_profile=actx.profile, audio_channels=actx.layout.nb_channels)
        colorspace = {BT709: "bt709"}.get(int(vctx.colorspace), str(int(vctx.colorspace)))
        return VideoInfo(width=size[0], height=size[1], fps=fps, n_frames=n, video_codec=vctx.name,
                         pix_fmt=vctx.pix_fmt, duration_s=n / fps if fps > 0 else 0.0, video_profile=vctx.profile,
                         colorspace=colorspace, **{"audio_codec": None, "audio_duration_s": None, "audio_sr": None,
                                                   **audio})


def iter_frames(path, stop: int | None = None) -> Iterator[np.ndarray]:
    """The decoded frames of ``path`` one at a time, [H, W, 3] uint8 RGB, up to frame ``stop`` (exclusive)."""
    with _open_video(path) as container:
        if stop is not None and stop <= 0:
            return
        try:
            for i, frame in enumerate(container.decode(container.streams.video[0])):
                yield frame.to_ndarray(format="rgb24")
                if stop is not None and i + 1 >= stop:
                    return
        except av.FFmpegError as exc:
            raise VideoError(f"ffmpeg could not decode {Path(path).name}: {exc}") from None


def read_frames(path, indices: Sequence[int]) -> list[np.ndarray]:
    """The frames at ``indices`` (any order, repeats allowed) as [H, W, 3] uint8 RGB: exactly what
    :func:`iter_frames` gives at those positions, found by seeking to the keyframe before the first one wanted and
    decoding forward (the work is the distance from that keyframe to the last one wanted, not the clip's length).

    A frame's index is its timestamp counted from the first frame's, in frames of the stream's average rate (a
    constant-rate stream: what our VideoWriter and ``dancegen prepare`` write); streams without timestamps or a
    rate, and seeks that land past the first frame wanted, fall back to decoding from the start. VideoError when
    the file cannot be decoded or has no frame at one of the indices (naming them)."""
    wanted = sorted({int(i) for i in indices})
    if not wanted:
        return []
    if wanted[0] < 0:
        raise VideoError(f"frame indices must be >= 0, got {wanted[0]}")
    name = Path(path).name
    with _open_video(path) as container:
        stream = container.streams.video[0]
        try:
            found = _seek_and_decode(container, stream, wanted)
        except av.FFmpegError as exc:
            raise VideoError(f"ffmpeg could not decode {name}: {exc}") from None
    if found is None:  # no timestamps or rate to seek by, or a seek that landed past the first frame wanted
        found, chosen = {}, set(wanted)
        for i, frame in enumerate(iter_frames(path, stop=wanted[-1] + 1)):
            if i in chosen:
                found[i] = frame
    missing = [i for i in wanted if i not in found]
    if missing:
        raise VideoError(f"{name} has no frame {missing[0]} (frames {missing} are past its end or do not decode)")
    return [found[int(i)] for i in indices]


def _seek_and_decode(container, stream, wanted: list[int]) -> dict[int, np.ndarray] | None:
    """The wanted frames (sorted indices) decoded forward from the keyframe before the first; None when the stream
    cannot be seeked by frame index (no timestamps or rate; seeks that keep landing past the first frame wanted)."""
    first = next(container.decode(stream), None)
    if first is None:
        raise VideoError(f"{Path(container.name).name} has a video stream but no frame could be decoded")
    rate, base = stream.average_rate, stream.time_base
    if not rate or not base or first.pts is None:
        return None
    t0, step = first.pts, 1 / (Fraction(rate) * Fraction(base))  # the first frame's pts, pts per frame
    target = wanted[0]
    for back in (0, 4, 16, 64):  # a seek by timestamp may land on a keyframe shown after the target: aim earlier
        target = max(0, target - back)
        container.seek(int(t0 + target * step), stream=stream, backward=True, any_frame=False)
        found = _decode_from_here(container, stream, wanted, t0, step)
        if found is not None or target == 0:
            return found
    return None


def _decode_from_here(container, stream, wanted: list[int], t0: int, step: Fraction) -> dict[int, np.ndarray] | None:
    """Decode forward up to the last wanted index; None when the first frame decoded lies past ``wanted[0]`` or
    lacks a timestamp."""
    todo, found, started = set(wanted), {}, False
    for frame in container.decode(stream):
        if frame.pts is None:
            return None
        index = round((frame.pts - t0) / step)
        if not started:
            if index > wanted[0]:
                return None
            started = True
        if index in todo:
            found[index] = frame.to_ndarray(format="rgb24")
            todo.discard(index)
        if not todo or index > wanted[-1]:
            break
    return found


def count_frames(path) -> tuple[int, int, int]:
    """(frames, width, height) of ``path``'s video stream from its packets, without decoding them (fast; a damaged
    stream shows only when it is decoded)."""
    with _open_video(path) as container:
        stream = container.streams.video[0]
        try:
            frames = sum(1 for packet in container.demux(stream) if packet.size)
        except av.FFmpegError as exc:
            raise VideoError(f"ffmpeg could not read {Path(path).name}: {exc}") from None
        return frames, stream.codec_context.width, stream.codec_context.height


def frames_of(path) -> np.ndarray:
    """All decoded frames of ``path`` as [T, H, W, 3] uint8 RGB (holds the whole clip: for tests and short clips)."""
    frames = list(iter_frames(path))
    if not frames:
        raise VideoError(f"{Path(path).name} has a video stream but no frame could be decoded")
    return np.stack(frames)


# ---------------------------------------------------------------------------------------------------- sampling


class FrameSampler:
    """The frames of a video file at chosen times, resized, decoded only as far as asked (never held whole): the
    ground truth that generated frames are compared with.

    ``at(times_s)`` yields, for each time (non-decreasing seconds on the file's own clock, 0 = its first frame), the
    frame on screen then: the last frame whose timestamp is at most t (+ 1 ms). It stops at the first time after
    the last frame's display (its timestamp + one frame at the stream's average rate). Frames are RGB uint8
    [height, width, 3]: the part ``box`` of each frame (see :meth:`view`; all of it by default) resized to ``size`` =
    (width, height) with Lanczos, as the studio crops and resizes the reference photo. Opening reads the first frame:
    VideoError when the file has none.
    """

    def __init__(self, path: str | os.PathLike, size: tuple[int, int] | None = None):
        self.path = Path(path)
        self._container = _open_video(path)
        try:
            stream = self._container.streams.video[0]
            rate = float(stream.average_rate or 0) or 25.0
            self._frame_s = 1.0 / rate  # how long the last frame stays on screen
            self._decoded = self._container.decode(stream)
            self._next = self._read()  # the next decoded frame, or None at the end
            if self._next is None:
                raise VideoError(f"{self.path.name} has a video stream but no frame could be decoded")
        except BaseException:
            self.close()
            raise
        self.frame_size = (self._next.width, self._next.height)  # (width, height) of the file's frames
        self.size = self.frame_size if size is None else (int(size[0]), int(size[1]))  # of the frames given
        self.box: tuple[float, float, float, float] | None = None  # the part of each frame given (None: all)
        self._t0 = float(self._next.time or 0.0)
        self._shown: av.VideoFrame | None = None  # the frame on screen at the last time asked
        self._resized: np.ndarray | None = None  # the shown frame, resized

    def _read(self) -> av.VideoFrame | None:
        try:
            return next(self._decoded, None)
        except av.FFmpegError as exc:
            raise VideoError(f"ffmpeg could not decode {self.path.name}: {exc}") from None

    def view(self, size: tuple[int, int], box: Sequence[float] | None = None,
             box_of: tuple[int, int] | None = None) -> None:
        """From now on give the part ``box`` (x1, y1, x2, y2) of each frame, resized to ``size``. ``box`` is in pixels
        of a picture of ``box_of`` = (width, height) (e.g. the crop of the photo the generation used, when the video
        shows the photo's scene), scaled to the file's frames; where it reaches outside a frame, black."""
        self.size = (int(size[0]), int(size[1]))
        if box is not None:
            sx, sy = ((1.0, 1.0) if box_of is None
                      else (self.frame_size[0] / box_of[0], self.frame_size[1] / box_of[1]))
            self.box = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
        else:
            self.box = None
        self._resized = None

    def at(self, times_s: Iterable[float]) -> Iterator[np.ndarray]:
        for t in times_s:
            t = self._t0 + float(t)
            while self._next is not None and (self._shown is None or float(self._next.time or 0.0) <= t + 1e-3):
                self._shown, self._resized = self._next, None
                self._next = self._read()
            if self._next is None and t > float(self._shown.time or 0.0) + self._frame_s - 1e-3:
                return  # past the end of the video
            if self._resized is None:
                image = self._shown.to_image()  # PIL RGB
                if self.box is not None:
                    image = image.crop(tuple(round(v) for v in self.box))  # black outside the frame
                if image.size != self.size:
                    image = image.resize(self.size, Image.Resampling.LANCZOS)
                self._resized = np.asarray(image, dtype=np.uint8)
            yield self._resized

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> FrameSampler:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
