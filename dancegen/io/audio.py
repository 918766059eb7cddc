"""Audio input: a music file -> a mono float32 waveform of the requested segment, or one clear refusal.

Only ``[offset, offset + length)`` is decoded (so a 2-hour file does not hang), with libsndfile (soundfile) where
it reads the format (WAV of any bit depth, WAVE_FORMAT_EXTENSIBLE included, FLAC, Ogg Vorbis and Opus, MP3) and
otherwise with PyAV, whose wheel carries its own FFmpeg (M4A / AAC and the rest). Missing, empty, undecodable,
silent and too-short music raises :class:`~dancegen.errors.MusicError` with one line a person understands.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MusicError


@dataclass(frozen=True)
class AudioLimits:
    min_duration_s: float = 2.0  # shorter music is rejected (s)
    silence_peak: float = 1e-4  # peak amplitude below which the music counts as silent (-80 dBFS)


DEFAULT_LIMITS = AudioLimits()

def _fmt_s(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 100 else f"{seconds:.0f} s"


def _check_segment_args(offset_s: float, duration_s: float | None, max_seconds: float, sr: int) -> None:
    if not (isinstance(offset_s, (int, float)) and math.isfinite(offset_s) and offset_s >= 0):
        raise MusicError(f"the music offset must be a number of seconds >= 0, got {offset_s!r}")
    if duration_s is not None and not (
        isinstance(duration_s, (int, float)) and math.isfinite(duration_s) and duration_s > 0
    ):
        raise MusicError(f"the music length must be a number of seconds > 0, got {duration_s!r}")
    if not (isinstance(max_seconds, (int, float)) and math.isfinite(max_seconds) and max_seconds > 0):
        raise MusicError(f"the maximum music length must be a number of seconds > 0, got {max_seconds!r}")
    if not (isinstance(sr, (int, np.integer)) and 4000 <= sr <= 192000):
        raise MusicError(f"the sample rate must be an integer within 4000..192000 Hz, got {sr!r}")


def _read_soundfile(path: Path, offset_s: float, read_s: float) -> tuple[np.ndarray, int, float] | None:
    """Decode [offset_s, offset_s + read_s) with libsndfile: (mono [n], native sr, total length s).

    Returns None when libsndfile cannot open the file (the caller then tries PyAV).
    """
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            native_sr = int(f.samplerate)
            total_frames = int(f.frames)
            if total_frames <= 0:
                raise MusicError(f"{path.name} contains no audio")
            total_s = total_frames / native_sr
            if offset_s >= total_s:
                raise MusicError(
                    f"the offset {offset_s:.1f} s is beyond the end of the music ({_fmt_s(total_s)} long)"
                )
            start = round(offset_s * native_sr)
            frames = min(total_frames - start, math.ceil(read_s * native_sr))
            if start > 0:
                f.seek(start)
            data = f.read(frames, dtype="float32", always_2d=True)  # [n, channels]
    except MusicError:
        raise
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError):
        return None
    return data.mean(axis=1), native_sr, total_s


def _read_av(path: Path, offset_s: float, read_s: float, sr: int) -> np.ndarray:
    """Decode [offset_s, offset_s + read_s) with PyAV (its own FFmpeg: m4a / aac, mp3, opus, ... anything
    libsndfile cannot read) to mono float32 at ``sr``: [n]."""
    import av

    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise MusicError(f"could not decode {path.name} as audio ({_reason(exc)})") from None
    with container:
        if not container.streams.audio:
            raise MusicError(f"{path.name} contains no audio track")
        stream = container.streams.audio[0]
        total_s = float(container.duration) / av.time_base if container.duration else None
        if total_s is not None and offset_s >= total_s:
            raise MusicError(f"the offset {offset_s:.1f} s is beyond the end of the music ({_fmt_s(total_s)} long)")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
        # music time 0 is the stream's start (an mp3's first frame comes after the encoder's delay, for example)
        origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        wanted = math.ceil(read_s * sr)
        chunks, start = [], None  # resampled mono chunks; sample index of the first one relative to the offset
        try:
            if offset_s > 0:
                container.seek(int((origin + offset_s) / stream.time_base), stream=stream)  # on or before it
            for frame in container.decode(stream):
                t = (frame.time - origin) if frame.time is not None else None  # music time of the frame's start
                if t is not None and t + frame.samples / frame.sample_rate <= offset_s:
                    continue  # wholly before the segment
                if start is None:
                    start = round(((t or 0.0) - offset_s) * sr)
                chunks += [c.to_ndarray().reshape(-1) for c in resampler.resample(frame)]
                if sum(len(c) for c in chunks) + min(start, 0) >= wanted:
                    break
            chunks += [c.to_ndarray().reshape(-1) for c in resampler.resample(None)]
        except av.FFmpegError as exc:
            raise MusicError(f"could not decode {path.name} as audio ({_reason(exc)})") from None
    if start is None:
        if offset_s > 0:
            raise MusicError(f"the offset {offset_s:.1f} s is beyond the end of the music")
        return np.zeros(0, np.float32)
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    samples = samples[-start:] if start < 0 else np.concatenate([np.zeros(start, np.float32), samples])
    return samples[:wanted].astype(np.float32)


def _reason(exc: Exception) -> str:
    """FFmpeg's own words for a failure, without the file name PyAV repeats."""
    text = str(getattr(exc, "strerror", None) or exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__


def load_audio(
    path: str | os.PathLike,
    offset_s: float = 0.0,
    duration_s: float | None = None,
    max_seconds: float = 300.0,
    sr: int = 22050,
    *,
    limits: AudioLimits = DEFAULT_LIMITS,
) -> tuple[np.ndarray, int, tuple[str, ...]]:
    """Decode a segment of a music file to mono: (samples [n] float32, sr, notices).

    Only ``[offset_s, offset_s + min(duration_s, max_seconds))`` is decoded, so a 2-hour file does not
    hang. Raises MusicError for a missing, empty, undecodable, silent or too-short file and for an offset
    beyond the end.
    """
    _check_segment_args(offset_s, duration_s, max_seconds, sr)
    p = Path(os.fspath(path))
    if not p.exists():
        raise MusicError(f"music file not found: {p}")
    if not p.is_file():
        raise MusicError(f"not a music file: {p}")
    if p.stat().st_size == 0:
        raise MusicError(f"the music file is empty: {p.name}")

    limit = max_seconds if duration_s is None else min(duration_s, max_seconds)
    read_s = limit + 1.0  # one extra second tells whether the music continues past the limit
    notices: list[str] = []

    decoded = _read_soundfile(p, float(offset_s), read_s)
    if decoded is not None:
        samples, native_sr, _ = decoded
        if native_sr != sr:
            import librosa

            samples = librosa.resample(samples, orig_sr=native_sr, target_sr=sr, res_type="soxr_hq")
    else:
        samples = _read_av(p, float(offset_s), read_s, sr)
    samples = np.nan_to_num(np.asarray(samples, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)

    n_limit = round(limit * sr)
    if samples.size > n_limit:
        samples = samples[:n_limit]
        if duration_s is None or duration_s > max_seconds:
            start = f" after the {offset_s:.1f} s offset" if offset_s > 0 else ""
            notices.append(f"music trimmed to the first {limit:g} s{start} (the maximum length)")
    elif duration_s is not None and samples.size < round(duration_s * sr) - int(0.05 * sr):
        notices.append(f"the music ends after {samples.size / sr:.1f} s, shorter than the {duration_s:g} s asked for")

    check_samples(samples, sr, offset_s, limits)
    return samples, int(sr), tuple(notices)


def audio_duration(path: str | os.PathLike) -> float | None:
    """Length of a music file in seconds (from libsndfile, else the container), or None when it does not say."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        return info.frames / info.samplerate if info.frames > 0 else None
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError):
        pass
    import av

    try:
        with av.open(str(path)) as container:
            return float(container.duration) / av.time_base if container.duration else None
    except av.FFmpegError:
        return None


def check_samples(samples: np.ndarray, sr: int, offset_s: float, limits: AudioLimits = DEFAULT_LIMITS) -> None:
    """MusicError when the waveform is empty, shorter than the minimum or silent."""
    seconds = samples.size / sr
    after = f" after the {offset_s:.1f} s offset" if offset_s > 0 else ""
    if samples.size == 0:
        raise MusicError(f"the music has no audio{after}")
    if seconds < limits.min_duration_s:
        raise MusicError(
            f"the music is too short: {seconds:.1f} s{after} (at least {limits.min_duration_s:g} s needed)"
        )
    if not np.isfinite(samples).all() or float(np.abs(samples).max()) < limits.silence_peak:
        raise MusicError(f"the music is silent{after}")


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Mono float32 [n] from mono [n] or multi-channel samples ([n, channels] or [channels, n]; integers scaled)."""
    x = np.asarray(samples)
    if x.ndim == 2:
        # [n, channels] (soundfile) or [channels, n] (librosa): channels is the short axis
        x = x.mean(axis=1 if x.shape[1] <= x.shape[0] else 0)
    if x.ndim != 1:
        raise MusicError(f"music samples must be a mono [n] or [n, channels] array, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number):
        raise MusicError("music samples must be numbers")
    if np.issubdtype(x.dtype, np.integer):
        x = x / float(np.iinfo(x.dtype).max)
    return np.ascontiguousarray(x, dtype=np.float32)


