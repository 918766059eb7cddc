"""Video output: browser-playable mp4s with the music, written in one pass as frames arrive, and probing them.

Everything goes through PyAV, whose wheel carries its own FFmpeg (libx264, AAC). :class:`VideoWriter` encodes each
frame as it is given and the music alongside it, so a long video never exists as one array; the file appears at its
path only once it is complete. :func:`probe` decodes a file and counts frames and audio samples instead of trusting
container metadata.

Output files are H.264 (libx264, High profile, yuv420p, BT.709-tagged), even-sized, with the ``moov`` box at the
front (``+faststart``) and AAC-LC audio: what Chromium, Firefox and Safari play in a ``<video>`` element.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from .files import temporary_file


class VideoError(ValueError):
    """A clip, a file or a setting the video writer or prober cannot work with (one-line message; ours to fix
    when the studio hits it, since the studio makes every clip it writes)."""


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


# Sample rates the AAC encoder accepts; audio at any other rate is resampled to _AAC_FALLBACK_SR.
_AAC_RATES = frozenset({96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350})
_AAC_FALLBACK_SR = 48000
_AAC_BPS_PER_CHANNEL = 96_000
_X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
_BT709 = 1  # AVCOL_SPC / AVCOL_PRI / AVCOL_TRC_BT709
_LIMITED_RANGE = 1  # AVCOL_RANGE_MPEG ("tv")


# ---------------------------------------------------------------------------------------------------- checks


def check_clip(clip, name: str) -> np.ndarray:
    """A [T, H, W, 3] uint8 array with T, H, W >= 1, or VideoError."""
    if not isinstance(clip, np.ndarray):
        raise VideoError(f"{name} must be a numpy array [T, H, W, 3] uint8, got {type(clip).__name__}")
    if clip.dtype != np.uint8:
        raise VideoError(f"{name} must be uint8 RGB (0-255), got dtype {clip.dtype}")
    if clip.ndim != 4 or clip.shape[3] != 3:
        raise VideoError(f"{name} must have shape [T, H, W, 3], got {list(clip.shape)}")
    if 0 in clip.shape:
        raise VideoError(f"{name} is empty (shape {list(clip.shape)})")
    return clip


def _check_fps(fps) -> Fraction:
    try:
        value = float(fps)
    except (TypeError, ValueError):
        raise VideoError(f"fps must be a number, got {fps!r}") from None
    if not math.isfinite(value) or not 0 < value <= 1000:
        raise VideoError(f"fps must be a number in (0, 1000], got {fps!r}")
    return fps if isinstance(fps, Fraction) else Fraction(value).limit_denominator(100_000)


def _check_audio(audio, sr) -> tuple[np.ndarray, int]:
    """-> ([n, channels] float32 in [-1, 1], sample rate)."""
    if not isinstance(sr, numbers.Real) or isinstance(sr, bool) or not float(sr).is_integer() or sr <= 0:
        raise VideoError(f"audio needs its sample rate sr as a positive whole number of Hz, got {sr!r}")
    wave = np.asarray(audio)
    if wave.dtype.kind != "f":
        raise VideoError(f"audio must be float samples in [-1, 1], got dtype {wave.dtype}")
    if wave.ndim == 1:
        wave = wave[:, None]
    if wave.ndim != 2 or wave.shape[1] not in (1, 2):
        raise VideoError(f"audio must be mono [n] or stereo [n, 2] samples, got shape {list(np.shape(audio))}")
    if not np.isfinite(wave).all():
        raise VideoError("audio contains NaN or infinite samples")
    return np.clip(wave, -1.0, 1.0).astype(np.float32), int(sr)


def _frames(frames) -> Iterator[np.ndarray]:
    """[H, W, 3] frames from an array [T, H, W, 3] or an iterable of frames (each checked when it is written)."""
    if isinstance(frames, np.ndarray):
        yield from check_clip(frames, "frames")
        return
    if isinstance(frames, (str, bytes, os.PathLike)) or not isinstance(frames, Iterable):
        kind = type(frames).__name__
        raise VideoError(f"frames must be a [T, H, W, 3] uint8 array or an iterable of frames, got {kind}")
    yield from frames


# ---------------------------------------------------------------------------------------------------- writing


class VideoWriter:
    """An mp4 being written: ``write()`` frames as they come (the music is muxed alongside), then ``close()``.

    Use it as a context manager: on an exception nothing is left behind; on success the file appears at ``path``
    (atomically, replacing any file there). fps: frames per second (floats such as 29.97 are kept as fractions).
    audio: mono [n] or stereo [n, 2] float in [-1, 1] at ``sr``; it is trimmed or padded with silence to exactly the
    video's length. crf: libx264 quality from 1 (best) to 51 (0 is refused: lossless H.264 needs the High 4:4:4
    profile, which browsers do not decode). preset: libx264 speed/size trade-off. keyint: at most this many frames
    from one keyframe to the next (None: libx264's default, 250; a short one makes :func:`read_frames` decode less
    per seek). Odd sides are padded to even by repeating the last row / column.
    """

    def __init__(self, path: str | os.PathLike, fps: float, audio: np.ndarray | None = None, sr: int | None = None,
                 crf: int = 18, preset: str = "medium", keyint: int | None = None):
        self.fps = _check_fps(fps)
        if isinstance(crf, bool) or not isinstance(crf, (int, np.integer)) or not 1 <= crf <= 51:
            raise VideoError(f"crf must be a whole number from 1 (best) to 51, got {crf!r}")
        if preset not in _X264_PRESETS:
            raise VideoError(f"preset must be one of {', '.join(_X264_PRESETS)}, got {preset!r}")
        if keyint is not None and (isinstance(keyint, bool) or not isinstance(keyint, (int, np.integer))
                                   or keyint < 1):
            raise VideoError(f"keyint must be a whole number of frames >= 1, got {keyint!r}")
        self.keyint = None if keyint is None else int(keyint)
        self.wave, self.sr = _check_audio(audio, sr) if audio is not None else (None, None)
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise VideoError(f"output folder does not exist: {self.path.parent}")
        self.crf, self.preset = int(crf), preset
        self.frames_written = 0
        self._shape: tuple[int, ...] | None = None  # (H, W, 3) of the first frame
        self._container = self._video = self._audio = None
        self._audio_sent = 0  # samples of self.wave (or silence) handed to the encoder so far
        self._tmp = temporary_file(self.path.parent, ".dancegen-", ".mp4")  # written here, renamed into place by close()

    # ---- set-up at the first frame (the size is known only then)

    def _open(self, height: int, width: int) -> None:
        out = av.open(str(self._tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
        video = out.add_stream("libx264", rate=self.fps,
                               options={"crf": str(self.crf), "preset": self.preset, "profile": "high"})
        video.width, video.height, video.pix_fmt = width + width % 2, height + height % 2, "yuv420p"
        ctx = video.codec_context
        if self.keyint is not None:
            ctx.gop_size = self.keyint  # libx264's keyint
        ctx.colorspace = ctx.color_primaries = ctx.color_trc = _BT709
        ctx.color_range = _LIMITED_RANGE
        self._container, self._video = out, video
        if self.wave is not None:
            audio = out.add_stream("aac", rate=self.sr if self.sr in _AAC_RATES else _AAC_FALLBACK_SR)
            audio.layout = "stereo" if self.wave.shape[1] == 2 else "mono"
            audio.bit_rate = _AAC_BPS_PER_CHANNEL * self.wave.shape[1]
            self._audio = audio

    # ---- writing

    def write(self, frames) -> None:
        """Encode frames: one [H, W, 3] uint8 RGB frame, a [n, H, W, 3] chunk, or an iterable of frames."""
        if isinstance(frames, np.ndarray) and frames.ndim == 3:
            frames = frames[None]
        for frame in _frames(frames):
            self._write_one(np.asarray(frame))

    def _write_one(self, frame: np.ndarray) -> None:
        i = self.frames_written
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 or 0 in frame.shape:
            raise VideoError(f"frame {i} must be a non-empty [H, W, 3] uint8 RGB array, got {frame.dtype} "
                             f"{list(frame.shape)}")
        if self._shape is None:
            self._shape = frame.shape
            self._open(*frame.shape[:2])
        elif frame.shape != self._shape:
            raise VideoError(f"frame {i} is {list(frame.shape)} but frame 0 is {list(self._shape)}: all frames need "
                             "one size")
        h, w = frame.shape[:2]
        if h % 2 or w % 2:
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        # RGB -> BT.709 limited-range YUV 4:2:0, the matrix the stream is tagged with
        yuv = rgb.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
        self._mux(self._video.encode(yuv))
        self.frames_written += 1
        self._send_audio(round(self.frames_written * self.sr / self.fps) if self._audio is not None else 0)

    def _send_audio(self, upto: int) -> None:
        """Hand the encoder the music up to sample ``upto`` (silence past its end), keeping it beside the video."""
        if self._audio is None or upto <= self._audio_sent:
            return
        chunk = self.wave[self._audio_sent:upto]  # [m, C]
        if len(chunk) < upto - self._audio_sent:
            pad = np.zeros((upto - self._audio_sent - len(chunk), self.wave.shape[1]), np.float32)
            chunk = np.concatenate([chunk, pad])
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk.T), format="fltp",
                                           layout=self._audio.layout.name)  # planar [C, m]
        frame.sample_rate = self.sr
        # timestamps from 0 let the encoder mark its priming samples (negative time), which the muxer then skips
        frame.pts, frame.time_base = self._audio_sent, Fraction(1, self.sr)
        self._mux(self._audio.encode(frame))
        self._audio_sent = upto

    def _mux(self, packets) -> None:
        for packet in packets:
            self._container.mux(packet)

    # ---- finishing

    def close(self) -> Path:
        """Flush the encoders, finish the file and move it into place; -> its path."""
        if self._container is None:
            self.abort()
            raise VideoError("no frames to write")
        try:
            self._mux(self._video.encode())
            if self._audio is not None:
                self._mux(self._audio.encode())
            self._container.close()
        except BaseException:
            self.abort()
            raise
        self._container = None
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Stop and remove the partial file."""
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # a container that failed half-way may not close cleanly; it is deleted anyway
                pass
            self._container = None
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def write_mp4(frames, fps: float, path, audio: np.ndarray | None = None, sr: int | None = None, crf: int = 18,
              preset: str = "medium") -> Path:
    """Write ``frames`` ([T, H, W, 3] uint8 RGB, or an iterable of frames, streamed) into a browser-playable mp4
    with ``audio`` (see :class:`VideoWriter`); -> the path."""
    with VideoWriter(path, fps, audio, sr, crf, preset) as writer:
        writer.write(frames)
    return writer.path


# ---------------------------------------------------------------------------------------------------- probing


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
        colorspace = {_BT709: "bt709"}.get(int(vctx.colorspace), str(int(vctx.colorspace)))
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
