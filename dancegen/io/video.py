"""Video output: browser-playable mp4s with the music, and probing with a real decoder.

Everything goes through the ffmpeg binary that ``imageio-ffmpeg`` ships (``imageio_ffmpeg.get_ffmpeg_exe()``), run
as a subprocess with a list argv. There is no ffprobe, so :func:`probe` decodes the file once to the ``framecrc``
muxer, which prints one line per decoded video frame and audio packet: frames and audio samples are counted, never
read from container metadata.

Output files are H.264 (libx264, High profile, yuv420p, BT.709-tagged), even-sized, with the ``moov`` box at the
front (``+faststart``) and AAC-LC audio: what Chromium, Firefox and Safari play in a ``<video>`` element.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import soundfile


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
    video_codec: str  # ffmpeg's codec name, e.g. "h264"
    pix_fmt: str  # pixel format without its colour details, e.g. "yuv420p"
    duration_s: float  # video duration = n_frames / fps
    audio_codec: str | None  # e.g. "aac"; None when the file has no audio stream
    audio_duration_s: float | None  # decoded audio samples / sample rate; None without audio
    audio_sr: int | None  # audio sample rate in Hz; None without audio
    video_profile: str | None = None  # codec profile, e.g. "High" (browsers: Baseline, Main, High)
    audio_profile: str | None = None  # e.g. "LC" for AAC-LC
    audio_channels: int | None = None  # decoded audio channels; None without audio
    faststart: bool = False  # True when the mp4 index (moov) comes before the media data (mdat)


# Sample rates the AAC encoder accepts; audio at any other rate is resampled to _AAC_FALLBACK_SR.
_AAC_RATES = frozenset({96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350})
_AAC_FALLBACK_SR = 48000
_AAC_KBPS_PER_CHANNEL = 96
# RGB -> BT.709 limited-range YUV 4:2:0, tagged so every player converts back with the same matrix.
_VIDEO_FILTER = (
    "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709"
)
_X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


# ----------------------------------------------------------------------------------------------- ffmpeg plumbing


def _ffmpeg() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def _error_line(stderr: bytes) -> str:
    """ffmpeg's first error line (usually the cause; the lines after it are consequences), else its last line."""
    # drop the '[libx264 @ 0x55...] ' context prefixes
    lines = [re.sub(r"^(\[[^\]]*\] ?)+", "", line).strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    errors = [line for line in lines if re.search(r"error|invalid", line, re.IGNORECASE)]
    return errors[0] if errors else lines[-1] if lines else "no message from ffmpeg"


def _run_ffmpeg(args: list[str], what: str) -> subprocess.CompletedProcess:
    """Run ffmpeg with ``args``; VideoError naming ``what`` failed and ffmpeg's error line otherwise."""
    proc = subprocess.run([_ffmpeg(), "-hide_banner", "-nostdin", *args], capture_output=True, check=False)
    if proc.returncode != 0:
        raise VideoError(f"ffmpeg could not {what}: {_error_line(proc.stderr)}")
    return proc


def _decode(path, output_args: list[str], what: str) -> tuple[Path, subprocess.CompletedProcess, dict]:
    """Decode the first video (and what ``output_args`` maps) of the file at ``path``.

    -> (absolute path, finished ffmpeg run, input streams from _input_streams); VideoError for a missing file, a
    file without video, or any ffmpeg failure.
    """
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"video file not found: {path}")
    path = path.resolve()  # absolute, so a name starting with "-" is never read as an ffmpeg option
    proc = subprocess.run([_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), *output_args],
                          capture_output=True, check=False)
    stderr = proc.stderr.decode("utf-8", "replace")
    streams = _input_streams(stderr)
    if "Input #0" in stderr and "Video" not in streams:
        raise VideoError(f"{path.name} has no video stream")
    if proc.returncode != 0:
        raise VideoError(f"ffmpeg could not {what} {path.name}: {_error_line(proc.stderr)}")
    return path, proc, streams


def _split_top_level(text: str) -> list[str]:
    """Split ffmpeg's stream description at commas that are not inside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _input_streams(stderr: str) -> dict[str, list[str]]:
    """First video and first audio stream of input #0, as their comma-separated description fields."""
    section = stderr.split("Stream mapping:")[0].split("Output #0")[0]
    streams: dict[str, list[str]] = {}
    for kind, desc in re.findall(r"Stream #0:\d+\S*: (Video|Audio): (.*)", section):
        streams.setdefault(kind, _split_top_level(desc))
    return streams


def _codec_and_profile(field: str) -> tuple[str, str | None]:
    """'h264 (High) (avc1 / 0x31637661)' -> ('h264', 'High')."""
    codec = field.split()[0]
    profile = re.match(r"\S+ \(([^)/]+)\)", field)
    return codec, (profile.group(1).strip() if profile else None)


def _moov_before_mdat(path: Path) -> bool:
    """Walk the top-level ISO-BMFF boxes: True when 'moov' (the index) precedes 'mdat' (the media data)."""
    size_total = path.stat().st_size
    with path.open("rb") as fh:
        pos = 0
        while pos + 8 <= size_total:
            fh.seek(pos)
            header = fh.read(16)
            size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if size == 1 and len(header) == 16:  # 64-bit box size follows the type
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:  # box runs to the end of the file
                size = size_total - pos
            if kind == b"moov":
                return True
            if kind == b"mdat" or size < 8:
                return False
            pos += size
    return False


# ---------------------------------------------------------------------------------------------------- probing


def probe(path) -> VideoInfo:
    """Decode ``path`` once and report its streams; frames and audio samples are counted, not read from metadata."""
    path, proc, streams = _decode(
        path,
        ["-map", "0:v:0", "-map", "0:a:0?", "-fps_mode", "passthrough", "-c:v", "rawvideo", "-c:a", "pcm_s16le",
         "-f", "framecrc", "pipe:1"],
        "read",
    )

    # framecrc header lines '#key N: value', then 'stream, dts, pts, duration, size, checksum' per packet.
    header: dict[tuple[str, int], str] = {}
    count: dict[int, int] = {}
    duration: dict[int, int] = {}
    size: dict[int, int] = {}
    for line in proc.stdout.decode("ascii", "replace").splitlines():
        if line.startswith("#"):
            key = re.match(r"#(\w+) (\d+): (.*)", line)
            if key:
                header[(key.group(1), int(key.group(2)))] = key.group(3).strip()
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) >= 5:
            idx = int(fields[0])
            count[idx] = count.get(idx, 0) + 1
            duration[idx] = duration.get(idx, 0) + int(fields[3])
            size[idx] = size.get(idx, 0) + int(fields[4])
    kinds = {value: idx for (key, idx), value in header.items() if key == "media_type"}

    v = kinds.get("video")
    n_frames = count.get(v, 0)
    if v is None or n_frames == 0:
        raise VideoError(f"{path.name} has a video stream but no frame could be decoded")
    width, height = (int(x) for x in header[("dimensions", v)].split("x"))
    total = duration.get(v, 0) * Fraction(header[("tb", v)])
    if total > 0:
        fps = float(n_frames / total)
    else:  # a single frame without a duration: fall back to the container's nominal rate
        nominal = [f for f in streams["Video"] if f.endswith(" fps")]
        fps = float(nominal[0].split()[0]) if nominal else 0.0
    video_codec, video_profile = _codec_and_profile(streams["Video"][0])
    pix_fmt = streams["Video"][1].split("(")[0].strip() if len(streams["Video"]) > 1 else "unknown"

    a = kinds.get("audio")
    audio_codec = audio_profile = audio_duration = audio_sr = audio_channels = None
    if a is not None and "Audio" in streams:
        audio_codec, audio_profile = _codec_and_profile(streams["Audio"][0])
        audio_sr = int(header[("sample_rate", a)])
        samples = duration.get(a, 0) * Fraction(header[("tb", a)]) * audio_sr  # pcm packet duration = samples
        audio_duration = float(samples / audio_sr)
        audio_channels = int(size.get(a, 0) // (2 * samples)) if samples else None  # s16: 2 bytes per sample

    return VideoInfo(
        width=width, height=height, fps=fps, n_frames=n_frames, video_codec=video_codec, pix_fmt=pix_fmt,
        duration_s=n_frames / fps if fps > 0 else 0.0, audio_codec=audio_codec, audio_duration_s=audio_duration,
        audio_sr=audio_sr, video_profile=video_profile, audio_profile=audio_profile, audio_channels=audio_channels,
        faststart=_moov_before_mdat(path),
    )


def frames_of(path) -> np.ndarray:
    """All decoded frames of ``path`` as [T, H, W, 3] uint8 RGB (holds the whole clip: for tests and short clips)."""
    path, proc, _ = _decode(
        path, ["-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], "decode"
    )
    stderr = proc.stderr.decode("utf-8", "replace")
    size = re.search(r"Output #0.*?Stream #0:0\S*: Video: .*?, (\d+)x(\d+)", stderr, re.S)
    if size is None:
        raise VideoError(f"could not read the decoded frame size of {path.name}")
    width, height = int(size.group(1)), int(size.group(2))
    frame_bytes = width * height * 3
    if len(proc.stdout) % frame_bytes:
        raise VideoError(f"decoding {path.name} gave a partial frame")
    # [T, H, W, 3]; copied so the caller gets a writable array
    return np.frombuffer(proc.stdout, np.uint8).reshape(-1, height, width, 3).copy()


# ---------------------------------------------------------------------------------------------------- writing


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


def _iter_checked_frames(frames) -> Iterator[np.ndarray]:
    """Yield [H, W, 3] uint8 frames from an array or an iterable, checking each and that all share one size."""
    if isinstance(frames, np.ndarray):
        yield from check_clip(frames, "frames")
        return
    if isinstance(frames, (str, bytes, os.PathLike)) or not isinstance(frames, Iterable):
        kind = type(frames).__name__
        raise VideoError(f"frames must be a [T, H, W, 3] uint8 array or an iterable of frames, got {kind}")
    first_shape = None
    for i, frame in enumerate(frames):
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 or 0 in frame.shape:
            raise VideoError(
                f"frame {i} must be a non-empty [H, W, 3] uint8 RGB array, got {frame.dtype} {list(frame.shape)}"
            )
        if first_shape is None:
            first_shape = frame.shape
        elif frame.shape != first_shape:
            raise VideoError(
                f"frame {i} is {list(frame.shape)} but frame 0 is {list(first_shape)}: all frames need one size"
            )
        yield frame


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


def _fit_length(wave: np.ndarray, n: int) -> np.ndarray:
    """Trim [m, C] ``wave`` to n samples or pad it with silence up to n."""
    if len(wave) >= n:
        return wave[:n]
    return np.concatenate([wave, np.zeros((n - len(wave), wave.shape[1]), wave.dtype)])


def _encode_video(frames: Iterator[np.ndarray], width: int, height: int, fps: Fraction, crf: int,
                  preset: str, out: Path) -> int:
    """Stream [height, width, 3] frames (odd sides padded by repeating the edge) into libx264; -> frames written."""
    pad_h, pad_w = height % 2, width % 2
    cmd = [
        _ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width + pad_w}x{height + pad_h}", "-framerate", str(fps),
        "-i", "pipe:0", "-an", "-vf", _VIDEO_FILTER,
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-profile:v", "high",
        "-movflags", "+faststart", "-f", "mp4", str(out),
    ]
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: ffmpeg can never block on a full stderr pipe
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        written = 0
        try:
            for frame in frames:
                if pad_h or pad_w:
                    frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
                try:
                    proc.stdin.write(np.ascontiguousarray(frame).data)
                except BrokenPipeError:  # ffmpeg stopped; its exit status and stderr say why
                    break
                written += 1
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        except BaseException:  # a bad frame or an interrupt: stop ffmpeg, leave no process behind
            proc.kill()
            proc.wait()
            raise
        if proc.wait() != 0:
            err.seek(0)
            raise VideoError(f"ffmpeg could not encode the video: {_error_line(err.read())}")
    return written


def write_mp4(frames, fps: float, path, audio: np.ndarray | None = None, sr: int | None = None, crf: int = 18,
              preset: str = "medium") -> Path:
    """Write a browser-playable H.264 mp4 of ``frames``, with ``audio`` as AAC when given.

    frames: [T, H, W, 3] uint8 RGB, or an iterable of [H, W, 3] frames (streamed, never all held). Odd sides are
    padded to even by repeating the last row/column. audio: mono [n] or stereo [n, 2] float in [-1, 1] at ``sr``;
    trimmed or padded with silence to exactly T / fps seconds. crf: libx264 quality from 1 (best) to 51 (0 is
    refused: lossless H.264 needs the High 4:4:4 profile, which browsers do not decode). preset: libx264 speed/size
    trade-off. The file appears at ``path`` only once it is complete.
    """
    fps_q = _check_fps(fps)
    if isinstance(crf, bool) or not isinstance(crf, (int, np.integer)) or not 1 <= crf <= 51:
        raise VideoError(f"crf must be a whole number from 1 (best) to 51, got {crf!r}")
    if preset not in _X264_PRESETS:
        raise VideoError(f"preset must be one of {', '.join(_X264_PRESETS)}, got {preset!r}")
    wave = None
    if audio is not None:
        wave, sr = _check_audio(audio, sr)
    path = Path(path)
    if not path.parent.is_dir():
        raise VideoError(f"output folder does not exist: {path.parent}")

    frame_iter = _iter_checked_frames(frames)
    first = next(frame_iter, None)
    if first is None:
        raise VideoError("no frames to write")
    height, width = first.shape[:2]

    # Work beside the target so the final rename is atomic; the folder goes away whatever happens.
    with tempfile.TemporaryDirectory(prefix=".dancegen-video-", dir=path.parent) as work:
        video_only = Path(work) / "video.mp4"
        n_frames = _encode_video(_chain(first, frame_iter), width, height, fps_q, int(crf), preset, video_only)
        result = video_only
        if wave is not None:
            n_samples = round(n_frames * sr / fps_q)  # the video lasts n_frames / fps seconds
            wav = Path(work) / "audio.wav"
            soundfile.write(wav, _fit_length(wave, n_samples), sr, subtype="FLOAT")
            result = Path(work) / "muxed.mp4"
            out_sr = sr if sr in _AAC_RATES else _AAC_FALLBACK_SR
            _run_ffmpeg(
                ["-loglevel", "error", "-y", "-i", str(video_only), "-i", str(wav), "-map", "0:v:0", "-map", "1:a:0",
                 "-c:v", "copy", "-c:a", "aac", "-profile:a", "aac_low", "-ar", str(out_sr),
                 "-b:a", f"{_AAC_KBPS_PER_CHANNEL * wave.shape[1]}k", "-movflags", "+faststart", "-f", "mp4",
                 str(result)],
                "add the audio",
            )
        os.replace(result, path)
    return path


def _chain(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest
