"""Writing and probing mp4s: every check decodes the written file with the real ffmpeg decoder."""

from __future__ import annotations


import numpy as np
import pytest
import soundfile
from support.media import FPS, SR, H, T, W, decoded_audio, moov_before_mdat, tone

from dancegen.io.read import frames_of, probe
from dancegen.io.video import VideoError, write_mp4


@pytest.mark.parametrize("audio_s", [4.0, 1.0], ids=["audio-longer", "audio-shorter"])
def test_mp4_is_browser_playable_and_audio_matches_video(tmp_path, clip, audio_s):
    path = write_mp4(clip, FPS, tmp_path / "out.mp4", audio=tone(audio_s), sr=SR)
    info = probe(path)
    assert (info.video_codec, info.video_profile, info.pix_fmt) == ("h264", "High", "yuv420p")
    assert (info.audio_codec, info.audio_profile, info.audio_sr, info.audio_channels) == ("aac", "LC", SR, 1)
    assert moov_before_mdat(path) and info.colorspace == "bt709"
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




def test_the_music_stays_in_sync_with_the_frames(tmp_path, clip):
    """A click at 1.000 s is heard at 1.000 s: the AAC encoder's priming samples are marked for the player to skip
    (decoded by ffmpeg's own command-line tool, which applies the mp4 edit list as browsers do)."""
    wave = np.zeros(3 * SR, np.float32)
    wave[SR: SR + 64] = 0.9  # a 3 ms click at exactly 1 s
    path = write_mp4(clip, FPS, tmp_path / "sync.mp4", audio=wave, sr=SR)
    heard = decoded_audio(path)
    onset = np.flatnonzero(np.abs(heard) > 0.3)[0] / SR
    assert onset == pytest.approx(1.0, abs=0.005)
    info = probe(path)
    assert info.audio_duration_s == pytest.approx(info.duration_s, abs=0.005)  # trimmed to the video, exactly


def test_frame_sampler_gives_the_frame_on_screen_at_each_time_resized(tmp_path, clip):
    """20 frames at 8 fps: time t shows frame floor(8 t) until the last frame's display ends at 2.5 s; sampling
    streams through the file (times asked in several calls), and resizing is the photo's Lanczos resize."""
    from PIL import Image

    from dancegen.io.read import FrameSampler

    path = write_mp4(clip, FPS, tmp_path / "truth.mp4")
    decoded = frames_of(path)  # [20, H, W, 3]
    with FrameSampler(path, (W, H)) as sampler:
        first = list(sampler.at([0.0, 0.06, 0.125]))
        later = list(sampler.at([0.3, 1.0, 2.49, 2.6, 3.0]))
    assert len(first) == 3 and len(later) == 3  # 2.6 s is past the end: nothing from there on
    for got, index in zip(first + later, [0, 0, 1, 2, 8, 19]):
        np.testing.assert_array_equal(got, decoded[index])
    with FrameSampler(path, (32, 20)) as small:
        (frame,) = small.at([1.0])
    expected = np.asarray(Image.fromarray(decoded[8]).resize((32, 20), Image.Resampling.LANCZOS))
    np.testing.assert_array_equal(frame, expected)
    with FrameSampler(path) as cut:  # the photo's crop box, given in a picture twice the frame's size
        cut.view((16, 20), box=(2 * 4, -2 * 2, 2 * 20, 2 * 18), box_of=(2 * W, 2 * H))
        (frame,) = cut.at([1.0])
    part = np.zeros((20, 16, 3), np.uint8)  # frame pixels x 4..19, y -2..17: two black rows above the frame
    part[2:] = decoded[8][:18, 4:20]
    np.testing.assert_array_equal(frame, part)
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(VideoError, match="notes.mp4"):
        FrameSampler(tmp_path / "notes.mp4", (W, H))
