"""The dance without the video (dancegen.dance): the style setting, planning = the studio's choreography, replay,
kept phrases, a segment taken from a plan, and nothing half written."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile as sf
from support.audio_synth import drums_wav

from dancegen.choreo import STYLES, ChoreographyPlanError
from dancegen.config import STYLE_NAMES, GenerationSettings
from dancegen.dance import DanceDesk, read_plan, segment
from dancegen.errors import OutputError, SettingsError
from dancegen.face import FaceAnalyser
from dancegen.music import MusicLibrary
from dancegen.pose.render import SkeletonInputError

SETTINGS = GenerationSettings(fps=8.0, size=(128, 128), seed=4)


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    return drums_wav(tmp_path_factory.mktemp("song"), "drums.wav", 130, 6.0, 2)


@pytest.fixture(scope="module")
def desk():
    return DanceDesk(FaceAnalyser(), MusicLibrary(60.0))


@pytest.fixture(scope="module")
def planned(desk, song):
    return desk.plan_dance(None, song, SETTINGS)


def test_the_style_setting_takes_the_choreographer_s_styles_only():
    assert STYLE_NAMES == tuple(STYLES)
    assert GenerationSettings().style is None and GenerationSettings(style="korean").style == "korean"
    with pytest.raises(SettingsError, match=r"^style must be one of pop, hiphop, korean, got 'salsa'$"):
        GenerationSettings(style="salsa")


def test_a_planned_dance_is_the_choreographer_s_dance_with_its_metrics(desk, planned, song):
    music = desk.music.analyse(song)
    poses = desk.choreographer(music, 8.0, 4, planned.body, n_frames=48)  # what the studio danced before
    assert planned.poses.shape == (48, 18, 2) and np.array_equal(planned.poses, poses, equal_nan=True)
    assert planned.size == (128, 128) and planned.plan.seed == 4 and planned.plan.music.seconds == 6.0
    assert set(planned.metrics) >= {"beat_alignment", "distinct_moves_per_minute", "fraction_inside"}
    assert planned.metrics["distinct_moves_per_minute"] > 0


def test_a_replay_dances_its_own_stretch_and_kept_phrases_stay(desk, planned, song):
    assert segment(GenerationSettings(), planned.plan) == (0.0, 6.0)
    assert segment(GenerationSettings(seconds=3.0), planned.plan) == (0.0, 3.0)
    again = desk.plan_dance(None, song, dataclasses.replace(SETTINGS, seed=77), plan=planned.plan)
    assert again.plan == planned.plan and again.poses.tobytes() == planned.poses.tobytes()
    k = next(i for i, p in enumerate(planned.plan.phrases) if p.kind == "dance")
    kept = desk.plan_dance(None, song, dataclasses.replace(SETTINGS, seed=77), keep=(planned.plan, [k]))
    assert kept.plan.seed == 77 and kept.plan.phrases[k] == planned.plan.phrases[k]
    with pytest.raises(ChoreographyPlanError, match="made for 6 s of the music from 0 s, not 3 s from 0 s"):
        desk.plan_dance(None, song, dataclasses.replace(SETTINGS, seconds=3.0), plan=planned.plan)


def test_a_plan_file_for_other_music_is_refused_before_any_analysis(planned, tmp_path):
    path = planned.plan.save(tmp_path / "choreography.json")
    other = tmp_path / "other.wav"
    sf.write(other, np.zeros(22050, dtype=np.float32), 22050)
    with pytest.raises(ChoreographyPlanError, match="^this choreography was made for other music"):
        read_plan(path, other)


def test_writing_is_all_or_nothing(desk, planned, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("the user's")
    with pytest.raises(OutputError, match="is a file"):
        desk.write_dance(planned, taken)
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("an earlier run")

    broken = dataclasses.replace(planned, poses=planned.poses[:, :5])  # poses.npy is written, the video fails
    with pytest.raises(SkeletonInputError):
        desk.write_dance(broken, out)
    assert [p.name for p in out.iterdir()] == ["report.json"] and (out / "report.json").read_text() == \
        "an earlier run"
