"""The studio end to end on the tiny preset (CPU): photo + music files -> mp4s checked with a real decoder, the
report, no-face handling, settings, dtype, framing and running out of memory."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image
from support.audio_synth import synth_track
from support.paths import ASSETS, ASTRONAUT

from dancegen.config import GenerationSettings, StudioConfig
from dancegen.errors import NoFaceError, OutOfMemory, SettingsError
from dancegen.io.read import frames_of, probe
from dancegen.pose.render import SkeletonFrames
from dancegen.studio import DanceStudio

FAST = dict(steps=2, fps=8.0, output_fps=8.0)  # no in-between frames (tests/io/test_interpolate.py, below)


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    return DanceStudio(StudioConfig(preset="tiny", output_root=str(tmp_path_factory.mktemp("outputs"))))


@pytest.fixture(scope="module")
def result(studio, drum_music):
    steps = []
    res = studio.generate(ASTRONAUT, drum_music, GenerationSettings(alpha=1.5, id_tokens=3, seconds=3.0, **FAST),
                          progress=steps.append)
    res.progress_steps = steps
    return res


def test_banner_says_untrained_tiny_on_cpu(studio):
    banner = studio.banner()
    assert "tiny" in banner and "untrained" in banner and "CPU" in banner


def test_calibrate_measures_this_machines_rates_with_the_studios_models(tmp_path):
    studio = DanceStudio(StudioConfig(preset="tiny", output_root=str(tmp_path)))  # its own rates
    before = dict(studio.timer.rates)
    rates = studio.calibrate()
    assert list(rates) == ["preparing", "encoding", "denoising", "writing"] and studio.timer.rates == rates
    assert rates["preparing"] == before["preparing"]  # only a real run measures preparing
    assert all(0 < rates[stage] < float("inf") and rates[stage] != before[stage]
               for stage in ("encoding", "denoising", "writing"))


def test_all_videos_are_h264_aac_with_matching_durations(result):
    assert set(result.videos) == {"baseline", "identity", "side_by_side", "skeleton"}
    for name, path in result.videos.items():
        info = probe(path)
        assert (info.video_codec, info.audio_codec, info.pix_fmt) == ("h264", "aac", "yuv420p"), name
        assert info.fps == pytest.approx(8.0) and info.n_frames == 24, name
        assert abs(info.audio_duration_s - info.duration_s) <= 1 / 8, name
    base, both = probe(result.videos["baseline"]), probe(result.videos["side_by_side"])
    assert (base.width, base.height) == (128, 128)
    assert both.width >= 2 * base.width and both.height > base.height  # two halves plus the label bar


def test_report_has_what_a_reviewer_needs(result):
    report = json.loads((result.out_dir / "report.json").read_text())
    assert report == result.report
    for key in ("preset", "device", "alpha", "id_tokens", "seed", "fps", "frames", "seconds", "timings_s"):
        assert key in report
    assert (report["preset"], report["alpha"], report["id_tokens"], report["frames"]) == ("tiny", 1.5, 3, 24)
    assert report["seconds"] == pytest.approx(3.0)
    assert set(report["timings_s"]) == {"face", "music", "choreography", "encoding", "denoising", "decoding",
                                        "muxing", "metrics"}
    assert_every_metric_for_both_videos(report["metrics"], frames=24)
    from dancegen.choreo import STYLES, load_plan

    plan = load_plan(result.out_dir / "choreography.json")  # the plan danced, and its count sheet, beside the videos
    assert report["style"] == plan.style in STYLES and report["music"]["sha256"] == plan.music.sha256
    assert (result.out_dir / "counts.md").read_text().startswith(f"Style: {plan.style}")
    assert report["dance"]["beat_alignment"] is not None and report["dance"]["fraction_inside"] is not None
    stages = [p.stage for p in result.progress_steps]
    assert stages[0] == "preparing" and stages[-1] == "writing" and "encoding" in stages
    denoising = [p for p in result.progress_steps if p.stage == "denoising"]  # 24 frames: 4 windows, 2 steps
    assert [p.done for p in denoising] == list(range(1, 9)) and denoising[-1].total == 8
    assert denoising[0].detail == "step 1/2, window 1/4" and result.progress_steps[-1].fraction == pytest.approx(1)
    assert not list(result.out_dir.glob(".partial-*"))


ROW = {"csim_w600k_mbf", "face_rate_w600k_mbf", "stability_w600k_mbf", "beat_alignment_planned",
       "beat_alignment_generated", "body_rate", "flicker", "still_fraction", "psnr", "ssim", "lpips", "gt_frames",
       "flicker_output"}


def assert_every_metric_for_both_videos(metrics: dict, frames: int) -> None:
    """Every metric is in report.json for both videos: a number, or None with a note saying why."""
    from dancegen.metrics import BASELINE_NOTE

    assert metrics["baseline_note"] == BASELINE_NOTE and metrics["face_models"] == ["w600k_mbf"]
    assert metrics["scored_frames"] == list(range(frames))  # up to 32 frames are scored: all of these
    assert set(metrics["videos"]) == set(metrics["per_frame"]) == {"baseline", "identity"}
    for name, row in metrics["videos"].items():
        assert set(row) == ROW, name
        assert 0.0 <= row["face_rate_w600k_mbf"] <= 1.0  # a rate even when no frame shows a face (tiny: noise)
        assert (row["csim_w600k_mbf"] is None) == (row["face_rate_w600k_mbf"] == 0.0)
        assert 0.0 < row["beat_alignment_planned"] <= 1.0 and row["flicker"] > 0 and 0 < row["still_fraction"] < 1
        per_frame = metrics["per_frame"][name]
        assert len(per_frame["csim_w600k_mbf"]) == frames and len(per_frame["stability_w600k_mbf"]) == frames - 1
        assert row["beat_alignment_generated"] is None and row["body_rate"] is None  # no DWPose here: a note
    assert metrics["videos"]["baseline"]["beat_alignment_planned"] == metrics["videos"]["identity"][
        "beat_alignment_planned"]
    assert any("needs a body keypoint model (DWPose" in note for note in metrics["notes"])


def test_ground_truth_is_compared_frame_by_frame(studio, drum_music, tmp_path, monkeypatch, stand_in_antelopev2):
    """A small request, then the same again with the first run's baseline.mp4 as the ground truth: the baseline
    (the same frames, through H.264) matches it far better than the identity video does, every frame is compared,
    and the videos are the same as without a ground truth. A file that is not a video is refused before any work.
    The second run also has the real path's second face model (a stand-in, see conftest): both judge identity."""
    from dancegen.errors import GroundTruthError

    settings = GenerationSettings(seconds=2.0, steps=1, fps=4.0, output_fps=4.0, size=(64, 64))  # 8 frames
    first = studio.generate(ASTRONAUT, drum_music, settings)
    monkeypatch.setattr(studio, "identity_faces", stand_in_antelopev2)  # the tiny encoder still gets the offline one
    again = studio.generate(ASTRONAUT, drum_music, settings, ground_truth=first.videos["baseline"])
    assert again.report["metrics"]["face_models"] == ["w600k_mbf", "glintr100"]
    rows = again.report["metrics"]["videos"]
    assert {"csim_glintr100", "face_rate_glintr100", "stability_glintr100"} <= set(rows["identity"])
    assert rows["baseline"]["gt_frames"] == rows["identity"]["gt_frames"] == 8
    assert rows["baseline"]["psnr"] > rows["identity"]["psnr"] + 3 and rows["baseline"]["ssim"] > 0.75
    assert rows["baseline"]["ssim"] > rows["identity"]["ssim"] + 0.1
    assert any(note.startswith("LPIPS needs") for note in again.report["metrics"]["notes"]) or rows["baseline"][
        "lpips"] is not None
    np.testing.assert_array_equal(frames_of(again.videos["identity"]), frames_of(first.videos["identity"]))
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(GroundTruthError, match="ground-truth video cannot be used"):
        studio.generate(ASTRONAUT, drum_music, settings, out_dir=tmp_path / "out", ground_truth=tmp_path / "notes.mp4")
    assert not (tmp_path / "out").exists()


def test_baseline_and_identity_differ_and_skeleton_matches_poses(result, studio, drum_music):
    base, ident = frames_of(result.videos["baseline"]), frames_of(result.videos["identity"])
    assert base.shape == ident.shape == (24, 128, 128, 3)
    assert np.abs(base.astype(int) - ident.astype(int)).mean() > 1.0
    skeleton = frames_of(result.videos["skeleton"])
    # drawn at twice the 128 px canvas, so its thin lines stay legible
    assert skeleton.shape == (24, 256, 256, 3) and skeleton.max() > 100 and np.median(skeleton) < 10
    from dancegen.io.photo import load_photo

    image = load_photo(ASTRONAUT)
    body = studio.body_layout(studio.analyse_face(image), image, (128, 128))
    poses = studio.choreograph(studio.analyse_music(drum_music, 0.0, 3.0), body, 8.0, GenerationSettings().seed)
    drawn = SkeletonFrames(poses * 2, 256, 256)[5]  # [256, 256, 3]: what frame 5 should show
    lit, shown = drawn.max(axis=2) > 60, skeleton[5].max(axis=2) > 60
    assert (lit & shown).sum() > 0.5 * lit.sum()  # the same drawing, through H.264


def test_no_face_refused_or_baseline_only(tmp_path, drum_music):
    blank = tmp_path / "wall.png"
    Image.fromarray(np.tile(np.linspace(40, 200, 256, dtype=np.uint8)[:, None, None], (1, 256, 3))).save(blank)
    refusing = DanceStudio(StudioConfig(preset="tiny", output_root=str(tmp_path / "a")))
    with pytest.raises(NoFaceError, match="no face found"):
        refusing.generate(blank, drum_music, GenerationSettings(seconds=2.0, **FAST))
    lenient = DanceStudio(StudioConfig(preset="tiny", on_no_face="baseline", output_root=str(tmp_path / "b")))
    res = lenient.generate(blank, drum_music, GenerationSettings(seconds=2.0, **FAST))
    assert set(res.videos) == {"baseline", "skeleton"} and res.report["mode"] == "baseline"
    assert any("no face" in w for w in res.warnings)


@pytest.mark.parametrize("settings, message", [
    (dict(alpha=-1.0), "alpha"), (dict(id_tokens=9), "identity tokens"), (dict(size=(100, 128)), "multiple of 64"),
    (dict(fps=0.0), "fps"), (dict(mode="both"), "mode"),
])
def test_bad_settings_are_clear_errors(studio, drum_music, settings, message):
    with pytest.raises(SettingsError, match=message):
        studio.generate(ASTRONAUT, drum_music, GenerationSettings(**settings))


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "dancegen", "generate", *map(str, args)], capture_output=True,
                          text=True, timeout=600)


def test_dtype_choice_reaches_the_models_and_the_report(tmp_path, drum_music):
    studio = DanceStudio(StudioConfig(preset="tiny", dtype="bfloat16", output_root=str(tmp_path)))
    assert studio.describe()["dtype"] == "bfloat16"
    assert {p.dtype for p in studio.pipe.unet.parameters()} == {torch.bfloat16}
    res = studio.generate(ASTRONAUT, drum_music, GenerationSettings(seconds=2.0, steps=1, fps=4.0, output_fps=4.0,
                                                                      mode="identity"))
    assert res.report["dtype"] == "bfloat16" and probe(res.videos["identity"]).n_frames == 8
    with pytest.raises(SettingsError, match="dtype must be one of"):
        DanceStudio(StudioConfig(preset="tiny", dtype="int8"))


def test_framing_photo_keeps_the_photo_scale_whole_body_fits_the_frame(studio):
    """The astronaut is a head-and-shoulders photo: at its scale the body runs off the bottom of the frame."""
    from dancegen.io.photo import load_photo
    from dancegen.metrics.motion import fraction_inside
    from dancegen.pose.topology import J

    image = load_photo(ASTRONAUT)
    face = studio.analyse_face(image)
    x0, y0, x1, y1 = np.asarray(face.largest.bbox) * 512 / np.array([*image.size, *image.size])
    photo = studio.body_layout(face, image, (512, 512), "photo")
    whole = studio.body_layout(face, image, (512, 512), "whole_body")
    assert photo.fit_scale == 1.0 and whole.fit_scale < 0.6 and whole.notices
    nose = photo.keypoints[J["Nose"]]
    assert x0 <= nose[0] <= x1 and y0 <= nose[1] <= y1  # the skeleton's head is on the face
    assert photo.head_height > 2 * whole.head_height
    assert fraction_inside(whole.keypoints[None], 512, 512) == 1.0
    assert fraction_inside(photo.keypoints[None], 512, 512) < 0.8
    with pytest.raises(SettingsError, match="framing"):
        studio.skeleton_preview(ASTRONAUT, ASSETS / "sample_music.wav", GenerationSettings(framing="close-up"))


def test_out_of_memory_is_a_clear_error_and_the_next_request_runs(tmp_path, drum_music, monkeypatch):
    """A GPU running out of memory cannot happen here, so the UNet raises torch's own OutOfMemoryError once."""
    studio = DanceStudio(StudioConfig(preset="tiny", output_root=str(tmp_path)))
    calls = []

    def exhausted(*args, **kwargs):
        calls.append(1)
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(studio.pipe.unet, "forward", exhausted)
    settings = GenerationSettings(seconds=2.0, steps=1, fps=4.0, output_fps=4.0)
    with pytest.raises(OutOfMemory, match=r"ran out of memory for 8 frames at 128x128: try a smaller size"):
        studio.generate(ASTRONAUT, drum_music, settings)
    assert calls and not list(tmp_path.rglob("*.mp4"))  # nothing half-written
    monkeypatch.undo()
    assert set(studio.generate(ASTRONAUT, drum_music, settings).videos) >= {"baseline", "identity"}


def test_cpu_offload_hooks_every_model_holds_the_turn_and_keeps_the_frames(studio, tmp_path, drum_music):
    """--cpu-offload: accelerate's offload hooks on every model of the pipeline, run on the studio's device (on the
    CPU their moves are no-ops, but the same hooks run); while a generation denoises, no other request can take the
    pipeline (the hooks move models that every request shares); after the run every model is back in CPU memory,
    and the frames are those of the studio without offload."""
    import threading

    offloaded = DanceStudio(StudioConfig(preset="tiny", cpu_offload=True, output_root=str(tmp_path)))
    names = offloaded.pipe.model_cpu_offload_seq.split("->")
    hooks = {name: getattr(getattr(offloaded.pipe, name), "_hf_hook", None) for name in names}
    assert all(hook is not None and hook.execution_device.type == offloaded.device.type for hook in hooks.values())
    assert not any(hasattr(getattr(studio.pipe, name), "_hf_hook") for name in names)  # without the flag: none
    taken = []

    def another_request_tries(module, args) -> None:  # inside the offloaded run's UNet calls
        def attempt() -> None:
            got = offloaded._pipe_lock.acquire(blocking=False)
            taken.append(got)
            if got:
                offloaded._pipe_lock.release()

        other = threading.Thread(target=attempt)
        other.start()
        other.join()

    settings = GenerationSettings(seconds=2.0, steps=2, fps=4.0)
    watch = offloaded.pipe.unet.register_forward_pre_hook(another_request_tries)
    try:
        with_offload = offloaded.diffuse(offloaded.prepare(ASTRONAUT, drum_music, settings))
    finally:
        watch.remove()
    assert taken and not any(taken)
    for name in names:
        assert {p.device.type for p in getattr(offloaded.pipe, name).parameters()} == {"cpu"}, name
    without = studio.diffuse(studio.prepare(ASTRONAUT, drum_music, settings))
    assert set(with_offload.videos) == set(without.videos) == {"baseline", "identity"}
    for name, frames in without.videos.items():
        assert np.array_equal(with_offload.videos[name], frames), name


def test_a_failure_halfway_through_the_videos_leaves_nothing_behind(tmp_path, drum_music, monkeypatch):
    """The VAE fails on its second chunk, after the first chunk of every video was written: no mp4, no half-made
    request folder, and the next request runs."""
    from diffusers import AutoencoderKLTemporalDecoder

    studio = DanceStudio(StudioConfig(preset="tiny", output_root=str(tmp_path)))
    decode, calls = AutoencoderKLTemporalDecoder.decode, []

    def fails_on_the_second_chunk(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the decoder broke half-way")
        return decode(self, *args, **kwargs)

    monkeypatch.setattr(AutoencoderKLTemporalDecoder, "decode", fails_on_the_second_chunk)  # a library fault
    settings = GenerationSettings(seconds=3.0, steps=1, fps=8.0, output_fps=8.0)  # 24 frames: three chunks of 8
    with pytest.raises(RuntimeError, match="half-way"):
        studio.generate(ASTRONAUT, drum_music, settings, out_dir=tmp_path / "out")
    assert len(calls) == 2 and not list(tmp_path.rglob("*.mp4")) and not list(tmp_path.rglob(".partial-*"))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    monkeypatch.undo()
    result = studio.generate(ASTRONAUT, drum_music, settings, out_dir=tmp_path / "out")
    assert probe(result.videos["side_by_side"]).n_frames == 24


def test_a_three_minute_song_renders_with_a_longer_music_limit(tmp_path):
    """--max-music-s 180: all of a 3-minute song becomes one video (small and fast: 1 fps, one step, 64 x 64)."""
    samples, _, _ = synth_track(124, 181.0, sr=22050, style="drums", seed=4)
    song = tmp_path / "three_minutes.wav"
    sf.write(song, samples, 22050)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "dancegen", "generate", "--photo", str(ASTRONAUT), "--music",
                           str(song), "--out", str(out), "--max-music-s", "180", "--fps", "1", "--output-fps", "1",
                           "--steps", "1", "--size", "64", "64"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    assert report["frames"] == 180 and report["music"]["duration_s"] == pytest.approx(180.0)
    for name in ("baseline", "identity", "side_by_side", "skeleton"):
        info = probe(out / f"{name}.mp4")
        assert info.n_frames == 180 and info.audio_duration_s == pytest.approx(180.0, abs=0.5), name


def test_the_meter_of_a_short_segment_comes_from_the_song_around_it(studio, tmp_path):
    """The first 6 s of a 70 BPM 4/4 click track alone look like 3/4; the song around them says 4/4, and the
    segment's bar starts are the song's (also for a segment starting mid-bar)."""
    from dancegen.music import analyse

    samples, _, downbeats = synth_track(70.0, 20.0, sr=22050, style="clicks", meter=4, seed=0)
    song = tmp_path / "clicks.wav"
    sf.write(song, samples, 22050)
    assert analyse(song, 0.0, 6.0).beats_per_bar == 3  # what a 6 s window alone says
    for offset in (0.0, 7.3):
        segment = studio.analyse_music(song, offset, 6.0)
        assert segment.beats_per_bar == 4 and len(segment.downbeats_s) >= 1
        truth = downbeats - offset
        assert all(np.abs(truth - d).min() < 0.07 for d in segment.downbeats_s), (offset, segment.downbeats_s)


def test_an_output_folder_that_is_a_file_or_cannot_be_made_is_the_users_to_fix(studio, drum_music, tmp_path):
    from dancegen.errors import OutputError

    taken = tmp_path / "taken"
    taken.write_text("the user's")
    settings = GenerationSettings(seconds=2.0, steps=1, fps=4.0, size=(64, 64))
    with pytest.raises(OutputError, match="is a file"):
        studio.generate(ASTRONAUT, drum_music, settings, out_dir=taken)
    with pytest.raises(OutputError, match="cannot write into the output folder /proc/dancegen-out: "):
        studio.generate(ASTRONAUT, drum_music, settings, out_dir="/proc/dancegen-out")
    assert taken.read_text() == "the user's" and [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_a_new_run_into_the_same_folder_removes_only_our_old_files(studio, drum_music, tmp_path):
    """An earlier A/B run's identity and side-by-side videos go when a baseline run moves in; the user's files stay,
    our names as folders too."""
    from dancegen.studio import OUTPUT_FILES

    out = tmp_path / "out"
    out.mkdir()
    for name in OUTPUT_FILES:
        (out / name).write_bytes(b"an earlier run")
    (out / "notes.txt").write_text("mine")
    (out / "baseline.mp4.bak").write_text("mine")
    (out / "old").mkdir()
    settings = GenerationSettings(seconds=2.0, steps=1, fps=4.0, output_fps=4.0, size=(64, 64), mode="baseline")
    result = studio.generate(ASTRONAUT, drum_music, settings, out_dir=out)
    assert {p.name for p in out.iterdir()} == {"baseline.mp4", "skeleton.mp4", "report.json", "choreography.json",
                                               "counts.md", "notes.txt", "baseline.mp4.bak", "old"}
    assert json.loads((out / "choreography.json").read_text())["version"] == 1  # this run's plan, not the old file
    assert probe(result.videos["baseline"]).n_frames == 8 and json.loads((out / "report.json").read_text())
    (out / "identity.mp4").mkdir()  # a folder of the user's under one of our names is not ours
    studio.generate(ASTRONAUT, drum_music, settings, out_dir=out)
    assert (out / "identity.mp4").is_dir()


def test_a_length_over_the_music_limit_is_refused_a_longer_song_is_still_trimmed(tmp_path, drum_music):
    """One range for the length (issue 14): asking for more than max_music_s is a SettingsError naming the flag;
    a song longer than the limit, with no length asked, is trimmed to it with a note."""
    short = DanceStudio(StudioConfig(preset="tiny", max_music_s=3.0, output_root=str(tmp_path)))
    too_long = GenerationSettings(seconds=3.5, steps=1, fps=4.0)
    with pytest.raises(SettingsError, match=r"at most 3, .*--max-music-s\), got 3.5"):
        short.generate(ASTRONAUT, drum_music, too_long)
    with pytest.raises(SettingsError, match="--max-music-s"):
        short.skeleton_preview(ASTRONAUT, drum_music, too_long)
    assert not list(tmp_path.iterdir())
    job = short.prepare(ASTRONAUT, drum_music, GenerationSettings(fps=4.0))  # the 4 s song, no length asked
    assert job.music.duration_s == pytest.approx(3.0) and len(job.skeletons) == 12
    assert any("trimmed" in w for w in job.warnings)
    assert short.prepare(ASTRONAUT, drum_music, GenerationSettings(seconds=3.0, fps=4.0)).music.duration_s == 3.0


def assert_at_the_output_rate_with_the_music(result, fps: float, out_fps: float) -> None:
    """Every video at out_fps with the music's length (+- one output frame) and the audio alongside; the report
    says both rates and both frame counts."""
    report, music_s = result.report, result.report["music"]["duration_s"]
    assert (report["fps"], report["frames"], report["output_fps"]) == (fps, round(music_s * fps), out_fps)
    assert report["output_frames"] == round(music_s * out_fps)
    for name, path in result.videos.items():
        info = probe(path)
        assert info.fps == pytest.approx(out_fps) and info.n_frames == report["output_frames"], name
        assert abs(info.duration_s - music_s) <= 1 / out_fps, name
        assert abs(info.audio_duration_s - info.duration_s) <= 1 / out_fps, name


def test_smooth_videos_keep_the_generated_frames_with_the_music_in_sync(studio, drum_music):
    """8 -> 24 fps: output frame 3k is generated frame k (the same request written at 8 fps; both through H.264,
    so compared with the difference between neighbouring frames), the frames in between are new, and the skeleton
    is drawn at 24 fps; the flicker is measured on the generated frames and on the output."""
    settings = GenerationSettings(seconds=2.0, steps=1, fps=8.0, output_fps=24.0, size=(64, 64))
    smooth = studio.generate(ASTRONAUT, drum_music, settings)
    plain = studio.generate(ASTRONAUT, drum_music, GenerationSettings(**{**vars(settings), "output_fps": 8.0}))
    assert_at_the_output_rate_with_the_music(smooth, 8.0, 24.0)
    n = smooth.report["frames"]
    for name in ("baseline", "identity", "skeleton"):
        shown, made = frames_of(smooth.videos[name]).astype(int), frames_of(plain.videos[name]).astype(int)
        same = np.abs(shown[:3 * n:3] - made).mean(axis=(1, 2, 3))  # [n]
        neighbours = np.abs(shown[3:3 * n:3] - made[:-1]).mean(axis=(1, 2, 3))  # [n - 1]
        assert same.max() < 0.3 * neighbours.min(), name
    shown = frames_of(smooth.videos["baseline"]).astype(int)
    for j in (1, 2, 3 * n - 5, 3 * n - 4):  # in between: neither neighbour
        assert np.abs(shown[j] - shown[j - j % 3]).mean() > 1.0 and np.abs(shown[j] - shown[j - j % 3 + 3]).mean() > 1.0
    skeleton = frames_of(smooth.videos["skeleton"]).astype(int)  # drawn at 24 fps, not repeated
    moved = [np.abs(skeleton[j] - skeleton[j - 1]).mean() > 0.05 for j in range(1, 3 * (n - 1)) if j % 3]
    assert np.mean(moved) > 0.5
    row = smooth.report["metrics"]["videos"]["baseline"]
    assert row["flicker_output"] > 0 and row["flicker"] > 0


def test_other_ratios_keep_the_music_in_sync(studio, drum_music):
    result = studio.generate(ASTRONAUT, drum_music, GenerationSettings(seconds=2.0, steps=1, fps=10.0, output_fps=24.0,
                                                                       size=(64, 64), mode="baseline"))
    assert_at_the_output_rate_with_the_music(result, 10.0, 24.0)
