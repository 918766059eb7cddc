"""Audio input: a music file -> a mono float32 waveform of the requested segment, or one clear refusal.

Only ``[offset, offset + length)`` is decoded (so a 2-hour file does not hang), with libsndfile (soundfile) where
it reads the format and otherwise the ffmpeg binary that imageio-ffmpeg ships. Missing, empty, undecodable,
silent and too-short music raises :class:`~dancegen.errors.MusicError` with one line a person understands.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MusicError


@dataclass(frozen=True)
class AudioLimits:
    min_duration_s: float = 2.0  # shorter music is rejected (s)
    silence_peak: float = 1e-4  # peak amplitude below which the music counts as silent (-80 dBFS)
    decode_timeout_s: float = 120.0  # give up decoding with ffmpeg after this long (s)


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

    Returns None when libsndfile cannot open the file (the caller then tries ffmpeg).
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


def _ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise MusicError(f"cannot decode this format: no ffmpeg available ({exc})") from None


def _ffmpeg_duration(exe: str, path: Path, timeout_s: float) -> float | None:
    """Container duration in seconds from ffmpeg's banner, or None when it does not say."""
    try:
        proc = subprocess.run(
            [exe, "-hide_banner", "-nostdin", "-i", str(path)],
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(rb"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)", proc.stderr)
    if not match:
        return None
    hours, minutes, seconds = (float(x) for x in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _read_ffmpeg(path: Path, offset_s: float, read_s: float, sr: int, timeout_s: float) -> np.ndarray:
    """Decode [offset_s, offset_s + read_s) with ffmpeg to mono float32 PCM at ``sr``: [n]."""
    exe = _ffmpeg_exe()
    cmd = [
        exe, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-ss", f"{offset_s:.6f}", "-t", f"{read_s:.6f}",  # input options: seek and read only the segment
        "-i", str(path),
        "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(sr), "-f", "f32le", "pipe:1",
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise MusicError(f"decoding {path.name} took longer than {timeout_s:.0f} s; try a shorter file") from None
    except OSError as exc:
        raise MusicError(f"cannot run ffmpeg to decode {path.name}: {exc}") from None
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        reason = lines[-1][:160] if lines else f"ffmpeg exit status {proc.returncode}"
        if any("matches no streams" in ln or "does not contain any stream" in ln for ln in lines):
            raise MusicError(f"{path.name} contains no audio track")
        raise MusicError(f"could not decode {path.name} as audio ({reason})")
    return np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)


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
        samples = _read_ffmpeg(p, float(offset_s), read_s, sr, limits.decode_timeout_s)
        if samples.size == 0 and offset_s > 0:
            total = _ffmpeg_duration(_ffmpeg_exe(), p, limits.decode_timeout_s)
            if total is None or offset_s >= total - 1.0 / sr:
                length = f" ({_fmt_s(total)} long)" if total is not None else ""
                raise MusicError(f"the offset {offset_s:.1f} s is beyond the end of the music{length}")
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


