"""Video stage: every check decodes the written file with the real ffmpeg decoder."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile

from dancegen.video import (
    OutputDir,
    VideoError,
    frames_of,
    make_output_dir,
    probe,
    side_by_side,
    write_mp4,
)

FPS = 8
T, H, W = 20, 48, 64
SR = 22050
LABELS = ("baseline (alpha 0)", "identity (alpha 1.0, 4 tokens)")


def moving_squares(t: int = T, h: int = H, w: int = W) -> np.ndarray:
    """[t, h, w, 3] uint8: a red square moving right and a blue one moving down on a grey background."""
    frames = np.full((t, h, w, 3), 60, np.uint8)
    for i in range(t):
        frames[i, 8:24, 2 * i:2 * i + 16] = (220, 40, 30)
        frames[i, i:i + 12, w - 20:w - 8] = (30, 60, 220)
    return frames


def tone(seconds: float, sr: int = SR, freq: float = 440.0) -> np.ndarray:
    """[n] float32 sine at 0.5 amplitude."""
    n = int(round(seconds * sr))
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(n) / sr)).astype(np.float32)


def decoded_audio(path: Path, sr: int = SR) -> np.ndarray:
    """The file's audio decoded to mono float32 at ``sr`` by ffmpeg."""
    proc = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1",
         "-ar", str(sr), "-f", "f32le", "pipe:1"],
        capture_output=True, check=True,
    )
    return np.frombuffer(proc.stdout, np.float32)


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return moving_squares()


# --------------------------------------------------------------------------------------------- write + probe


@pytest.mark.parametrize("audio_s", [4.0, 1.0], ids=["audio-longer", "audio-shorter"])
def test_mp4_is_browser_playable_and_audio_matches_video(tmp_path, clip, audio_s):
    path = write_mp4(clip, FPS, tmp_path / "out.mp4", audio=tone(audio_s), sr=SR)
    info = probe(path)
    assert (info.video_codec, info.video_profile, info.pix_fmt) == ("h264", "High", "yuv420p")
    assert (info.audio_codec, info.audio_profile, info.audio_sr, info.audio_channels) == ("aac", "LC", SR, 1)
    assert info.faststart
    assert (info.width, info.height) == (W, H)
    assert info.n_frames == T
    assert info.fps == pytest.approx(FPS)
    assert info.duration_s == pytest.approx(T / FPS)
    assert abs(info.audio_duration_s - info.duration_s) <= 1 / FPS


def test_audio_is_the_tone_trimmed_or_padded_with_silence(tmp_path, clip):
    path = write_mp4(clip, FPS, tmp_path / "short.mp4", audio=tone(1.0), sr=SR)
    wave = decoded_audio(path)
    assert len(wave) == pytest.approx(T / FPS * SR, abs=SR / FPS)
    spectrum = np.abs(np.fft.rfft(wave[: SR // 2 + SR // 4][SR // 4:]))  # 0.25 s to 0.75 s, inside the tone
    assert np.fft.rfftfreq(SR // 2, 1 / SR)[spectrum.argmax()] == pytest.approx(440, abs=4)
    rms_tone = np.sqrt(np.mean(wave[SR // 4: SR * 3 // 4] ** 2))
    rms_tail = np.sqrt(np.mean(wave[int(1.5 * SR):] ** 2))  # after the 1 s tone: the padding
    assert rms_tone == pytest.approx(0.5 / np.sqrt(2), rel=0.1)
    assert rms_tail < 0.01


@pytest.mark.parametrize("fps", [7.5, 30000 / 1001])
def test_fractional_fps(tmp_path, clip, fps):
    path = write_mp4(clip, fps, tmp_path / "frac.mp4", audio=tone(5.0), sr=SR)
    info = probe(path)
    assert info.n_frames == T
    assert info.fps == pytest.approx(fps, rel=1e-6)
    assert info.duration_s == pytest.approx(T / fps, rel=1e-6)
    assert abs(info.audio_duration_s - info.duration_s) <= 1 / fps


def test_decoded_frames_match_input_in_order(tmp_path, clip):
    decoded = frames_of(write_mp4(clip, FPS, tmp_path / "q.mp4"))
    assert decoded.shape == clip.shape and decoded.dtype == np.uint8
    err = np.abs(decoded.astype(np.int16) - clip).mean(axis=(1, 2, 3))  # [T] per-frame mean abs error
    assert err.max() < 3.0
    # each decoded frame is closest to the input frame with its own index: none dropped, doubled or reordered
    dist = np.abs(decoded[:, None].astype(np.int16) - clip[None]).mean(axis=(2, 3, 4))  # [T decoded, T input]
    np.testing.assert_array_equal(dist.argmin(axis=1), np.arange(T))


def test_streaming_from_a_generator_with_odd_size_and_stereo(tmp_path, clip):
    odd = clip[:, :47, :63]  # odd height and width
    produced = []

    def frames():
        for frame in odd:
            produced.append(1)
            yield frame

    stereo = np.stack([tone(3.0), tone(3.0, freq=660.0)], axis=1)  # [n, 2]
    path = write_mp4(frames(), FPS, tmp_path / "stream.mp4", audio=stereo, sr=SR)
    info = probe(path)
    assert len(produced) == T and info.n_frames == T
    assert (info.width, info.height) == (64, 48)  # padded up to even
    assert info.audio_channels == 2
    assert abs(info.audio_duration_s - info.duration_s) <= 1 / FPS
    decoded = frames_of(path)
    assert np.abs(decoded[:, :47, :63].astype(np.int16) - odd).mean() < 3.0
    # the padding repeats the last column and row rather than adding a black line
    assert np.abs(decoded[:, :47, 63].astype(np.int16) - odd[:, :, 62]).mean() < 6.0
    assert np.abs(decoded[:, 47, :63].astype(np.int16) - odd[:, 46, :]).mean() < 6.0


def test_no_audio_and_unusual_sample_rate(tmp_path, clip):
    silent = probe(write_mp4(clip, FPS, tmp_path / "silent.mp4"))
    assert (silent.audio_codec, silent.audio_duration_s, silent.audio_sr, silent.audio_channels) == (None,) * 4
    assert silent.n_frames == T
    odd_rate = probe(write_mp4(clip, FPS, tmp_path / "odd_sr.mp4", audio=tone(1.0, sr=12345), sr=12345))
    assert odd_rate.audio_codec == "aac" and odd_rate.audio_sr == 48000  # AAC has no 12345 Hz: resampled
    assert abs(odd_rate.audio_duration_s - odd_rate.duration_s) <= 1 / FPS


def test_overwrites_atomically_and_leaves_no_temporary_files(tmp_path, clip):
    target = tmp_path / "same.mp4"
    write_mp4(clip[:5], FPS, target)
    write_mp4(clip, FPS, target, audio=tone(1.0), sr=SR)
    assert probe(target).n_frames == T
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.mp4"]


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((0, H, W, 3), np.uint8), "empty"),
        (iter([]), "no frames"),
        (np.zeros((T, H, W, 3), np.float32), "uint8"),
        (np.zeros((T, H, W), np.uint8), "shape"),
        (np.zeros((T, H, W, 4), np.uint8), "shape"),
        ([np.zeros((H, W, 3), np.uint8), np.zeros((H, W + 2, 3), np.uint8)], "frame 1"),
        ((f for f in [np.zeros((H, W, 3), np.uint8), np.zeros((H, W), np.uint8)]), "frame 1"),
        ("video.mp4", "iterable"),
    ],
)
def test_write_mp4_rejects_bad_frames(tmp_path, frames, message):
    with pytest.raises(VideoError, match=message):
        write_mp4(frames, FPS, tmp_path / "bad.mp4")
    assert list(tmp_path.iterdir()) == []  # no partial output, no leftover temporary folder


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fps": 0}, "fps"),
        ({"fps": float("nan")}, "fps"),
        ({"crf": 0}, "crf"),
        ({"preset": "fastest"}, "preset"),
        ({"audio": tone(1.0), "sr": None}, "sample rate"),
        ({"audio": (tone(1.0) * 32767).astype(np.int16), "sr": SR}, "float"),
        ({"audio": np.zeros((3, 100), np.float32), "sr": SR}, "mono"),
        ({"audio": np.full(100, np.nan, np.float32), "sr": SR}, "NaN"),
    ],
)
def test_write_mp4_rejects_bad_settings(tmp_path, clip, kwargs, message):
    args = {"fps": FPS, **kwargs}
    with pytest.raises(VideoError, match=message):
        write_mp4(clip, args.pop("fps"), tmp_path / "bad.mp4", **args)
    assert list(tmp_path.iterdir()) == []


def test_write_mp4_rejects_missing_folder(tmp_path, clip):
    with pytest.raises(VideoError, match="folder does not exist"):
        write_mp4(clip, FPS, tmp_path / "missing" / "out.mp4")


def test_probe_and_frames_of_reject_non_videos(tmp_path):
    with pytest.raises(VideoError, match="not found"):
        probe(tmp_path / "nothing.mp4")
    wav = tmp_path / "sound.wav"
    soundfile.write(wav, tone(0.5), SR)
    for read in (probe, frames_of):
        with pytest.raises(VideoError, match="no video stream"):
            read(wav)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 10)
    with pytest.raises(VideoError, match="ffmpeg could not"):
        probe(junk)
    with pytest.raises(VideoError, match="ffmpeg could not"):
        frames_of(junk)


# --------------------------------------------------------------------------------------------- side by side


def test_side_by_side_layout_labels_and_halves(clip):
    right = clip[:, ::-1]  # upside down, so the halves differ
    out = side_by_side(clip, right, LABELS, gap=8)
    bar_h = out.shape[1] - H
    assert out.shape == (T, H + bar_h, 2 * W + 8, 3) and out.dtype == np.uint8
    assert 8 <= bar_h <= 40
    np.testing.assert_array_equal(out[:, bar_h:, :W], clip)
    np.testing.assert_array_equal(out[:, bar_h:, W + 8:], right)
    gap = out[:, bar_h:, W:W + 8].reshape(-1, 3)
    assert (gap == gap[0]).all()
    bar = out[0, :bar_h].astype(np.int16)
    background = bar[0, 0]
    for half in (bar[:, :W], bar[:, W + 8:]):  # text drawn in both halves: bright pixels on the dark bar
        assert (np.abs(half - background).max(axis=-1) > 100).sum() >= 10
    assert (out[:, :bar_h] == out[0, :bar_h]).all()  # the same bar on every frame


def test_side_by_side_legible_at_video_size():
    left = np.full((2, 256, 256, 3), 90, np.uint8)
    out = side_by_side(left, left, LABELS)
    bar = out[0, : out.shape[1] - 256].astype(np.int16)
    ink = np.abs(bar - bar[0, 0]).max(axis=-1) > 100  # [bar_h, width] text pixels
    assert out.shape[1] - 256 >= 14  # a bar tall enough for readable text
    assert ink[:, :256].sum() > 50 and ink[:, 264:].sum() > ink[:, :256].sum()  # right label is the longer one
    cols = np.flatnonzero(ink.any(axis=0))
    assert cols.min() > 0 and cols.max() < out.shape[2] - 1  # text keeps clear of the outer edges


def test_side_by_side_resizes_right_to_left_height(clip):
    right = np.repeat(np.repeat(clip, 2, axis=1), 2, axis=2)  # [T, 2H, 2W, 3]
    out = side_by_side(clip, right, LABELS, gap=4)
    bar_h = out.shape[1] - H
    assert out.shape == (T, H + bar_h, W + 4 + W, 3)
    assert np.abs(out[:, bar_h:, W + 4:].astype(np.int16) - clip).mean() < 4.0


@pytest.mark.parametrize(
    ("left", "right", "labels", "message"),
    [
        (np.zeros((5, H, W, 3), np.uint8), np.zeros((6, H, W, 3), np.uint8), LABELS, "same number of frames"),
        (np.zeros((5, H, W, 3), np.float32), np.zeros((5, H, W, 3), np.uint8), LABELS, "uint8"),
        (np.zeros((5, H, W), np.uint8), np.zeros((5, H, W, 3), np.uint8), LABELS, "shape"),
        (np.zeros((5, H, W, 3), np.uint8), np.zeros((5, H, W, 3), np.uint8), ("only one",), "two strings"),
    ],
)
def test_side_by_side_rejects_bad_input(left, right, labels, message):
    with pytest.raises(VideoError, match=message):
        side_by_side(left, right, labels)


def test_side_by_side_then_write(tmp_path, clip):
    out = side_by_side(clip, clip, LABELS)
    info = probe(write_mp4(out, FPS, tmp_path / "ab.mp4", audio=tone(3.0), sr=SR))
    even_h, even_w = out.shape[1] + out.shape[1] % 2, out.shape[2] + out.shape[2] % 2
    assert (info.width, info.height, info.n_frames) == (even_w, even_h, T)


# -------------------------------------------------------------------------------------------- output folders


def _age(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_output_dir_removes_only_old_request_folders(tmp_path):
    old = make_output_dir(tmp_path, max_age_s=3600)
    (old / "video.mp4").write_bytes(b"x")
    young = make_output_dir(tmp_path, max_age_s=3600)
    other = tmp_path / "not-a-request"
    other.mkdir()
    for p in (old, other):
        _age(p, 7200)
    assert old.exists()  # creating `young` did not remove it: it was new then

    new = make_output_dir(tmp_path, max_age_s=3600)
    assert new.is_dir() and new.parent == tmp_path and list(new.iterdir()) == []
    assert not old.exists()
    assert young.is_dir() and other.is_dir()
    assert len({old, young, new}) == 3


def test_output_dir_default_root_and_validation(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # stdlib's temp folder, not our module
    made = make_output_dir()
    assert made.parent == tmp_path / "dancegen-outputs" and made.is_dir()
    assert OutputDir().path() == tmp_path / "dancegen-outputs"
    _age(made, 10)
    assert OutputDir(max_age_s=5).remove_old() == [made]
    with pytest.raises(VideoError, match="max_age_s"):
        make_output_dir(tmp_path, max_age_s=-1)
