"""Music decoding: every common format, segments, trimming, resampling, and one-line refusals of bad files."""

from __future__ import annotations

import math

import mir_eval
import numpy as np
import pytest
from support.music import MIN_BEAT_F, SR, TEMPO_TOLERANCE, assert_consistent, beat_f

from dancegen.errors import MusicError, UserError
from dancegen.io.audio import load_audio
from dancegen.music.analysis import analyse


@pytest.mark.parametrize("fmt", ["wav", "wav24", "mp3", "ogg", "opus", "flac", "m4a"])
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


@pytest.mark.parametrize("fmt", ["wav", "mp3", "m4a", "opus"])  # soundfile seeks, PyAV seeks
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
def test_bad_input_raises_a_one_line_music_error(bad_music, encoded, tmp_path, name, kwargs, message):
    paths = {**bad_music, **encoded[0], "missing": tmp_path / "nope.mp3", "folder": tmp_path}
    with pytest.raises(MusicError, match=message) as info:
        load_audio(paths[name], **kwargs)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, UserError)


@pytest.mark.parametrize("fmt", ["mp3", "opus", "flac", "m4a", "wav24"])
def test_the_pyav_path_decodes_what_libsndfile_does(encoded, fmt):
    """Formats libsndfile reads go through it; PyAV (its own FFmpeg) reads the rest. Both give the same music."""
    from dancegen.io.audio import _read_av, _read_soundfile

    files, _ = encoded
    via_av = _read_av(files[fmt], 2.0, 6.0, SR)  # [n] mono at SR
    reference, _, _ = load_audio(files["wav"], offset_s=2.0, duration_s=6.0)
    assert len(via_av) == len(reference) == 6 * SR
    lag = np.argmax(np.correlate(via_av[SR: 3 * SR], reference[SR - 1000: 3 * SR + 1000], mode="valid")) - 1000
    assert abs(lag) <= 0.025 * SR  # within the codec's delay
    assert np.corrcoef(via_av[SR + lag: 5 * SR + lag], reference[SR: 5 * SR])[0, 1] > 0.9
    if fmt in ("flac", "wav24"):  # lossless: libsndfile reads it too, and the two decodes agree
        assert _read_soundfile(files[fmt], 2.0, 6.0) is not None
