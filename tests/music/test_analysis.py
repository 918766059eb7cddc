"""Music analysis on synthetic music with known beats: tempo, beats, bars and meter, tempo changes, octave errors,
envelopes, and unusable waveforms."""

from __future__ import annotations

import mir_eval
import numpy as np
import pytest
from support.audio_synth import synth_track
from support.music import MIN_BEAT_F, MIN_DOWNBEAT_F, SR, TEMPO_TOLERANCE, assert_consistent, beat_f
from support.paths import REPO

from dancegen.errors import MusicError
from dancegen.music.analysis import DEFAULT_CONFIG, analyse, analyse_samples

pytestmark = pytest.mark.usefixtures("warmed_up")  # compile the beat tracker once, up front

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
        assert result.beat_clarity < DEFAULT_CONFIG.clear_beat_min
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
