"""``choreograph --motion``: a pose file on a song's beats, replayed bit for bit from its choreography.json (an
edited segment changes the dance, another motion file is refused), a video's own sound as the music with its
timing kept, and every bad motion one line with status 2 and nothing written; ``generate --motion``: the videos with
the source preview, recorded in report.json and choreography.json."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from support.audio_synth import synth_track
from support.motion import dance_video, dancer, stand_in_standing_dwpose, write_openpose
from support.paths import ASTRONAUT

from dancegen.cli import main
from dancegen.io.files import file_sha256

SMALL = ["--size", "128", "128", "--fps", "8"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A 4 s drum song at 120 BPM, a 3 s dancer as poses.npy and the same as OpenPose files."""
    d = tmp_path_factory.mktemp("motion")
    sf.write(d / "song.wav", synth_track(120, 4.0, sr=22050, style="drums", seed=1)[0], 22050)
    truth = dancer(90, head=15.0, travel=20.0)
    np.save(d / "poses.npy", truth.astype(np.float32))
    write_openpose(d / "openpose", [[p] for p in truth])
    return d


def choreograph(capsys, *args):
    rc = main(["choreograph", *map(str, args)])
    err = capsys.readouterr().err
    return rc, [line for line in err.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="module")
def danced(inputs):
    out = inputs / "out"
    assert main(["choreograph", "--music", str(inputs / "song.wav"), "--motion", str(inputs / "poses.npy"),
                 "--out", str(out), *SMALL]) == 0
    return out


def test_a_pose_file_is_danced_on_the_song_and_recorded(danced, inputs):
    assert {p.name for p in danced.iterdir()} == {"poses.npy", "choreography.json", "counts.md", "skeleton.mp4",
                                                  "report.json", "motion_source.mp4"}
    plan = json.loads((danced / "choreography.json").read_text())
    assert plan["version"] == 2 and plan["style"] == "motion" and plan["phrases"] == []
    assert plan["motion"]["source"] == {"name": "poses.npy", "sha256": file_sha256(inputs / "poses.npy"),
                                        "frames": 90, "fps": 30.0, "kind": "poses"}
    assert plan["motion"]["timing"] == "beats" and plan["motion"]["segments"]
    poses = np.load(danced / "poses.npy")
    assert poses.shape == (32, 18, 2)  # 4 s at 8 fps
    report = json.loads((danced / "report.json").read_text())
    assert report["motion"]["cleaning"]["frames"] == 90 and report["motion"]["bone_length_error"] < 0.1
    assert report["dance"]["beat_alignment_motion"] is not None
    assert "| segment | song | motion |" in (danced / "counts.md").read_text()


def test_replay_is_bit_for_bit_an_edit_changes_it_and_another_motion_is_refused(danced, inputs, capsys, tmp_path):
    plan = danced / "choreography.json"
    again = tmp_path / "again"
    rc, errors = choreograph(capsys, "--music", inputs / "song.wav", "--motion", inputs / "poses.npy",
                             "--choreography", plan, "--out", again, *SMALL)
    assert rc == 0 and not errors
    assert (again / "poses.npy").read_bytes() == (danced / "poses.npy").read_bytes()
    assert (again / "choreography.json").read_bytes() == plan.read_bytes()
    edited = json.loads(plan.read_text())
    edited["motion"]["segments"][0]["mirrored"] = True
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    rc, _ = choreograph(capsys, "--music", inputs / "song.wav", "--motion", inputs / "poses.npy",
                        "--choreography", tmp_path / "edited.json", "--out", tmp_path / "edited", *SMALL)
    assert rc == 0 and not np.allclose(np.load(tmp_path / "edited" / "poses.npy"), np.load(danced / "poses.npy"))
    for motion, message in ((inputs / "openpose", "another motion file"), (None, "give that file as the motion")):
        args = ["--motion", motion] if motion is not None else []
        rc, errors = choreograph(capsys, "--music", inputs / "song.wav", *args, "--choreography", plan, "--out",
                                 tmp_path / "refused", *SMALL)
        assert rc == 2 and len(errors) == 1 and message in errors[0]
        assert not (tmp_path / "refused").exists()
    short = json.loads(plan.read_text())  # segments that stop before the song ends would freeze the dancer
    last = short["motion"]["segments"][-1]
    last["song_end_s"] = last["knots"][-1][0] = round((last["song_start_s"] + last["song_end_s"]) / 2, 3)
    last["knots"] = [k for k in last["knots"] if k[0] <= last["song_end_s"]]
    (tmp_path / "short.json").write_text(json.dumps(short))
    rc, errors = choreograph(capsys, "--music", inputs / "song.wav", "--motion", inputs / "poses.npy",
                             "--choreography", tmp_path / "short.json", "--out", tmp_path / "refused", *SMALL)
    assert rc == 2 and len(errors) == 1 and "must cover all of it" in errors[0], errors


def test_bad_motion_sources_are_one_line_with_nothing_written(inputs, capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "f_0.json").write_text("[1, 2")
    write_openpose(tmp_path / "nobody", [[] for _ in range(4)])
    np.save(tmp_path / "wrong.npy", np.zeros((5, 18), np.float32))
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 64)
    cases = {"empty": "no OpenPose JSON", "bad": "is not JSON", "nobody": "nobody was found",
             "wrong.npy": "must hold poses", "broken.mp4": "cannot be read"}
    for name, message in cases.items():
        out = tmp_path / f"out-{name}"
        rc, errors = choreograph(capsys, "--music", inputs / "song.wav", "--motion", tmp_path / name, "--out", out,
                                 *SMALL)
        assert rc == 2 and len(errors) == 1 and message in errors[0], (name, errors)
        assert not out.exists(), name
    rc, errors = choreograph(capsys, "--motion", inputs / "poses.npy", "--out", tmp_path / "nomusic", *SMALL)
    assert rc == 2 and len(errors) == 1 and "--music" in errors[0] and not (tmp_path / "nomusic").exists()


def test_a_video_without_music_dances_to_its_own_sound_with_its_timing(tmp_path, capsys):
    video = dance_video(tmp_path / "dance.mp4", 2.5)
    rc, errors = choreograph(capsys, "--motion", video, "--out", tmp_path / "none", *SMALL)
    assert rc == 2 and len(errors) == 1 and "--weights DIR" in errors[0] and not (tmp_path / "none").exists()
    weights = stand_in_standing_dwpose(tmp_path / "weights")
    rc, errors = choreograph(capsys, "--motion", video, "--weights", weights, "--out", tmp_path / "out", *SMALL)
    assert rc == 0 and not errors
    plan = json.loads((tmp_path / "out" / "choreography.json").read_text())
    assert plan["music"]["sha256"] == plan["motion"]["source"]["sha256"] == file_sha256(video)
    assert plan["motion"]["timing"] == "kept" and len(plan["motion"]["segments"]) == 1
    assert np.load(tmp_path / "out" / "poses.npy").shape == (20, 18, 2)


def test_generate_dances_a_pose_file_with_its_source_preview_and_records_it(inputs, tmp_path, capsys):
    """One tiny run (64 x 64, 4 fps, 2 s, 1 step): the videos, motion_source.mp4, report.json's "motion" and a
    version-2 choreography.json."""
    out = tmp_path / "gen"
    rc = main(["generate", "--photo", str(ASTRONAUT), "--music", str(inputs / "song.wav"), "--motion",
               str(inputs / "poses.npy"), "--out", str(out), "--size", "64", "64", "--fps", "4", "--seconds", "2",
               "--steps", "1"])
    assert rc == 0, capsys.readouterr().err
    assert {"baseline.mp4", "identity.mp4", "skeleton.mp4", "motion_source.mp4", "report.json",
            "choreography.json"} <= {p.name for p in out.iterdir()}
    report = json.loads((out / "report.json").read_text())
    assert report["motion"]["name"] == "poses.npy" and report["motion"]["kind"] == "poses"
    assert report["motion"]["frames"] == 90 and report["motion"]["timing"] == "beats" and report["frames"] == 8
    plan = json.loads((out / "choreography.json").read_text())
    assert plan["version"] == 2 and plan["phrases"] == [] and plan["motion"]["source"]["name"] == "poses.npy"
