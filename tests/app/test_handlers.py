"""The app's handlers on the tiny preset, called directly and through the page served in-process (gradio_client,
examples/client.py): previews, generation, Stop, ZeroGPU, and every bad-input and internal-error path."""

from __future__ import annotations

import base64
import json
import pickle
import re
import subprocess
import sys
import types
from pathlib import Path

import gradio as gr
import numpy as np
import PIL.Image
import pytest
from gradio_client import Client, handle_file
from support.app_server import serving

from dancegen.app import text as T
from dancegen.app.handlers import RESULTS, DanceApp
from dancegen.app.layout import build_ui
from dancegen.config import GenerationSettings, ServeConfig, StudioConfig
from dancegen.errors import NO_FACE_MESSAGE
from dancegen.metrics import BASELINE_NOTE
from dancegen.io.read import frames_of, probe
from dancegen.studio import DanceStudio

pytestmark = [  # Gradio's own queue code trips pandas 3 deprecations when it serialises plot data.
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]
REPO = Path(__file__).resolve().parents[2]
ASTRONAUT = REPO / "assets" / "astronaut.png"
GROUP = REPO / "assets" / "group.png"
SR = 22050
FAST = dict(length=3, steps=1, fps=8, output_fps=8)  # 24 frames at 128x128, one denoising step: a few seconds on 2
# cores, written at the generation rate (no in-between frames: tests/io/test_interpolate.py)


class Recorder:
    """Stands in for gr.Progress: records every call (fraction, desc); on_step(step, total) at every denoising
    window's report (its step, parsed from the description)."""

    def __init__(self, on_step=None):
        self.calls: list[tuple] = []
        self.on_step = on_step

    def __call__(self, value, desc=None, total=None, unit="steps"):
        self.calls.append((value, desc))
        if self.on_step is not None and self.steps()[-1:] and desc and "step " in desc:
            self.on_step(*self.steps()[-1])

    def steps(self) -> list[tuple[int, int]]:
        """(step, steps) of every denoising report, in order."""
        found = [re.search(r"step (\d+)/(\d+)", d or "") for _, d in self.calls]
        return [(int(m.group(1)), int(m.group(2))) for m in found if m]


def error_text(excinfo) -> str:
    return str(getattr(excinfo.value, "message", excinfo.value))


@pytest.fixture(scope="module")
def app(studio) -> DanceApp:
    return DanceApp(studio, ServeConfig(default_seconds=3))


# The handlers take the controls by name and return their outputs by name; these call them with the old positional
# order and give the outputs back as tuples, so the checks below read as before.
def face_preview(app, photo, width=None, height=None, page=False) -> tuple:
    out = (app.face_preview_page if page else app.face_preview)(dict(photo=photo, width=width, height=height))
    return out["face_image"], out["face_text"]


def music_summary(app, music, offset=0.0, length=None, page=False) -> tuple:
    out = (app.music_summary_page if page else app.music_summary)(dict(music=music, offset=offset, length=length))
    return out["music_text"], out["music_plot"]


def skeleton_preview(app, photo, music, offset=0.0, length=None, fps=8.0, seed=None, width=None, height=None,
                     framing=None) -> tuple:
    out = app.skeleton_preview(dict(photo=photo, music=music, offset=offset, length=length, fps=fps, seed=seed,
                                    width=width, height=height, framing=framing))
    return out["skeleton"], out["skeleton_text"]


def estimate(app, music, offset=0.0, length=None, fps=8.0, steps=None, width=None, height=None, photo=None) -> str:
    return app.estimate(dict(music=music, offset=offset, length=length, fps=fps, steps=steps, width=width,
                             height=height, photo=photo))["estimate"]


def generate(app, photo, music, progress, **kw) -> tuple:
    """The API's generation -> its six outputs in the API's order."""
    out = app.generate(dict(photo=photo, music=music, **kw), progress=progress)
    return tuple(out[name] for name in RESULTS)


def test_face_preview_one_face(app):
    image, text = face_preview(app, str(ASTRONAUT))
    assert isinstance(image, PIL.Image.Image)
    assert image.width > 512 and image.height >= 512  # the photo with the aligned crop panel beside it
    assert text.startswith("1 face found")


def test_face_preview_shows_the_frame_the_video_will_use(app, tmp_path):
    portrait = tmp_path / "portrait.png"
    PIL.Image.open(ASTRONAUT).convert("RGB").crop((34, 0, 418, 512)).save(portrait)  # 3:4
    image, text = face_preview(app, str(portrait))
    assert "144x256" in text  # the tiny preset's portrait canvas
    assert face_preview(app, str(portrait), "auto", "auto")[1] == text  # the page's menus: auto, the same
    assert image.size == (288 + 224 + 24, 512)  # the 9:16 part of the photo, then the aligned crop's panel
    image, text = face_preview(app, str(portrait), 128, 128)  # a size of one's own: a square part of the photo
    assert "128x128" in text and image.size == (384 + 224 + 24, 384)
    with pytest.raises(gr.Error, match="both the width and the height"):
        face_preview(app, str(portrait), 128, None)


def test_face_preview_several_faces_says_the_largest_is_used(app):
    image, text = face_preview(app, str(GROUP))
    assert image is not None
    assert "3 faces found" in text and "largest" in text


def test_face_preview_no_face_is_a_message_not_an_error(app, files):
    image, text = face_preview(app, str(files["no_face"]))
    assert image is None
    assert text == f"**N{NO_FACE_MESSAGE[1:]}**"


@pytest.mark.parametrize("name, words", [("corrupt_photo", "corrupt or truncated"), ("text_photo", "not an image")])
def test_face_preview_unreadable_photo_raises_gr_error(app, files, name, words):
    with pytest.raises(gr.Error) as excinfo:
        face_preview(app, str(files[name]))
    assert words in error_text(excinfo).lower()
    assert "Traceback" not in error_text(excinfo)


def test_face_preview_accepts_gradio_payloads(app):
    # preprocess=False events receive FileData dicts; webcam captures may arrive as data: URLs
    _, from_dict = face_preview(app, {"path": str(ASTRONAUT), "orig_name": "astronaut.png", "meta": {}})
    url = "data:image/png;base64," + base64.b64encode(ASTRONAUT.read_bytes()).decode()
    _, from_url = face_preview(app, {"path": None, "url": url})
    assert from_dict == from_url == face_preview(app, str(ASTRONAUT))[1]
    assert face_preview(app, None) == (None, T.FACE_HINT)


def test_music_summary_reports_tempo_beats_and_a_plot(app, files):
    text, plot = music_summary(app, str(files["short"]), 0, 3)
    tempo = float(re.search(r"\*\*Tempo\*\* (\d+) BPM", text).group(1))
    beats = int(re.search(r"\*\*Beats\*\* (\d+)", text).group(1))
    assert abs(tempo - 120) <= 3
    assert 5 <= beats <= 7  # synthesised clicks every 0.5 s over 3 s
    assert plot["visible"] is True
    table = plot["value"]
    assert set(table[T.PLOT_CURVE]) == {T.CURVE_ENERGY, T.CURVE_ONSETS, T.CURVE_BEATS}
    spikes = table[(table[T.PLOT_CURVE] == T.CURVE_BEATS) & (table[T.PLOT_LEVEL] > 0)]
    assert len(spikes) == beats  # one spike per beat in the text
    assert table[T.PLOT_TIME].between(0, 3.05).all()


def test_music_summary_without_music_is_a_hint(app):
    text, plot = music_summary(app, None, 0, 3)
    assert text == T.MUSIC_HINT and plot["visible"] is False


@pytest.mark.parametrize("name, words", [("silent", "silent"), ("corrupt_music", "could not decode")])
def test_music_summary_bad_music_raises_gr_error(app, files, name, words):
    with pytest.raises(gr.Error) as excinfo:
        music_summary(app, str(files[name]), 0, 3)
    assert words in error_text(excinfo).lower()


def test_the_music_length_has_the_sliders_range_everywhere(files, tmp_path):
    studio = DanceStudio(StudioConfig(max_music_s=3.0, output_root=str(tmp_path)))
    app = DanceApp(studio)
    assert app.default_seconds() == 3.0  # the preselected length never exceeds the limit
    text, _ = music_summary(app, str(files["long"]), 0, None)  # no length asked: the longest allowed
    assert "**Segment** 3.0 s" in text
    with pytest.raises(gr.Error) as excinfo:  # 5 s asked for through the API: beyond the slider's range
        music_summary(app, str(files["long"]), 0, 5)
    assert "at most 3" in error_text(excinfo) and "--max-music-s" in error_text(excinfo)


def test_music_offset_beyond_the_end_raises_gr_error(app, files):
    with pytest.raises(gr.Error) as excinfo:
        music_summary(app, str(files["short"]), 10, 3)
    assert "beyond the end of the music" in error_text(excinfo)


def test_skeleton_preview_says_what_is_missing(app, files):
    assert skeleton_preview(app, str(ASTRONAUT), None) == (None, T.SKELETON_NEEDS_MUSIC)
    assert skeleton_preview(app, None, str(files["short"])) == (None, T.SKELETON_NEEDS_PHOTO)
    video, text = skeleton_preview(app, str(files["no_face"]), str(files["short"]), 0, 3)
    assert video is None and text.startswith("No skeleton preview: No face found")


def test_skeleton_preview_follows_the_framing(app, files):
    """A head-and-shoulders photo: at the photo's scale the skeleton is bigger and runs off the frame."""
    lit = {}
    for framing in ("whole_body", "photo"):
        video, _ = skeleton_preview(app, str(ASTRONAUT), str(files["short"]), 0, 2, 4, 1, 128, 128, framing)
        first = next(iter(frames_of(video)))  # [H, W, 3]
        lit[framing] = first.max(axis=2) > 60
    cols = {k: np.flatnonzero(v.any(axis=0)) for k, v in lit.items()}
    rows = {k: np.flatnonzero(v.any(axis=1)) for k, v in lit.items()}
    width = {k: c.max() - c.min() for k, c in cols.items()}
    assert width["photo"] > 1.5 * width["whole_body"]  # shoulders as wide as the astronaut's
    assert rows["photo"].min() < rows["whole_body"].min()  # a bigger head reaches higher up the face


def test_skeleton_preview_is_an_mp4_with_the_music(app, files):
    video, text = skeleton_preview(app, str(ASTRONAUT), str(files["short"]), 0, 3, 6, 1, 128, 192)
    info = probe(video)
    assert text == T.SKELETON_READY
    assert (info.width, info.height) == (256, 384) and info.n_frames == 72  # drawn at 2x; 3 s at 24 fps (output)
    assert info.audio_codec == "aac" and abs(info.audio_duration_s - 3.0) < 0.1


def run_generate(app, photo, music, **kw):
    return generate(app, photo, music, Recorder(), **{**FAST, **kw})


@pytest.mark.parametrize("photo, music, kw, words", [
    (None, "short", {}, T.NO_PHOTO),
    ("astronaut", None, {}, T.NO_MUSIC),
    ("no_face", "short", {}, NO_FACE_MESSAGE[1:]),
    ("corrupt_photo", "short", {}, "corrupt or truncated"),
    ("astronaut", "corrupt_music", {}, "could not decode"),
    ("astronaut", "silent", {}, "silent"),
    ("astronaut", "short", {"width": 100, "height": 128}, "size must be a multiple of 64"),
    ("astronaut", "short", {"alpha": 5}, "alpha must be between 0 and 2"),
    ("astronaut", "short", {"id_tokens": 9}, "identity tokens must be between 1 and 4"),
    ("astronaut", "short", {"seed": "lucky"}, "Seed must be a number"),
    ("astronaut", "short", {"framing": "close-up"}, "framing must be one of photo, whole_body"),
])
def test_generate_bad_input_raises_gr_error(app, files, photo, music, kw, words):
    photo_path = {None: None, "astronaut": str(ASTRONAUT)}.get(photo, str(files.get(photo, "")))
    music_path = None if music is None else str(files[music])
    with pytest.raises(gr.Error) as excinfo:
        run_generate(app, photo_path, music_path, **kw)
    message = error_text(excinfo)
    assert words.lower() in message.lower()
    assert message[:1].isupper() and "Traceback" not in message and "Error:" not in message


def test_our_own_bug_is_logged_with_an_id_and_shown_as_ours_and_the_next_run_works(app, files, monkeypatch,
                                                                                     caplog):
    """A ValueError deep inside the pipeline (the VAE decoder) is not the user's fault: the page says it was ours and
    names the id it was logged under, the log holds the traceback, and the app serves the next request."""
    from diffusers import AutoencoderKLTemporalDecoder

    def broken(self, *args, **kwargs):
        raise ValueError("operands could not be broadcast together with shapes (4,) (3,)")

    monkeypatch.setattr(AutoencoderKLTemporalDecoder, "decode", broken)  # a library fault, injected
    with caplog.at_level("ERROR", logger="dancegen"), pytest.raises(gr.Error) as excinfo:
        run_generate(app, str(ASTRONAUT), str(files["short"]))
    message = error_text(excinfo)
    found = re.fullmatch(r"Something went wrong on our side; it was logged as ([0-9a-f]{8})\.", message)
    assert found, message
    logged = [r for r in caplog.records if found.group(1) in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info[0] is ValueError and "broadcast" in str(logged[0].exc_info[1])
    monkeypatch.undo()
    assert run_generate(app, str(ASTRONAUT), str(files["short"]))[0].endswith("baseline.mp4")


PAGE_OUTPUTS = ("baseline", "identity", "download", "similarity_plot", "similarity_text", "notes", "generate", "stop",
                "status", "face_text", "music_text")


def page_outputs(out: dict) -> dict:
    """A page run's outputs by name, those it left as they were as an empty update."""
    assert set(out) <= {*PAGE_OUTPUTS, "dance"}
    return {name: out.get(name, gr.update()) for name in PAGE_OUTPUTS}


def page_generate(app, photo, music, **kw) -> dict:
    """The page's Generate click: arm (buttons), then the run; -> every output of the run by name."""
    app.arm(None)
    return page_outputs(app.generate_page(dict(photo=photo, music=music, **{**FAST, **kw}), progress=Recorder()))


def assert_ready_after_failure(out: dict, message: str, beside: str | None) -> None:
    """After any failure: no results, Generate on, Stop off, the message in the status line and beside its input."""
    results = (out["baseline"], out["identity"], out["download"], out["similarity_text"], out["notes"])
    assert results == (None,) * 3 + ("",) * 2
    assert out["similarity_plot"] == {"__type__": "update", "value": None, "visible": False}
    assert out["generate"]["interactive"] is True and out["stop"]["interactive"] is False
    assert out["status"].startswith("**Not made:**") and message.lower() in out["status"].lower()
    for field in ("face_text", "music_text"):
        if field == beside:
            assert message.lower() in out[field].lower()
        else:
            assert out[field] == {"__type__": "update"}  # left as it was


@pytest.mark.parametrize("photo, music, kw, words, beside", [
    (None, "short", {}, T.NO_PHOTO, "face_text"),
    ("astronaut", None, {}, T.NO_MUSIC, "music_text"),
    ("no_face", "short", {}, NO_FACE_MESSAGE[1:], "face_text"),
    ("text_photo", "short", {}, "not an image", "face_text"),
    ("corrupt_photo", "short", {}, "corrupt or truncated", "face_text"),
    ("astronaut", "corrupt_music", {}, "could not decode", "music_text"),
    ("astronaut", "silent", {}, "silent", "music_text"),
    ("astronaut", "short", {"alpha": 5}, "alpha must be between 0 and 2", None),
    ("astronaut", "short", {"seed": "lucky"}, "Seed must be a number", None),
])
def test_every_failed_page_run_leaves_the_page_ready_with_the_message_in_place(app, files, photo, music, kw,
                                                                              words, beside):
    photo_path = {None: None, "astronaut": str(ASTRONAUT)}.get(photo, str(files.get(photo, "")))
    out = page_generate(app, photo_path, None if music is None else str(files[music]), **kw)
    assert_ready_after_failure(out, words, beside)
    assert app.stops.peek("local") is None  # nothing left armed: Stop now says nothing is running
    # ... and the same tab then makes its videos
    good = page_generate(app, str(ASTRONAUT), str(files["short"]))
    assert good["baseline"].endswith("baseline.mp4") and good["identity"].endswith("identity.mp4")
    assert good["generate"]["interactive"] is True and good["stop"]["interactive"] is False
    assert good["status"].startswith("Done.")


def test_our_own_bug_and_running_out_of_memory_leave_the_page_ready(app, files, monkeypatch):
    from diffusers import AutoencoderKLTemporalDecoder

    import torch

    def broken(self, *args, **kwargs):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(AutoencoderKLTemporalDecoder, "decode", broken)
    assert_ready_after_failure(page_generate(app, str(ASTRONAUT), str(files["short"])),
                               "something went wrong on our side; it was logged as", None)

    def exhausted(self, *args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(AutoencoderKLTemporalDecoder, "decode", exhausted)
    assert_ready_after_failure(page_generate(app, str(ASTRONAUT), str(files["short"])), "ran out of memory", None)


def test_a_page_run_stopped_half_way_leaves_the_page_ready_and_the_next_run_works(app, files):
    stopped = []

    def press_stop(step, total):
        if not stopped:
            stopped.append(app.stop(None))

    app.arm(None)
    out = page_outputs(app.generate_page(dict(photo=str(ASTRONAUT), music=str(files["short"]), **{**FAST, "steps": 4}),
                                         progress=Recorder(on_step=press_stop)))
    assert stopped == [T.STATUS_STOPPING] and out["status"] == T.STATUS_STOPPED and out["notes"] == T.STATUS_STOPPED
    assert out["baseline"] is None and out["generate"]["interactive"] is True and out["stop"]["interactive"] is False
    assert app.stop(None) == T.STATUS_NOTHING_TO_STOP
    assert [b["interactive"] for b in app.buttons_after_stop(None).values()] == [True, False]
    assert page_generate(app, str(ASTRONAUT), str(files["short"]))["status"].startswith("Done.")


def test_stop_with_nothing_running_turns_generate_back_on(app):
    assert app.stop(None) == T.STATUS_NOTHING_TO_STOP
    assert [b["interactive"] for b in app.buttons_after_stop(None).values()] == [True, False]
    app.arm(None)  # Generate clicked: the run waits in the queue, the status line stays as it is
    assert app.idle_status(None) == {}  # left as it was
    app.stops.begin("local")  # its handler started: Stop leaves the buttons to the run, which resets them
    assert app.buttons_after_stop(None) == {}  # left as they were
    app.stops.discard("local")
    assert app.idle_status(None) == {"status": T.STATUS_READY}


def test_stop_of_a_run_that_never_started_makes_the_page_ready_at_once(app, files):
    """Generate armed the page, but the queued run never started (a full queue turned it away): Stop makes the
    page ready again at once; should the run start after all, it ends at once and leaves the page ready."""
    app.arm(None)
    assert app.stop(None) == T.STATUS_STOPPED
    assert [b["interactive"] for b in app.buttons_after_stop(None).values()] == [True, False]
    assert app.idle_status(None) == {"status": T.STATUS_READY}
    late = page_outputs(app.generate_page(dict(photo=str(ASTRONAUT), music=str(files["short"]), **FAST),
                                          progress=Recorder()))
    assert late["status"] == T.STATUS_STOPPED and late["baseline"] is None
    assert late["generate"]["interactive"] is True and late["stop"]["interactive"] is False
    assert app.stop(None) == T.STATUS_NOTHING_TO_STOP


def test_the_page_shows_a_bad_photo_or_music_beside_it_and_the_api_raises(app, files):
    image, text = face_preview(app, page=True, photo=str(files["text_photo"]))
    assert image is None and "not an image" in text
    text, plot = music_summary(app, page=True, music=str(files["silent"]))
    assert "silent" in text and plot["visible"] is False
    with pytest.raises(gr.Error, match="silent"):
        music_summary(app, str(files["silent"]))


def test_the_music_summary_says_how_much_of_a_longer_song_is_used(app, files):
    text, _ = music_summary(app, str(files["long"]), 1.0, 3.0)  # 3 s of the 5 s file, from 1 s
    assert T.MUSIC_USED.format(used="3 s", total="5 s", start="1 s") in text
    whole, _ = music_summary(app, str(files["short"]), 0.0, 6.0)  # all of a 3 s file: nothing to say
    assert "Using" not in whole


def test_the_estimate_uses_this_machines_rates_and_the_music_actually_there(app, files):
    text = estimate(app, str(files["short"]), 0.0, 60.0, 8, 4, 128, 128)  # asks 60 s, the music has 3 s
    assert "24 frames" in text and "4 denoising steps" in text and "about **" in text
    longer = estimate(app, None, 0.0, 12.0, 8, 4, 128, 128)  # no music yet: the chosen length
    assert "96 frames" in longer
    seconds = sum(app.studio.estimate(app.settings(dict(length=12.0, fps=8, steps=4)), 12.0).values())
    assert app.studio.estimate(app.settings(dict(length=12.0, fps=8, steps=8)), 12.0)["denoising"] > 0
    assert sum(app.studio.estimate(app.settings(dict(length=24.0, fps=8, steps=4)), 24.0).values()) > seconds
    assert estimate(app, None, 0.0, 12.0, "x", 4, 128, 128) == ""  # a bad value: nothing to estimate


@pytest.fixture(scope="module")
def generated(app, files):
    progress = Recorder()
    outputs = generate(app, str(ASTRONAUT), {"path": str(files["short"])}, progress, alpha=1.0, id_tokens=2, seed=7,
                       **{**FAST, "steps": 2})
    return outputs, progress


def test_generate_makes_both_videos_with_the_music(generated):
    (baseline, identity, side_by_side, _, _, notes), _ = generated
    for path in (baseline, identity):
        info = probe(path)
        assert (info.width, info.height, info.n_frames) == (128, 128, 24)
        assert info.audio_codec == "aac" and abs(info.audio_duration_s - 3.0) < 0.1
    both = probe(side_by_side)
    assert Path(side_by_side).name == "side_by_side.mp4" and both.width > 256 and both.n_frames == 24
    assert notes.startswith("Made 24 frames (3.0 s at 8 fps, 128x128, denoising steps: 2)")


def test_generate_progress_moves_through_every_stage_with_the_time_left(generated):
    """Every stage reports: reading, encoding, each denoising window of each step, each decoded chunk; the
    fraction only grows, from 0 to 1, and each report says the time elapsed and left."""
    _, progress = generated
    fractions = [v for v, _ in progress.calls]
    descs = [d for _, d in progress.calls]
    assert descs[0] == T.PROGRESS_PREPARING and fractions[0] == 0.0
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    windows = [d for d in descs if "window" in d]
    assert len(windows) == 2 * 4 and windows[0].startswith("Denoising step 1/2, window 1/4")  # 24 frames: 4 windows
    assert sorted(set(progress.steps())) == [(1, 2), (2, 2)]
    assert [d for d in descs if d.startswith(T.STAGES["writing"])][-1].startswith("Writing the videos 24/24 frames")
    assert all(("elapsed" in d and "left" in d) for d in descs[1:])
    assert len(set(fractions)) >= 8  # no long stretch at one value


def test_generate_shows_the_similarity_and_every_metric_of_the_report(generated):
    (baseline, _, _, plot, similarity_text, _), _ = generated
    report = json.loads((Path(baseline).parent / "report.json").read_text())
    assert report["id_tokens"] == 2 and report["alpha"] == 1.0
    rows = report["metrics"]["videos"]
    any_face = any(rows[k]["csim_w600k_mbf"] is not None for k in ("baseline", "identity"))
    assert plot["visible"] is any_face
    if not any_face:  # the untrained tiny preset usually draws no face
        assert similarity_text.startswith(T.NO_FACE_IN_GENERATED) and plot["value"] is None
    lines = similarity_text.splitlines()
    assert "| metric | baseline | identity |" in lines
    flicker = [f"{rows[k]['flicker']:.2f}" for k in ("baseline", "identity")]
    assert f"| Flicker where the dance is still (grey levels) | {flicker[0]} | {flicker[1]} |" in lines
    planned = f"{rows['baseline']['beat_alignment_planned']:.3f}"
    assert f"| Beat alignment of the planned dance | {planned} | {planned} |" in lines
    assert "needs a body keypoint model (DWPose" in similarity_text  # what is not measured, and why
    assert BASELINE_NOTE in T.AB_CAPTION


def test_stop_ends_the_run_between_denoising_steps(app, files):
    stopped = []

    def press_stop(step, total):
        if not stopped:
            stopped.append(app.stop(None))  # the Stop button of the same (here: local) session, at the first window

    progress = Recorder(on_step=press_stop)
    outputs = generate(app, str(ASTRONAUT), str(files["short"]), progress, **{**FAST, "steps": 6})
    assert stopped == [T.STATUS_STOPPING]
    assert outputs[:3] == (None, None, None) and outputs[5] == T.STATUS_STOPPED
    assert max(step for step, _ in progress.steps()) < 6
    assert app.stop(None) == T.STATUS_NOTHING_TO_STOP  # the flag went with the run


def test_stop_while_queued_cancels_before_the_run_starts(app, files):
    assert app.arm(None)["status"] == T.STATUS_QUEUED
    assert app.stop(None) == T.STATUS_STOPPED  # not begun: stopped at once
    progress = Recorder()
    outputs = generate(app, str(ASTRONAUT), str(files["short"]), progress, **FAST)
    assert outputs[5] == T.STATUS_STOPPED and progress.calls == []
    assert app.idle_status(None) == {"status": T.STATUS_READY}  # the flag went with the cancelled run


def test_stop_only_reaches_its_own_session(app):
    other, mine = types.SimpleNamespace(session_hash="other-tab"), types.SimpleNamespace(session_hash="my-tab")
    app.arm(other)
    assert app.stop(mine) == T.STATUS_NOTHING_TO_STOP
    assert app.stops.peek("other-tab").is_set() is False
    app.stops.begin("other-tab")  # its run has started
    assert app.stop(other) == T.STATUS_STOPPING
    app.stops.release("other-tab", app.stops.peek("other-tab"))


def test_zero_gpu_wrapper_gets_a_duration_and_picklable_work(studio, files, monkeypatch):
    """With the `spaces` package (faked here: it only exists on Hugging Face), generation goes through
    spaces.GPU(duration=fn): fn sees the request's settings, and every argument and yielded item crosses a
    process boundary, so all must pickle."""
    requests = []

    def GPU(duration):
        def wrap(task):
            def run(*args):
                requests.append(duration(*args))
                for item in task(*pickle.loads(pickle.dumps(args))):
                    yield pickle.loads(pickle.dumps(item))
            return run
        return wrap

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=GPU))
    app = DanceApp(studio, ServeConfig(zero_gpu=True))
    outputs = generate(app, str(ASTRONAUT), str(files["short"]), Recorder(), length=2, fps=2, steps=1, output_fps=2)
    assert probe(outputs[0]).n_frames == 4 and probe(outputs[1]).n_frames == 4
    asked = app.gpu_seconds(str(ASTRONAUT), str(files["short"]), app.settings(dict(length=2, fps=2, steps=1,
                                                                                   output_fps=2)))
    assert requests == [asked]


def test_gpu_seconds_grow_with_frames_steps_and_size(app):
    def need(**kw):
        return app.gpu_seconds(None, None, GenerationSettings(**kw))

    small = need(seconds=2, fps=8, steps=4, size=(128, 128))
    assert need(seconds=4, fps=8, steps=4, size=(128, 128)) > small
    assert need(seconds=2, fps=8, steps=25, size=(128, 128)) > small
    assert need(seconds=2, fps=8, steps=4, size=(512, 512)) > small
    assert need(seconds=60, fps=30, steps=100, size=(1024, 1024)) == app.config.gpu_s_max


def test_build_ui_queues_one_generation_at_a_time_by_default(studio):
    for concurrency in (1, 3):
        demo = build_ui(studio, ServeConfig(concurrency=concurrency))
        fns = {fn.api_name: fn for fn in demo.fns.values()}
        assert {"face_preview", "music_summary", "skeleton_preview", "generate", "stop"} <= fns.keys()
        assert fns["generate"].concurrency_limit == concurrency and fns["generate"].queue
        assert fns["face_preview"].concurrency_id == fns["music_summary"].concurrency_id == "preview"


@pytest.fixture(scope="module")
def server(studio):
    with serving(studio, ServeConfig(default_seconds=3)) as url:
        yield url


def test_example_client_runs_against_the_app(server):
    cmd = [sys.executable, str(REPO / "examples" / "client.py"), server, str(ASTRONAUT),
           str(REPO / "assets" / "sample_music.wav"), "--seconds", "3", "--steps", "1", "--fps", "4"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    assert lines["face"].startswith("1 face found")
    assert PIL.Image.open(lines["face preview"]).width > 512
    for key in ("baseline", "identity"):
        info = probe(lines[key])
        assert info.n_frames == 72 and info.audio_codec == "aac"  # 3 s made at 4 fps, written at the app's 24
    assert probe(lines["side by side"]).n_frames == 72


def test_api_errors_reach_the_client_as_their_message(server, files):
    client = Client(server, verbose=False)
    with pytest.raises(Exception) as excinfo:
        client.predict(photo=handle_file(str(files["no_face"])), music=handle_file(str(files["short"])),
                       length=3, steps=1, api_name="/generate")
    assert NO_FACE_MESSAGE[1:] in str(excinfo.value)
    with pytest.raises(Exception) as excinfo:
        client.predict(music=handle_file(str(files["silent"])), length=3, api_name="/music_summary")
    assert "silent" in str(excinfo.value)
    text, plot = client.predict(music=handle_file(str(files["short"])), length=3, api_name="/music_summary")
    assert "**Tempo**" in text and plot is not None
    assert client.predict(api_name="/stop") == T.STATUS_NOTHING_TO_STOP
