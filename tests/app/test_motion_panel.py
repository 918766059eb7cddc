"""The motion upload on the tiny preset, handlers called directly: a .zip of OpenPose JSON and a poses.npy reach the
skeleton preview (with the source skeleton beside the fitted one), the choreography panel (a motion plan: its
stretches in the table, choreography.json down and up again) and Generate; a video's own sound can be the music;
every bad motion file is its one line beside the upload, with nothing written and the page ready."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from support.motion import dance_video, dancer, write_openpose

from dancegen.app import text as T
from dancegen.app.choreography import PANEL_OUTPUTS, ChoreographyPanel
from dancegen.app.handlers import DanceApp
from dancegen.app.layout import build_ui
from dancegen.choreo import DancePlan
from dancegen.config import ServeConfig
from dancegen.io.read import probe

pytestmark = [  # Gradio's own queue code trips pandas 3 deprecations when it serialises plot data.
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]
REPO = Path(__file__).resolve().parents[2]
ASTRONAUT = str(REPO / "assets" / "astronaut.png")
TINY = dict(width="64", height="64", fps=4, length=2, steps=1, output_fps=4, seed=3, framing="photo")


def no_progress(*args, **kwargs) -> None:
    pass


@pytest.fixture(scope="module")
def motions(tmp_path_factory) -> dict[str, Path]:
    """A 2 s dancer (30 fps) as poses.npy and as a .zip of OpenPose files, and the bad motion files."""
    d = tmp_path_factory.mktemp("motions")
    truth = dancer(60, head=15.0, travel=20.0)  # [60, 18, 2]
    np.save(d / "poses.npy", truth.astype(np.float32))
    folder = write_openpose(d / "openpose", [[p] for p in truth])
    with zipfile.ZipFile(d / "openpose.zip", "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    with zipfile.ZipFile(d / "nojson.zip", "w") as z:
        z.writestr("readme.txt", "no frames here")
    with zipfile.ZipFile(d / "badjson.zip", "w") as z:
        z.writestr("clip_000000000000_keypoints.json", "[1, 2")
    np.save(d / "wrong.npy", np.zeros((5, 18), np.float32))
    (d / "broken.mp4").write_bytes(b"\x00" * 64)
    dance_video(d / "dance.mp4", 2.0)  # a video with sound: the tiny studio has no DWPose to read it
    return {p.name: p for p in d.iterdir() if p.is_file()}


@pytest.fixture(scope="module")
def app(studio) -> DanceApp:
    return DanceApp(studio, ServeConfig())


@pytest.fixture(scope="module")
def panel(app) -> ChoreographyPanel:
    return ChoreographyPanel(app)


def inputs(files, motion, music="short", **extra) -> dict:
    return dict(photo=ASTRONAUT, music=None if music is None else str(files[music]),
                motion=None if motion is None else str(motion), **TINY, **extra)


def shown(update) -> str | None:
    """The path a video's update shows (None: hidden)."""
    return update["value"] if update.get("visible") else None


@pytest.fixture(scope="module")
def planned(panel, files, motions) -> dict:
    """"Plan the dance" with the OpenPose zip as the motion."""
    return panel.plan({**inputs(files, motions["openpose.zip"]), "plan": None, "table": None})


def test_a_zip_of_openpose_json_reaches_the_summary_and_the_preview_beside_its_source(app, files, motions):
    text = app.motion_summary_page(inputs(files, motions["openpose.zip"]))["motion_text"]
    assert "openpose.zip" in text and "60 frames at 30 fps (2.0 s)" in text
    assert "25 fps" in app.motion_summary_page(inputs(files, motions["openpose.zip"], motion_fps=25))["motion_text"]
    out = app.skeleton_preview(inputs(files, motions["openpose.zip"]))
    assert out["skeleton_text"] == T.SKELETON_MOTION
    source = shown(out["motion_source"])
    assert Path(source).name == "motion_source.mp4" and Path(source).parent == Path(out["skeleton"]).parent
    assert probe(source).n_frames == 8  # 2 s of the song at 4 fps, the source beside the fitted skeleton
    plan = json.loads((Path(source).parent / "choreography.json").read_text())
    assert plan["version"] == 2 and plan["motion"]["source"]["name"] == "openpose.zip"
    plain = app.skeleton_preview(inputs(files, None))  # no motion: planned moves, nothing beside them
    assert plain["skeleton_text"] == T.SKELETON_READY and shown(plain["motion_source"]) is None


def test_plan_shows_the_motions_stretches_and_its_file_goes_down_and_up_again(panel, planned, files, motions):
    plan = planned["plan"]
    assert isinstance(plan, DancePlan) and plan.motion is not None and plan.phrases == ()
    assert "openpose.zip" in planned["plan_text"] and T.PLAN_TIMINGS["beats"] in planned["plan_text"]
    rows = planned["table"]
    assert len(rows) == len(plan.motion.segments) >= 1
    assert all(r[2] == T.PLAN_MOTION_ROW and r[3].startswith("openpose.zip ") and r[4] is False for r in rows)
    assert shown(planned["motion_source"]) is not None
    document = json.loads(Path(planned["plan_file"]).read_text())
    assert document["version"] == 2 and document["phrases"] == [] and document["motion"]["segments"]

    # the table's cells cannot change a motion plan; a tick alone changes nothing
    edited = [list(r) for r in rows]
    edited[0][3] = "step_touch x4"
    out = panel.edit({**inputs(files, motions["openpose.zip"]), "plan": plan, "table": edited})
    fixed = T.PLAN_NOT_CHANGED.format(message=T.PLAN_MOTION_FIXED[0].upper() + T.PLAN_MOTION_FIXED[1:])
    assert out["plan_text"] == fixed and out["table"] == rows and "plan" not in out
    assert panel.put_move({**inputs(files, motions["openpose.zip"]), "plan": plan, "table": rows, "move": "clap",
                           "phrase_number": 1})["plan_text"] == fixed
    assert panel.edit({**inputs(files, motions["openpose.zip"]), "plan": plan, "table": rows}) == {}

    upload = dict(plan=None, table=None, plan_upload=planned["plan_file"])
    refused = panel.upload({**inputs(files, None), **upload})
    assert refused["plan_text"] == T.PLAN_NOT_LOADED.format(
        message="This choreography dances the motion file openpose.zip: upload it as the motion first")
    assert "plan" not in refused
    other = panel.upload({**inputs(files, motions["poses.npy"]), **upload})
    assert "another motion file" in other["plan_text"] and "plan" not in other
    loaded = panel.upload({**inputs(files, motions["openpose.zip"]), **upload})
    assert loaded["plan"] == plan and loaded["table"] == rows and "Loaded the plan of the motion file" in \
        loaded["plan_text"]
    assert np.array_equal(np.load(Path(loaded["skeleton"]).parent / "poses.npy"),
                          np.load(Path(planned["skeleton"]).parent / "poses.npy"))


def test_the_plan_shown_follows_the_motion_and_is_dropped_for_another(panel, planned, files, motions):
    same = panel.follow({**inputs(files, motions["openpose.zip"]), "plan": planned["plan"]})
    assert set(same) == {"skeleton", "skeleton_text", "motion_source"} and same["skeleton_text"] == T.SKELETON_MOTION
    for motion in (motions["poses.npy"], None):
        out = panel.follow({**inputs(files, motion), "plan": planned["plan"]})
        assert out["plan"] is None and out["table"] == [] and out["plan_text"] == T.PLAN_FORGOTTEN_MOTION


def test_generate_dances_a_pose_array_and_the_api_takes_the_motion_by_name(app, files, motions):
    app.arm()
    out = app.generate_page({**inputs(files, motions["poses.npy"]), "plan": None}, progress=no_progress)
    assert out["status"].startswith("Done."), out["status"]
    folder = Path(out["baseline"]).parent
    assert (folder / "motion_source.mp4").is_file()
    report = json.loads((folder / "report.json").read_text())
    assert report["motion"]["name"] == "poses.npy" and report["motion"]["timing"] == "beats"
    assert json.loads((folder / "choreography.json").read_text())["version"] == 2
    assert probe(out["dance"]).n_frames == 8
    api = app.generate({**inputs(files, motions["openpose.zip"]), "motion": {"path": str(motions["openpose.zip"])}},
                       progress=no_progress)  # the API hands over Gradio's file data, unprocessed
    report = json.loads((Path(api["baseline"]).parent / "report.json").read_text())
    assert report["motion"]["name"] == "openpose.zip" and report["motion"]["kind"] == "openpose"


def test_the_motion_reaches_the_endpoints_by_its_declaration(studio):
    demo = build_ui(studio, ServeConfig())
    api = {fn.api_name: list(fn.input_parameter_names) for fn in demo.fns.values() if fn.api_name}
    for endpoint in ("generate", "skeleton_preview", "music_summary"):  # a dance video's sound can be the music
        assert "motion" in api[endpoint], endpoint
    assert "motion_fps" in api["generate"] and "motion_fps" in api["skeleton_preview"]
    assert "motion" not in api["face_preview"] and "motion_fps" not in api["music_summary"]
    optional = {p["parameter_name"]: p["parameter_has_default"]
                for p in demo.get_api_info()["named_endpoints"]["/generate"]["parameters"]}
    assert optional["motion"] and optional["motion_fps"]  # a client that brings no dance leaves it out


BAD = {"broken.mp4": "cannot be read", "nojson.zip": "OpenPose JSON files (one per frame", "badjson.zip": "is not JSON",
       "wrong.npy": "must hold poses",
       "dance.mp4": "no DWPose weights, so it cannot find the poses in a video: upload the poses instead"}


def test_every_bad_motion_is_one_line_beside_the_upload_with_nothing_written(app, panel, studio, files, motions):
    root = studio.outputs.path()
    for name, words in BAD.items():
        before = sorted(root.iterdir())
        values = inputs(files, motions[name])
        text = app.motion_summary_page(values)["motion_text"]
        assert words in text and text.startswith("**") and "\n" not in text, (name, text)
        preview = app.skeleton_preview(values)
        assert preview["skeleton"] is None and words in preview["skeleton_text"], name
        assert shown(preview["motion_source"]) is None
        planned = panel.plan({**values, "plan": None, "table": None})
        assert words in planned["plan_text"] and "plan" not in planned, name
        app.arm()
        out = app.generate_page({**values, "plan": None}, progress=no_progress)
        assert out["status"].startswith("**Not made:**") and words in out["status"], (name, out["status"])
        assert words in out["motion_text"] and out["baseline"] is None and out["generate"]["interactive"] is True
        assert sorted(root.iterdir()) == before, name  # no folder half written
        assert app.estimate(values)["estimate"].startswith("A run takes about")
    with pytest.raises(gr.Error, match="must hold poses"):
        app.generate(inputs(files, motions["wrong.npy"]), progress=no_progress)


def test_music_may_be_left_out_only_when_the_motion_has_sound(app, panel, files, motions):
    values = inputs(files, motions["poses.npy"], music=None)
    app.arm()
    out = app.generate_page({**values, "plan": None}, progress=no_progress)
    message = T.MOTION_NEEDS_SONG.format(name="poses.npy")
    assert out["status"] == T.STATUS_FAILED.format(message=message)  # a file name keeps its case
    assert out["music_text"] == T.MUSIC_PROBLEM.format(message=message)
    assert message[1:] in app.skeleton_preview(values)["skeleton_text"]
    assert message[1:] in panel.plan({**values, "plan": None, "table": None})["plan_text"]
    assert app.skeleton_preview(inputs(files, None, music=None))["skeleton_text"] == T.SKELETON_NEEDS_MUSIC
    # a dance video's sound is the music: summarised in the music's place, and it sets the length of the estimate
    video = inputs(files, motions["dance.mp4"], music=None)
    assert app.music_summary(video)["music_text"].startswith(T.MUSIC_FROM_VIDEO + "**Tempo**")
    assert "8 frames" in app.estimate({**video, "length": None})["estimate"]  # 2 s of its sound at 4 fps
