"""Tests for dancegen.music: decoding, tempo / beat / downbeat quality on synthetic music, errors, CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import mir_eval
import numpy as np
import pytest

from dancegen import music
from dancegen.music import MusicError, analyse, analyse_samples, load_audio

sys.path.insert(0, str(Path(__file__).parent))
from audio_synth import synth_track, write_wav  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SR = 22050
TEMPO_TOLERANCE = 0.04  # relative
MIN_BEAT_F = 0.85  # mir_eval F-measure, 70 ms window, first 5 s trimmed on both sides
MIN_DOWNBEAT_F = 0.8  # "most bars" have the right phase


@pytest.fixture(scope="session", autouse=True)
def warmed_up():
    """Compile librosa's numba beat tracker once for the whole session."""
    seconds = music.warm_up()
    assert seconds > 0
    return seconds


def beat_f(reference: np.ndarray, estimated: np.ndarray) -> float:
    return float(mir_eval.beat.f_measure(mir_eval.beat.trim_beats(reference), mir_eval.beat.trim_beats(estimated)))


def ffmpeg_encode(src: Path, dst: Path, *codec: str) -> Path:
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error", "-i", str(src), *codec]
    cmd.append(str(dst))
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return dst


def assert_consistent(result: music.MusicAnalysis) -> None:
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


# ------------------------------------------------------------------------------------------ quality


@pytest.mark.parametrize("meter", [4, 3])
@pytest.mark.parametrize("style", ["clicks", "drums", "chords"])
@pytest.mark.parametrize("bpm", [75, 100, 128, 160])
def test_tempo_beats_and_bars_on_synthetic_music(bpm, style, meter):
    pickup = (bpm // 25 + len(style)) % meter  # vary the bar phase: the first beat is not always a downbeat
    samples, beats, downbeats = synth_track(bpm, 24.0, meter=meter, style=style, pickup=pickup, seed=bpm)
    result = analyse_samples(samples, SR)
    assert_consistent(result)
    assert result.tempo_bpm == pytest.approx(bpm, rel=TEMPO_TOLERANCE)
    assert beat_f(beats, result.beats_s) >= MIN_BEAT_F
    assert result.beats_per_bar == meter
    assert beat_f(downbeats, result.downbeats_s) >= MIN_DOWNBEAT_F
    assert result.beat_clarity >= 0.5
    assert not any("no clear beat" in notice for notice in result.notices)


@pytest.mark.parametrize(
    "tempo_map, style, meter",
    [([(0.0, 100.0), (15.0, 130.0)], "drums", 4), ([(0.0, 100.0), (15.0, 130.0)], "chords", 4),
     ([(0.0, 130.0), (15.0, 100.0)], "clicks", 3)],
)  # fmt: skip
def test_follows_a_tempo_change(tempo_map, style, meter):
    samples, beats, downbeats = synth_track(tempo_map, 30.0, meter=meter, style=style, pickup=1)
    result = analyse_samples(samples, SR)
    assert_consistent(result)
    assert beat_f(beats, result.beats_s) >= MIN_BEAT_F
    assert beat_f(downbeats, result.downbeats_s) >= MIN_DOWNBEAT_F
    (_, first), (_, second) = tempo_map
    t = result.frame_times_s
    assert np.median(result.local_tempo_bpm[(t > 3) & (t < 12)]) == pytest.approx(first, rel=TEMPO_TOLERANCE)
    assert np.median(result.local_tempo_bpm[(t > 18) & (t < 27)]) == pytest.approx(second, rel=TEMPO_TOLERANCE)
    assert min(first, second) * 0.96 <= result.tempo_bpm <= max(first, second) * 1.04


@pytest.mark.parametrize("bpm, expected", [(200.0, 100.0), (240.0, 120.0)])
def test_fast_music_is_octave_corrected_into_range(bpm, expected):
    samples, beats, _ = synth_track(bpm, 20.0, style="drums")
    result = analyse_samples(samples, SR)
    assert result.tempo_bpm == pytest.approx(expected, rel=TEMPO_TOLERANCE)
    # every detected beat is a real beat (every other one)
    assert beat_f(beats[::2], result.beats_s) >= MIN_BEAT_F


def test_octave_doubles_slow_music_into_range():
    samples, beats, _ = synth_track(50.0, 24.0, style="drums")
    result = analyse_samples(samples, SR)
    assert result.tempo_bpm == pytest.approx(100.0, rel=TEMPO_TOLERANCE)
    halves = np.sort(np.concatenate([beats, (beats[1:] + beats[:-1]) / 2]))
    assert beat_f(halves, result.beats_s) >= MIN_BEAT_F


def test_silent_intro_and_outro_get_no_beats():
    samples, beats, _ = synth_track(120.0, 20.0, style="drums")
    samples[: 5 * SR] = 0.0
    samples[15 * SR :] = 0.0
    result = analyse_samples(samples, SR)
    assert result.beats_s[0] >= 4.9 and result.beats_s[-1] <= 15.1
    inside = beats[(beats >= 5.0) & (beats < 15.0)]
    assert mir_eval.beat.f_measure(inside, result.beats_s) >= MIN_BEAT_F


def test_beatless_audio_gets_a_notice():
    t = np.arange(8 * SR) / SR
    tone = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    noise = (0.2 * np.random.default_rng(0).standard_normal(8 * SR)).astype(np.float32)
    for samples in (tone, noise):
        result = analyse_samples(samples, SR)
        assert_consistent(result)
        assert result.beat_clarity < music.DEFAULT_CONFIG.clear_beat_min
        assert any("no clear beat" in notice for notice in result.notices)


def test_envelopes_follow_the_music():
    samples, beats, _ = synth_track(120.0, 16.0, style="clicks")
    samples[8 * SR :] *= 0.1  # second half 20 dB quieter
    result = analyse_samples(samples, SR)
    t = result.frame_times_s
    assert result.rms[t < 7.5].mean() > 4 * result.rms[t > 8.5].mean()
    # onset strength peaks sit on the clicks
    frames = np.searchsorted(t, beats[beats < 7.5])
    near = [result.onset_strength[max(0, f - 2) : f + 3].max() for f in frames]
    assert np.median(near) > 5 * np.median(result.onset_strength)
    assert np.allclose(result.local_tempo_bpm, 120.0, rtol=TEMPO_TOLERANCE)


# --------------------------------------------------------------------------------------- in-memory input


def test_analyse_samples_keeps_the_input_rate_and_accepts_stereo_and_ints():
    samples, beats, _ = synth_track(110.0, 16.0, sr=44100, style="drums")
    stereo = np.stack([samples, 0.5 * samples], axis=1)  # [n, 2]
    as_int16 = (stereo * 32767).astype(np.int16)
    for data in (stereo, stereo.T, as_int16):
        result = analyse_samples(data, 44100, path="x.wav", offset_s=1.5, notices=("hello",))
        assert result.sr == 44100 and result.samples.shape == (len(samples),)
        assert result.path == "x.wav" and result.offset_s == 1.5 and result.notices[0] == "hello"
        assert result.duration_s == pytest.approx(16.0)
        assert result.tempo_bpm == pytest.approx(110.0, rel=TEMPO_TOLERANCE)
        assert beat_f(beats, result.beats_s) >= MIN_BEAT_F


@pytest.mark.parametrize(
    "samples, sr, message",
    [
        (np.zeros(5 * SR, dtype=np.float32), SR, "silent"),
        (np.full(5 * SR, np.nan, dtype=np.float32), SR, "silent"),
        (np.ones(SR, dtype=np.float32), SR, "too short"),
        (np.zeros(0, dtype=np.float32), SR, "no audio"),
        (np.zeros((2, 2, 5 * SR), dtype=np.float32), SR, "shape"),
        (np.ones(5 * SR, dtype=np.float32), 0, "sample rate"),
    ],
)
def test_analyse_samples_rejects_unusable_input(samples, sr, message):
    with pytest.raises(MusicError, match=message) as info:
        analyse_samples(samples, sr)
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------------------------------- decoding


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    """A 12 s 120 BPM drum track (beats known) as stereo 44.1 kHz wav and as mp3 / ogg / flac / m4a."""
    folder = tmp_path_factory.mktemp("formats")
    samples, beats, _ = synth_track(120.0, 12.0, sr=44100, style="drums", seed=3)
    wav = folder / "track.wav"
    write_wav(wav, np.stack([samples, 0.6 * samples], axis=1), 44100)
    files = {"wav": wav}
    files["mp3"] = ffmpeg_encode(wav, folder / "track.mp3", "-c:a", "libmp3lame", "-b:a", "128k")
    files["ogg"] = ffmpeg_encode(wav, folder / "track.ogg", "-c:a", "libvorbis")
    files["flac"] = ffmpeg_encode(wav, folder / "track.flac", "-c:a", "flac")
    files["m4a"] = ffmpeg_encode(wav, folder / "track.m4a", "-c:a", "aac", "-b:a", "128k")
    return files, beats


@pytest.mark.parametrize("fmt", ["wav", "mp3", "ogg", "flac", "m4a"])
def test_every_common_format_decodes_and_analyses(encoded, fmt):
    files, beats = encoded
    samples, sr, notices = load_audio(files[fmt])
    assert sr == SR and samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) / sr == pytest.approx(12.0, abs=0.06)
    assert notices == ()
    result = analyse(files[fmt])
    assert_consistent(result)
    assert result.path == str(files[fmt])
    assert result.tempo_bpm == pytest.approx(120.0, rel=TEMPO_TOLERANCE)
    assert beat_f(beats, result.beats_s) >= MIN_BEAT_F


@pytest.mark.parametrize("fmt", ["wav", "mp3", "m4a"])  # soundfile seek, mp3 seek, ffmpeg seek
def test_offset_and_length_select_the_segment(encoded, fmt):
    files, beats = encoded
    full, _, _ = load_audio(files["wav"])
    segment, sr, notices = load_audio(files[fmt], offset_s=3.0, duration_s=6.0)
    assert len(segment) == 6 * sr and notices == ()
    # the segment lines up with the same stretch of the lossless decode (within ~25 ms of codec delay)
    reference = full[3 * sr : 9 * sr]
    corr = np.correlate(segment[sr : 3 * sr], reference[sr - 1000 : 3 * sr + 1000], mode="valid")
    assert abs(int(np.argmax(corr)) - 1000) <= 0.025 * sr
    result = analyse(files[fmt], offset_s=3.0, duration_s=6.0)
    assert result.offset_s == 3.0 and result.duration_s == pytest.approx(6.0)
    expected = beats[(beats >= 3.0) & (beats < 9.0)] - 3.0
    assert mir_eval.beat.f_measure(expected, result.beats_s) >= MIN_BEAT_F


@pytest.mark.parametrize("fmt", ["wav", "m4a"])
def test_long_music_is_trimmed_with_a_notice(encoded, fmt):
    files, _ = encoded
    samples, sr, notices = load_audio(files[fmt], max_seconds=5.0)
    assert len(samples) == 5 * sr
    assert len(notices) == 1 and "trimmed" in notices[0] and "5 s" in notices[0]
    samples, sr, notices = load_audio(files[fmt], offset_s=2.0, duration_s=8.0, max_seconds=4.0)
    assert len(samples) == 4 * sr and "trimmed" in notices[0]
    result = analyse(files[fmt], max_seconds=5.0)
    assert result.duration_s == pytest.approx(5.0) and "trimmed" in result.notices[0]


def test_asking_past_the_end_gives_what_is_there(encoded):
    files, _ = encoded
    samples, sr, notices = load_audio(files["wav"], offset_s=8.0, duration_s=10.0)
    assert len(samples) / sr == pytest.approx(4.0, abs=0.01)
    assert "ends after 4.0 s" in notices[0]


def test_resamples_to_the_requested_rate(encoded):
    files, _ = encoded
    for fmt in ("wav", "m4a"):
        samples, sr, _ = load_audio(files[fmt], sr=44100)
        assert sr == 44100 and len(samples) / sr == pytest.approx(12.0, abs=0.06)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, encoded):
    import imageio_ffmpeg

    folder = tmp_path_factory.mktemp("bad")
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


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("missing", {}, "not found"),
        ("folder", {}, "not a music file"),
        ("empty", {}, "empty"),
        ("garbage", {}, "could not decode"),
        ("text", {}, "could not decode"),
        ("video", {}, "no audio track"),
        ("nodata", {}, "contains no audio"),
        ("silent", {}, "silent"),
        ("short", {}, "too short"),
        ("wav", {"offset_s": 12.5}, "beyond the end"),
        ("m4a", {"offset_s": 30.0}, "beyond the end"),
        ("wav", {"offset_s": 11.0}, "too short"),
        ("wav", {"offset_s": -1.0}, "offset"),
        ("wav", {"duration_s": 0.0}, "length"),
        ("wav", {"duration_s": math.nan}, "length"),
        ("wav", {"max_seconds": 0.0}, "maximum"),
    ],
)
def test_bad_input_raises_a_one_line_music_error(bad_files, encoded, tmp_path, name, kwargs, message):
    paths = {**bad_files, **encoded[0], "missing": tmp_path / "nope.mp3", "folder": tmp_path}
    with pytest.raises(MusicError, match=message) as info:
        load_audio(paths[name], **kwargs)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


# ------------------------------------------------------------------------------------------------ CLI


def test_cli_json(encoded, capsys):
    files, beats = encoded
    assert music.main([str(files["flac"]), "--json", "--offset", "2", "--seconds", "8"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"duration_s", "tempo_bpm", "beats_s", "downbeats_s"} <= set(out)
    assert out["duration_s"] == 8.0 and out["offset_s"] == 2.0
    assert out["tempo_bpm"] == pytest.approx(120.0, rel=TEMPO_TOLERANCE)
    for t in out["beats_s"] + out["downbeats_s"]:
        assert round(t, 3) == t  # ms precision
    expected = beats[(beats >= 2.0) & (beats < 10.0)] - 2.0
    assert mir_eval.beat.f_measure(expected, np.array(out["beats_s"])) >= MIN_BEAT_F
    assert set(out["downbeats_s"]) <= set(out["beats_s"])


def test_cli_plain_text(encoded, capsys):
    assert music.main([str(encoded[0]["wav"])]) == 0
    assert "BPM" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [(["nope.wav", "--json"], "not found"), (["x.wav", "--offset", "abc"], "invalid float"), ([], "required")],
)
def test_cli_bad_input_exits_2_with_one_line(args, message, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "dancegen", "music", *args],
        check=False, capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr


def test_sample_music_asset_is_a_steady_116_bpm_groove():
    path = REPO / "assets" / "sample_music.wav"
    assert path.stat().st_size < 3_000_000
    result = analyse(path)
    assert result.duration_s == pytest.approx(30.0)
    assert result.tempo_bpm == pytest.approx(116.0, rel=0.02)
    assert result.beats_per_bar == 4
    grid = np.arange(0.0, 26.95, 60.0 / 116.0)  # beats until the final chord
    assert beat_f(grid, result.beats_s) >= MIN_BEAT_F
    assert beat_f(grid[::4], result.downbeats_s) >= MIN_DOWNBEAT_F
