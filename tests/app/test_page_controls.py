"""The page's controls declared once and handed to the handlers by name; the ZeroGPU time a run asks for (the
photo's canvas, the music, the output rate); a quota refusal said as what to shorten; a Space's defaults and
banner."""

from __future__ import annotations

import ast
import dataclasses
import sys
import types
from pathlib import Path

import gradio as gr
import PIL.Image
import pytest

from dancegen.app import text as T
from dancegen.app.controls import CONTROLS, Control, Page, names, read_settings
from dancegen.app.gpu_time import fitting_seconds, gpu_request, quota_refusal
from dancegen.app.handlers import DanceApp
from dancegen.app.layout import build_ui
from dancegen.config import GenerationSettings, Mode, ServeConfig

REPO = Path(__file__).resolve().parents[2]
ASTRONAUT = str(REPO / "assets" / "astronaut.png")
APP = REPO / "dancegen" / "app"


def test_a_new_control_needs_one_declaration_to_reach_the_settings_and_the_handlers():
    extra = Control("mode", "video", "Mode", "mode", "choice")  # a settings field the page does not show yet
    controls = (*CONTROLS, extra)
    assert read_settings({"mode": "baseline"}, controls=controls).mode == Mode.BASELINE
    assert read_settings({"mode": "baseline"}).mode == Mode.AB  # undeclared: not read
    page, seen = Page(controls), []
    with gr.Blocks():
        for c in controls:
            page.add(c.name, gr.Textbox(label=c.label))
        page.add("out", gr.Textbox())
    event = page.event(lambda values, request=None: seen.append(values) or {"out": "ok"}, "generate", ("out",))
    assert page.parts["mode"] in event["inputs"]
    assert event["fn"]({page.parts["mode"]: "baseline", page.parts["fps"]: 6}) == {page.parts["out"]: "ok"}
    assert seen == [{"mode": "baseline", "fps": 6}]
    assert "mode" in page.api(lambda values, request=None: {}, "generate", ("out",))["inputs_kwargs"]
    assert "mode" not in page.inputs("dance")  # a video-stage control does not reach the skeleton preview


def test_every_setting_the_page_shows_is_declared_once_and_reaches_the_api_by_name(studio):
    declared = [c.name for c in CONTROLS]
    assert len(declared) == len(set(declared))
    fields = [c.field for c in CONTROLS if c.field is not None and c.read not in ("width", "height")]
    assert len(fields) == len(set(fields)) and set(fields) <= {f.name for f in dataclasses.fields(GenerationSettings)}
    demo = build_ui(studio, ServeConfig())
    api = {fn.api_name: fn for fn in demo.fns.values()}
    for endpoint, kind in (("generate", "generate"), ("skeleton_preview", "dance"), ("face_preview", "face"),
                           ("music_summary", "music")):
        assert list(api[endpoint].input_parameter_names) == list(names(kind)), endpoint
    # no handler of the app takes the controls one by one any more
    for path in APP.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params = {a.arg for a in (*node.args.args, *node.args.kwonlyargs)}
                assert not params & {"offset", "alpha", "fps", "width", "framing"}, (path.name, node.name)


def test_the_gpu_time_follows_the_photos_canvas_the_music_and_the_output_rate(studio, files, tmp_path):
    portrait = tmp_path / "portrait.png"
    PIL.Image.open(ASTRONAUT).convert("RGB").crop((34, 0, 418, 512)).save(portrait)  # 3:4: the portrait canvas
    app = DanceApp(studio, ServeConfig())
    settings = GenerationSettings(seconds=6, fps=8, steps=25)
    square, tall = (app.gpu_seconds(p, None, settings) for p in (ASTRONAUT, str(portrait)))
    assert square < tall == app.gpu_seconds(None, None, settings)  # unknown photo: the largest canvas
    assert app.gpu_seconds(ASTRONAUT, str(files["short"]), settings) < square  # the music ends after 3 s
    between = dataclasses.replace(settings, output_fps=8.0)
    assert app.gpu_seconds(ASTRONAUT, None, between) < square  # no frames interpolated in between


def test_a_quota_refusal_says_how_long_a_dance_fits(studio):
    app = DanceApp(studio, ServeConfig())
    settings = GenerationSettings(seconds=20, fps=8, steps=25)
    request = gpu_request(studio, app.config, None, None, settings)
    error = gr.Error(f"You have exceeded your free GPU quota ({request.seconds}s requested vs. 60s left). Try again "
                     "in 13:02:11.", title="ZeroGPU quota exceeded")
    message = str(quota_refusal(error, request))
    fits = fitting_seconds(request, 60)
    assert f"{request.seconds} s of GPU time" in message and "60 s left" in message and "13:02:11" in message
    assert f"Shorten the dance to {fits:g} s" in message
    assert gpu_request(studio, app.config, None, None, dataclasses.replace(settings, seconds=fits)).seconds <= 60
    assert gpu_request(studio, app.config, None, None, dataclasses.replace(settings, seconds=fits + 1)).seconds > 60
    spent = gr.Error("You have exceeded your GPU quota (60s requested vs. 0s left).", title="ZeroGPU quota exceeded")
    assert T.GPU_QUOTA_WAIT in str(quota_refusal(spent, request))
    too_long = gr.Error("The requested GPU duration (900s) is larger than the maximum allowed",
                        title="ZeroGPU illegal duration")
    assert "shorten the dance" in str(quota_refusal(too_long, request))
    assert quota_refusal(gr.Error("something else"), request) is None


def test_the_page_says_what_to_shorten_when_zerogpu_refuses(studio, files, monkeypatch):
    def GPU(duration):
        def wrap(task):
            def run(*args):
                asked = duration(*args)
                raise gr.Error(f"You have exceeded your free GPU quota ({asked}s requested vs. 60s left). Try again "
                               "in 0:10:00.", title="ZeroGPU quota exceeded")
                yield  # a generator, as spaces' wrapper of one is
            return run
        return wrap

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=GPU))
    app = DanceApp(studio, ServeConfig(zero_gpu=True, space=True))
    app.arm()
    out = app.generate_page(dict(photo=ASTRONAUT, music=str(files["long"]), length=5, steps=25),
                            progress=lambda *a, **k: None)
    assert out["status"].startswith("**Not made:** This run asks ZeroGPU for") and "Shorten the dance" in out["status"]
    assert out["generate"]["interactive"] is True and out["baseline"] is None
    assert "asks ZeroGPU for **" in app.estimate(dict(photo=ASTRONAUT, length=4))["estimate"]


def test_a_space_preselects_a_short_run_and_its_banner_speaks_to_visitors(studio, files):
    app = DanceApp(studio, ServeConfig(space=True, zero_gpu=False))
    assert (app.page_defaults().seconds, app.page_defaults().steps) == (4.0, 20)
    assert app.settings({}).steps == 20 and DanceApp(studio, ServeConfig(space=False)).settings({}).steps is None
    assert "random weights" in app.banner() and "skeleton dance" in app.banner() and "--" not in app.banner()
    assert "--preset" in DanceApp(studio, ServeConfig(space=False)).banner()  # run locally: the studio's own
    demo = build_ui(studio, ServeConfig(space=True, zero_gpu=False))
    sliders = {b.label: b for b in demo.blocks.values() if isinstance(b, gr.Slider)}
    assert sliders[T.LENGTH_LABEL].value == 4.0 and sliders[T.STEPS_LABEL].value == 20
    assert any(getattr(b, "elem_id", None) == "dance" for b in demo.blocks.values())  # tiny: the skeleton shown


def test_the_tiny_presets_result_shows_the_skeleton_dance(studio, files):
    app = DanceApp(studio, ServeConfig())
    app.arm()
    out = app.generate_page(dict(photo=ASTRONAUT, music=str(files["short"]), length=2, fps=4, steps=1, output_fps=4),
                            progress=lambda *a, **k: None)
    assert out["status"].startswith("Done.") and Path(out["dance"]).name == "skeleton.mp4"
    text = app.music_summary_page(dict(music=str(files["silent"])))["music_text"]
    assert text == T.MUSIC_PROBLEM.format(message=text[2:-2]) and "silent" in text
