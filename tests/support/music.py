"""Music with known beats for the tests: quality thresholds, invariants of an analysis, and files in the formats
people bring (encoded with the ffmpeg binary of imageio-ffmpeg) or broken ones."""

from __future__ import annotations

import subprocess
from pathlib import Path

import mir_eval
import numpy as np
import pytest

from dancegen.music import MusicAnalysis

from .audio_synth import synth_track, write_wav

SR = 22050
TEMPO_TOLERANCE = 0.04  # relative
MIN_BEAT_F = 0.85  # mir_eval F-measure, 70 ms window, first 5 s trimmed on both sides
MIN_DOWNBEAT_F = 0.8  # "most bars" have the right phase


def beat_f(reference: np.ndarray, estimated: np.ndarray) -> float:
    return float(mir_eval.beat.f_measure(mir_eval.beat.trim_beats(reference), mir_eval.beat.trim_beats(estimated)))


def ffmpeg_encode(src: Path, dst: Path, *codec: str) -> Path:
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error", "-i", str(src), *codec]
    cmd.append(str(dst))
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return dst


def assert_consistent(result: MusicAnalysis) -> None:
    """Invariants every analysis must satisfy."""
    beats, downbeats = result.beats_s, result.downbeats_s
    assert result.samples.ndim == 1 and result.samples.dtype == np.float32
    assert result.duration_s == pytest.approx(len(result.samples) / result.sr, abs=1e-6)
    assert len(beats) >= 2 and np.all(np.diff(beats) > 0)
    assert beats[0] >= 0 and beats[-1] <= result.duration_s
    assert set(np.round(downbeats, 9)) <= set(np.round(beats, 9))
    assert result.beats_per_bar in (3, 4)
    idx = result.beat_index_in_bar
    assert idx.shape == beats.shape and idx.min() >= 0 and idx.max() < result.beats_per_bar
    assert np.all((idx[1:] - idx[:-1]) % result.beats_per_bar == 1)  # counts 0, 1, 2, (3,) 0, ...
    np.testing.assert_array_equal(downbeats, beats[idx == 0])
    n = len(result.frame_times_s)
    for envelope in (result.onset_strength, result.rms, result.local_tempo_bpm):
        assert envelope.shape == (n,)
    hop = np.diff(result.frame_times_s)
    assert np.allclose(hop, hop[0]) and hop[0] == pytest.approx(512 / 22050)
    assert result.frame_times_s[-1] <= result.duration_s + hop[0]
    for envelope in (result.onset_strength, result.rms):
        assert envelope.min() >= 0 and envelope.max() == pytest.approx(1.0)
    assert 60.0 <= result.tempo_bpm <= 180.0
    assert 0.0 <= result.beat_clarity <= 1.0


def encoded_tracks(folder: Path) -> tuple[dict[str, Path], np.ndarray]:
    """A 12 s 120 BPM drum track (beats known) as stereo 44.1 kHz wav and as mp3 / ogg / opus / flac / m4a, and as
    a 24-bit WAVE_FORMAT_EXTENSIBLE wav."""
    import soundfile

    samples, beats, _ = synth_track(120.0, 12.0, sr=44100, style="drums", seed=3)
    wav = folder / "track.wav"
    write_wav(wav, np.stack([samples, 0.6 * samples], axis=1), 44100)
    files = {"wav": wav}
    files["wav24"] = folder / "track24.wav"
    soundfile.write(files["wav24"], np.stack([samples, 0.6 * samples], axis=1), 44100, subtype="PCM_24",
                    format="WAVEX")
    files["opus"] = ffmpeg_encode(wav, folder / "track.opus", "-c:a", "libopus", "-b:a", "96k")
    files["mp3"] = ffmpeg_encode(wav, folder / "track.mp3", "-c:a", "libmp3lame", "-b:a", "128k")
    files["ogg"] = ffmpeg_encode(wav, folder / "track.ogg", "-c:a", "libvorbis")
    files["flac"] = ffmpeg_encode(wav, folder / "track.flac", "-c:a", "flac")
    files["m4a"] = ffmpeg_encode(wav, folder / "track.m4a", "-c:a", "aac", "-b:a", "128k")
    return files, beats


def bad_music_files(folder: Path) -> dict[str, Path]:
    """Music files that must be refused with one clear line."""
    import imageio_ffmpeg

    files = {}
    files["empty"] = folder / "empty.wav"
    files["empty"].write_bytes(b"")
    files["garbage"] = folder / "garbage.mp3"
    files["garbage"].write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    files["text"] = folder / "notes.m4a"
    files["text"].write_text("this is not music\n")
    files["nodata"] = folder / "nodata.wav"  # a valid WAV header with zero frames
    write_wav(files["nodata"], np.zeros(0, dtype=np.float32), SR)
    files["silent"] = folder / "silent.wav"
    write_wav(files["silent"], np.zeros(5 * SR, dtype=np.float32), SR)
    files["short"] = folder / "short.wav"
    write_wav(files["short"], synth_track(120.0, 1.0)[0], SR)
    files["video"] = folder / "video.mp4"  # a video without an audio track
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
           "color=c=blue:s=64x64:d=3", "-c:v", "mpeg4", str(files["video"])]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return files
