"""Video output: browser-playable mp4s with the music, written in one pass as frames arrive.

Everything goes through PyAV, whose wheel carries its own FFmpeg (libx264, AAC). :class:`VideoWriter` encodes each
frame as it is given and the music alongside it, so a long video never exists as one array; the file appears at its
path only once it is complete. Reading videos back (probing, frames, a ground truth at chosen times) is
:mod:`dancegen.io.read`.

Output files are H.264 (libx264, High profile, yuv420p, BT.709-tagged), even-sized, with the ``moov`` box at the
front (``+faststart``) and AAC-LC audio: what Chromium, Firefox and Safari play in a ``<video>`` element.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .files import temporary_file


class VideoError(ValueError):
    """A clip, a file or a setting the video writer or prober cannot work with (one-line message; ours to fix
    when the studio hits it, since the studio makes every clip it writes)."""


# Sample rates the AAC encoder accepts; audio at any other rate is resampled to _AAC_FALLBACK_SR.
_AAC_RATES = frozenset({96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350})
_AAC_FALLBACK_SR = 48000
_AAC_BPS_PER_CHANNEL = 96_000
_X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
BT709 = 1  # AVCOL_SPC / AVCOL_PRI / AVCOL_TRC_BT709 (the colour tags written, and read back by probe)
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
    from one keyframe to the next (None: libx264's default, 250; a short one makes
    :func:`~dancegen.io.read.read_frames` decode less per seek). Odd sides are padded to even by repeating the last row / column.
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
        ctx.colorspace = ctx.color_primaries = ctx.color_trc = BT709
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
