"""One set of settings: every flag, environment variable, dataclass default and app control agrees."""

from __future__ import annotations

import dataclasses
import enum

import gradio as gr
import pytest

from dancegen import config
from dancegen.app import text as T
from dancegen.app.handlers import DanceApp
from dancegen.app.layout import build_ui
from dancegen.app.serve import build_parser as app_parser
from dancegen.cli.generate import build_parser as generate_parser
from dancegen.config import GenerationSettings, ServeConfig, StudioConfig, add_arguments, flag_of, from_arguments, spec
from dancegen.errors import SettingsError
from dancegen.studio import DanceStudio

REQUIRED = ["--photo", "p.png", "--music", "m.wav", "--out", "o"]


def plain(value):
    return value.value if isinstance(value, enum.Enum) else value


@pytest.fixture()
def no_env(monkeypatch):
    for cls in (StudioConfig, ServeConfig, GenerationSettings):
        for f in dataclasses.fields(cls):
            if spec(cls, f.name).env:
                monkeypatch.delenv(spec(cls, f.name).env, raising=False)


def test_every_setting_has_the_same_default_in_the_app_the_cli_and_the_api(no_env):
    app = vars(app_parser().parse_args([]))
    cli = vars(generate_parser().parse_args(REQUIRED))
    checked = 0
    for cls, parsers in ((StudioConfig, (app, cli)), (ServeConfig, (app,)), (GenerationSettings, (cli,))):
        for f in dataclasses.fields(cls):  # the declared defaults (output_fps: None, resolved when made, below)
            if flag_of(f) is None:
                continue
            for parsed in parsers:
                assert plain(parsed[f.name]) == plain(f.default), (cls.__name__, f.name)
                checked += 1
    assert checked >= 30
    # and the parsed flags give back the defaults
    assert from_arguments(StudioConfig, app_parser().parse_args([])) == StudioConfig()
    assert from_arguments(GenerationSettings, generate_parser().parse_args(REQUIRED)) == GenerationSettings()


def test_environment_variables_set_the_defaults_of_both_command_lines(no_env, monkeypatch):
    monkeypatch.setenv("DANCEGEN_MAX_MUSIC_S", "180")
    monkeypatch.setenv("DANCEGEN_CPU_OFFLOAD", "yes")
    monkeypatch.setenv("DANCEGEN_NO_FACE", "baseline")
    for parsed in (app_parser().parse_args([]), generate_parser().parse_args(REQUIRED)):
        studio = from_arguments(StudioConfig, parsed)
        assert studio.max_music_s == 180.0 and studio.cpu_offload and studio.on_no_face == config.NoFace.BASELINE
    assert generate_parser().parse_args([*REQUIRED, "--max-music-s", "30"]).max_music_s == 30.0  # flags win
    monkeypatch.setenv("DANCEGEN_CONCURRENCY", "two")
    with pytest.raises(SettingsError, match="DANCEGEN_CONCURRENCY cannot be 'two'"):
        app_parser()


@pytest.mark.parametrize("cls, values, message", [
    (GenerationSettings, dict(alpha=2.5), "alpha must be between 0 and 2, got 2.5"),
    (GenerationSettings, dict(fps=0), "fps must be between 1 and 30, got 0"),
    (GenerationSettings, dict(output_fps=0), "output fps must be between 1 and 60, got 0"),
    (GenerationSettings, dict(output_fps=-24), "output fps must be between 1 and 60, got -24"),
    (GenerationSettings, dict(fps=12, output_fps=10), "output fps must be at least fps (12, the rate the frames are "
                                                      "generated at), got 10"),
    (GenerationSettings, dict(size=(96, 64)), "size must be a multiple of 64, got 96"),
    (GenerationSettings, dict(size=(64,)), "size must be 2 numbers"),
    (GenerationSettings, dict(steps=2.5), "steps must be a whole number"),
    (GenerationSettings, dict(mode="both"), "mode must be one of ab, identity, baseline, got 'both'"),
    (GenerationSettings, dict(seconds=1.0), "seconds must be at least 2, got 1"),
    (GenerationSettings, dict(music_offset_s=float("nan")), "offset must be a finite number"),
    (StudioConfig, dict(unet_batch_size=0), "unet batch must be at least 1, got 0"),
    (StudioConfig, dict(preset="huge"), "preset must be one of tiny, stableanimator, got 'huge'"),
    (ServeConfig, dict(concurrency=0), "concurrency must be at least 1, got 0"),
])
def test_bad_values_are_one_line_settings_errors(cls, values, message):
    with pytest.raises(SettingsError) as info:
        cls(**values)
    assert str(info.value) == message or str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_the_output_rate_is_24_fps_unless_asked_and_never_below_the_generation_rate():
    assert GenerationSettings().output_fps == 24.0 and GenerationSettings(fps=12).output_fps == 24.0
    assert GenerationSettings(fps=30).output_fps == 30.0  # a faster generation is not slowed down
    assert GenerationSettings(fps=8, output_fps=8).output_fps == 8.0  # no in-between frames


def test_values_are_coerced_to_their_types():
    s = GenerationSettings(mode="identity", framing="whole_body", size=[128, 64], fps=12, alpha=1)
    assert s.mode is config.Mode.IDENTITY and s.framing is config.Framing.WHOLE_BODY
    assert s.size == (128, 64) and isinstance(s.fps, float) and isinstance(s.alpha, float)


def test_the_app_controls_use_the_ranges_and_defaults_of_the_settings(tmp_path):
    studio = DanceStudio(StudioConfig(output_root=str(tmp_path)))
    demo = build_ui(studio, ServeConfig())
    sliders = {b.label: b for b in demo.blocks.values() if isinstance(b, gr.Slider)}
    defaults = GenerationSettings()
    for name, label in (("alpha", T.ALPHA_LABEL), ("fps", T.FPS_LABEL), ("steps", T.STEPS_LABEL),
                        ("guidance", T.GUIDANCE_LABEL), ("output_fps", T.OUTPUT_FPS_LABEL)):
        s = spec(GenerationSettings, name)
        assert (sliders[label].minimum, sliders[label].maximum, sliders[label].step) == (s.low, s.high, s.step), name
    assert sliders[T.ALPHA_LABEL].value == defaults.alpha and sliders[T.FPS_LABEL].value == defaults.fps
    assert sliders[T.OUTPUT_FPS_LABEL].value == defaults.output_fps == 24
    # the size menus: "auto" (the photo's shape, the default), then every size the setting allows
    s = spec(GenerationSettings, "size")
    menus = {b.label: b for b in demo.blocks.values() if isinstance(b, gr.Dropdown)}
    for label in (T.WIDTH_LABEL, T.HEIGHT_LABEL):
        values = [value for _, value in menus[label].choices]
        assert menus[label].value == values[0] == "auto"
        assert [int(v) for v in values[1:]] == list(range(int(s.low), int(s.high) + 1, int(s.step)))
    # a request with no values set is the default request (the photo's shape and the app's preselected length)
    app = DanceApp(studio, ServeConfig())
    expected = dataclasses.replace(defaults, seconds=app.default_seconds())
    assert app.settings({}) == expected == app.settings({"width": "auto", "height": "auto"})


def test_a_dataclass_field_without_a_flag_is_not_on_the_command_line():
    import argparse

    p = argparse.ArgumentParser()
    add_arguments(p, StudioConfig)
    flags = {a.dest for a in p._actions}
    assert "output_root" not in flags and "tiny_seed" not in flags and "weights_dir" in flags


def test_check_seconds_allows_up_to_the_music_limit_and_names_the_flag():
    config.check_seconds(config.GenerationSettings(), 60.0)  # no length asked: the song, trimmed to the limit
    config.check_seconds(config.GenerationSettings(seconds=60.0), 60.0)
    with pytest.raises(config.SettingsError, match=r"^seconds must be at most 60, the longest music allowed "
                                                   r"\(raise it with --max-music-s\), got 60.5$"):
        config.check_seconds(config.GenerationSettings(seconds=60.5), 60.0)
