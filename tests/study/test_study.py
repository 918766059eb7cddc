"""A tiny study end to end on the CPU (tiny preset): results.csv, summary.md, plots and videos; the shared baseline;
failing inputs recorded while the rest completes; reruns that do no repeated work; a second checkpoint as baseline;
the command line's one-line errors."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import PIL.Image
import pytest
from support.study import CELL, CountedStudio, make_inputs, plan_of
from support.trained import trained_tiny

from dancegen.cli.eval import main as eval_main
from dancegen.config import GenerationSettings, StudioConfig
from dancegen.errors import SettingsError
from dancegen.io.read import frames_of, probe
from dancegen.study.grid import pairs_of
from dancegen.study.runner import Studios, run_study
from dancegen.study.summary import BASELINE_NOTE, SEPARATE_BASELINE_NOTE, SUMMARY, write_summary
from dancegen.study.table import CSIM, FACE_RATE, RESULTS, read_results


def test_the_tiny_grid_gives_the_table_summary_plots_and_videos(study):
    table = read_results(study.folder)
    # 3 photos x 3 songs = 9 pairs, each a baseline and one identity cell (alpha 1); alpha 0 is the baseline
    assert len(table) == 18 and table["key"].is_unique
    made = table[table["status"] == "ok"]
    assert len(made) == 8  # the 2 photos with a face x the 2 good songs, baseline and identity each
    assert set(made["photo"]) == {"person0.png", "person1.png"} and set(made["music"]) == {"song0.wav", "song1.wav"}
    assert sorted(made["role"]) == ["baseline"] * 4 + ["identity"] * 4
    # every metric of the report, the timings, the model, weights and seed are columns
    for column in (CSIM, FACE_RATE, "timings_s.denoising", "wall_s", "preset",
                   "weights", "seed", "steps", "fps", "frames", "label", "device", "dtype"):
        assert column in table.columns, column
    assert set(made["preset"]) == {"tiny"} and set(made["weights"]) == {"random (seed 0)"} and set(made["steps"]) == {1}
    assert set(made["frames"]) == {8} and (made["wall_s"] > 0).all()
    identity = made[made["role"] == "identity"]
    assert set(identity["alpha"]) == {1.0} and set(identity["id_tokens"]) == {4}
    # the videos are kept and play: 8 frames of 64 x 64 with the music
    for video in made["video"]:
        info = probe(study.folder / video)
        assert (info.n_frames, info.width, info.height) == (8, 64, 64) and info.audio_codec == "aac"
    assert (study.folder / "summary.md").is_file()
    for name in ("csim_vs_alpha.png", "csim_per_frame.png"):
        with PIL.Image.open(study.folder / "plots" / name) as im:
            assert im.format == "PNG" and im.width > 300
    summary = (study.folder / SUMMARY).read_text()
    assert BASELINE_NOTE in summary
    assert "alpha 1, all tokens" in summary and "n too small (4 pairs; 6 needed)" in summary
    assert "seed 23123134" in summary and "steps 1" in summary and "tiny preset" in summary
    assert "8 made, 10 failed" in summary


def test_a_pair_makes_its_baseline_once_with_the_same_poses(study):
    modes = [str(s.mode) for s in study.calls]
    assert modes.count("baseline") == 9 and modes.count("identity") == 4  # failing baselines stop their pair
    # baseline and identity of a pair follow the same dance (same seed): their skeleton videos are the same frames
    table = read_results(study.folder)
    made = table[table["status"] == "ok"]
    for pair, rows in made.groupby("pair"):
        skeletons = [np.stack(list(frames_of(study.folder / folder / "skeleton.mp4"))) for folder in rows["folder"]]
        assert len(skeletons) == 2 and np.array_equal(skeletons[0], skeletons[1]), pair


def test_failing_inputs_are_recorded_with_their_message_and_the_rest_complete(study):
    table = read_results(study.folder)
    failed = table[table["status"] == "failed"]
    assert len(failed) == 10 and set(failed["failure"]) == {"input"}
    wall = failed[failed["photo"] == "wall.png"]
    assert len(wall) == 6 and wall["error"].str.contains("no face found").all()
    broken = failed[(failed["music"] == "broken.wav") & (failed["photo"] != "wall.png")]
    assert len(broken) == 4 and broken["error"].str.contains("could not decode broken.wav").all()
    identity = failed[failed["role"] == "identity"]
    assert identity["error"].str.startswith("its baseline could not be made: ").all()
    summary = (study.folder / SUMMARY).read_text()
    assert "could not decode broken.wav" in summary and "no face found in the reference photo" in summary


def test_a_rerun_makes_nothing_again_and_loads_no_model(study, tmp_path):
    """Every cell is settled (made, or refused for its input): the rerun calls no generate and loads no studio
    (these Studios would fail to load one: their weights folder does not exist), and results.csv keeps one row per
    cell."""
    before = read_results(study.folder)
    lines: list[str] = []
    nowhere = StudioConfig(preset="stableanimator", weights_dir=str(tmp_path / "no-weights"))
    outcome = run_study(study.plan, study.folder, Studios(nowhere), log=lines.append)
    assert (outcome.made, outcome.failed, outcome.skipped, outcome.missing) == (0, 0, 18, [])
    assert lines == []
    after = read_results(study.folder)
    pd.testing.assert_frame_equal(before, after)


def test_cells_are_known_by_their_contents_not_their_names(study, inputs, studio, tmp_path):
    """The same photos and songs under other names are the same cells: nothing is made again."""
    photos, music = tmp_path / "photos", tmp_path / "music"
    shutil.copytree(inputs[0], photos)
    shutil.copytree(inputs[1], music)
    for path in [*photos.iterdir(), *music.iterdir()]:
        path.rename(path.with_name("renamed-" + path.name))
    outcome = run_study(plan_of(photos, music, studio), study.folder, Studios(StudioConfig(weights_dir="/nowhere",
                                                                                         preset="stableanimator")))
    assert (outcome.made, outcome.failed, outcome.skipped, outcome.missing) == (0, 0, 18, [])


def test_a_deleted_video_is_made_again_and_only_it(study, studio, monkeypatch, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(study.folder, folder)
    table = read_results(folder)
    victim = table[(table["status"] == "ok") & (table["role"] == "identity")].iloc[0]
    (folder / victim["video"]).unlink()
    counted = CountedStudio(studio, monkeypatch)
    outcome = run_study(study.plan, folder, Studios.of(studio))
    assert (outcome.made, outcome.failed) == (1, 0) and len(counted.calls) == 1
    assert counted.calls[0].alpha == victim["alpha"] and str(counted.calls[0].mode) == "identity"
    again = read_results(folder)
    assert len(again) == 18 and again["key"].is_unique and (folder / victim["video"]).is_file()
    redone = again.set_index("key").loc[victim["key"]]
    assert redone["finished"] >= victim["finished"] and redone["status"] == "ok"


def test_the_folder_holds_one_study(study, studio):
    """Other shared settings in the same folder are refused (a second study goes in another folder)."""
    from dancegen.errors import UserError
    from dancegen.study.grid import make_plan

    other = GenerationSettings(**{**CELL, "steps": 2})
    plan = make_plan(study.plan.photos, study.plan.music, (0.0, 1.0), (None,), other, studio.config)
    with pytest.raises(UserError, match="steps 2 here, 1 there"):
        run_study(plan, study.folder, Studios.of(studio))


def test_a_second_checkpoint_makes_the_baselines(tmp_path, studio, monkeypatch):
    """With a baseline checkpoint the baselines come from its studio (here a second tiny studio with other random
    weights stands in for it), once per pair; alpha 0 is then an identity cell of the main model."""
    from dancegen.studio import DanceStudio

    photos, music = make_inputs(tmp_path, faces=1, songs=1, failing=False)
    second = DanceStudio(StudioConfig(progress_bar=False, tiny_seed=1))
    plan = plan_of(photos, music, studio, baseline=second.config)
    main_calls, base_calls = CountedStudio(studio, monkeypatch), CountedStudio(second, monkeypatch)
    folder = tmp_path / "study"
    outcome = run_study(plan, folder, Studios.of(studio, second), summarise=lambda f: write_summary(f, plots=False))
    assert (outcome.made, outcome.failed) == (3, 0)
    assert base_calls.modes() == {"baseline": 1}
    assert main_calls.modes() == {"identity": 2} and sorted(s.alpha for s in main_calls.calls) == [0.0, 1.0]
    table = read_results(folder)
    baseline = table[table["role"] == "baseline"].iloc[0]
    identity0 = table[(table["role"] == "identity") & (table["alpha"] == 0.0)].iloc[0]
    b = np.stack(list(frames_of(folder / baseline["video"])))
    a0 = np.stack(list(frames_of(folder / identity0["video"])))
    assert np.abs(b.astype(int) - a0.astype(int)).mean() > 1  # other weights, other pictures
    summary = (folder / SUMMARY).read_text()
    assert SEPARATE_BASELINE_NOTE.split("(")[0] in summary and BASELINE_NOTE not in summary


def run_eval(capsys, *args) -> tuple[int, str]:
    """``dancegen eval ARGS`` in this process -> (status, stderr)."""
    status = eval_main([str(a) for a in args])
    return status, capsys.readouterr().err


@pytest.mark.parametrize("case", ["bad alpha", "bad tokens", "too many tokens", "no photos", "not numbers",
                                  "tiny baseline weights", "summarise nothing"])
def test_eval_bad_input_is_one_line_and_status_2(tmp_path, capsys, case):
    photos, music = make_inputs(tmp_path, faces=1, songs=1, failing=False)
    args = ["--photos", photos, "--music", music, "--out", tmp_path / "out"]
    extra = {"bad alpha": ["--alphas", "0,2.5"], "bad tokens": ["--id-tokens", "0"],
             "too many tokens": ["--id-tokens", "1,99"],
             "no photos": ["--photos", tmp_path / "music"], "not numbers": ["--alphas", "one,two"],
             "tiny baseline weights": ["--baseline-weights", tmp_path],
             "summarise nothing": ["--summarise", tmp_path]}[case]
    status, err = run_eval(capsys, *args, *extra)
    assert status == 2, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_summarise_writes_the_summary_again(study, tmp_path, capsys):
    folder = tmp_path / "copy"
    shutil.copytree(study.folder, folder)
    (folder / SUMMARY).unlink()
    status, err = run_eval(capsys, "--summarise", folder)
    assert status == 0, err
    assert BASELINE_NOTE in (folder / SUMMARY).read_text()
    assert (folder / RESULTS).is_file() and len(pairs_of(study.plan)) == 9


def test_a_trained_folder_is_named_by_its_weights_and_can_be_a_tiny_baseline(tmp_path):
    """Weights trained again into the same folder are another model (finished cells of the old one are not taken
    for the new one's); a tiny study may take a trained folder as its baseline checkpoint, but not any folder."""
    from dancegen.study.grid import make_plan, model_identity

    folder, _ = trained_tiny(tmp_path / "a")
    config = StudioConfig(progress_bar=False, weights_dir=str(folder))
    first = model_identity(config)
    again, _ = trained_tiny(tmp_path / "b", seed=1)
    shutil.rmtree(folder)
    shutil.copytree(again, folder)  # trained again into the same folder
    assert model_identity(config)["weights"] == first["weights"] and model_identity(config) != first

    photos, music = make_inputs(tmp_path, faces=1, songs=1, failing=False)
    args = ([photos / "person0.png"], [music / "song0.wav"], (0.0, 1.0), (None,), GenerationSettings(**CELL))
    plan = make_plan(*args, StudioConfig(progress_bar=False), baseline=config)
    assert plan.separate_baseline and plan.baseline_model["trained"] is not None
    with pytest.raises(SettingsError, match="folder written by dancegen train"):
        make_plan(*args, StudioConfig(progress_bar=False),
                  baseline=StudioConfig(progress_bar=False, weights_dir=str(tmp_path)))
