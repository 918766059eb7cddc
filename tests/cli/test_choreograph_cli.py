"""``dancegen choreograph``: the five files without a video model, replay bit for bit, edits change only the edited
phrase, bad plans are one line with nothing written, and ``generate --choreography`` dances the same plan."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from support.audio_synth import drums_wav
from support.paths import ASTRONAUT

from dancegen.choreo import MOVES, load_plan
from dancegen.cli import main
from dancegen.io.files import file_sha256
from dancegen.io.read import probe

SMALL = ["--size", "128", "128", "--fps", "8", "--seed", "3"]
FIRST_RUN = ("import sys; from dancegen.cli import main; rc = main(sys.argv[1:]); "
             "print('loaded:', sorted(m for m in ('torch', 'diffusers') if m in sys.modules)); sys.exit(rc)")


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """6 s of drums at 130 BPM: a pick-up, one danced phrase (4 counts from the first downbeat) and the ending."""
    return drums_wav(tmp_path_factory.mktemp("song"), "drums130.wav", 130, 6.0, 1)


@pytest.fixture(scope="module")
def danced(tmp_path_factory, song):
    """One choreograph run in a fresh process (no photo): (its folder, the process)."""
    out = tmp_path_factory.mktemp("choreo") / "out"
    proc = subprocess.run([sys.executable, "-c", FIRST_RUN, "choreograph", "--music", str(song), "--out",
                           str(out), *SMALL], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out, proc


def choreograph(capsys, *args):
    """Run ``dancegen choreograph`` in this process: (status, the error lines)."""
    rc = main(["choreograph", *map(str, args)])
    err = capsys.readouterr().err
    return rc, [line for line in err.splitlines() if line.startswith("error:")]


def test_choreograph_writes_the_five_files_without_loading_a_video_model(danced, song):
    out, proc = danced
    assert "loaded: []" in proc.stdout
    assert {p.name for p in out.iterdir()} == {"poses.npy", "choreography.json", "counts.md", "skeleton.mp4",
                                               "report.json"}
    poses = np.load(out / "poses.npy", allow_pickle=False)
    assert poses.dtype == np.float32 and poses.shape == (48, 18, 2)  # 6 s at 8 fps, OpenPose-18, canvas px
    seen = poses[np.isfinite(poses)]
    assert seen.size and 0 <= seen.min() and seen.max() <= 128
    plan = load_plan(out / "choreography.json")
    assert (plan.music.sha256, plan.music.offset_s, plan.music.seconds) == (file_sha256(song), 0.0, 6.0)
    assert plan.seed == 3 and [p.kind for p in plan.phrases][-1] == "ending"
    assert any(p.kind == "dance" for p in plan.phrases)
    sheet = (out / "counts.md").read_text()
    assert sheet.startswith(f"Style: {plan.style}, seed 3") and "| time | section | bar |" in sheet
    info = probe(out / "skeleton.mp4")
    assert info.n_frames == 144 and info.fps == 24  # drawn at the output rate (24 by default), poses in between
    assert info.audio_codec == "aac" and info.width >= 128
    report = json.loads((out / "report.json").read_text())
    assert report["style"] == plan.style and report["seed"] == 3 and report["frames"] == 48
    assert report["music"]["sha256"] == plan.music.sha256
    assert {"beat_alignment", "beat_alignment_motion", "foot_sliding_px", "fraction_inside"} <= set(report["dance"])
    assert report["dance"]["fraction_inside"] == pytest.approx(1.0)


def test_a_replayed_plan_gives_the_same_poses_bit_for_bit(danced, song, tmp_path, capsys):
    out, _ = danced
    again = tmp_path / "again"
    rc, errors = choreograph(capsys, "--music", song, "--out", again, "--choreography",
                             out / "choreography.json", *SMALL[:5], "--seed", 99)  # the plan's seed wins
    assert rc == 0 and not errors
    assert np.load(again / "poses.npy").tobytes() == np.load(out / "poses.npy").tobytes()
    assert json.loads((again / "choreography.json").read_text()) == json.loads((out / "choreography.json")
                                                                               .read_text())


def test_an_edited_move_changes_only_frames_of_its_phrase(danced, song, tmp_path, capsys):
    """Frames more than a count from the edited phrase stay identical, bit for bit (the first dance phrase: the
    pick-up before it runs into its first key)."""
    out, _ = danced
    obj = json.loads((out / "choreography.json").read_text())
    k = next(i for i, p in enumerate(obj["phrases"]) if p["kind"] == "dance")
    phrase = obj["phrases"][k]
    move = phrase["moves"][0]
    move["move"] = "clap" if move["move"] != "clap" else "reach"
    assert move["move"] in MOVES
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(obj))
    rc, errors = choreograph(capsys, "--music", song, "--out", tmp_path / "e", "--choreography", edited,
                             *SMALL)
    assert rc == 0 and not errors
    a, b = np.load(out / "poses.npy"), np.load(tmp_path / "e" / "poses.npy")
    changed = ~np.all((a == b) | (np.isnan(a) & np.isnan(b)), axis=(1, 2))  # [T]
    t = np.arange(len(a)) / 8.0
    count = (phrase["end_s"] - phrase["start_s"]) / sum(m["counts"] for m in phrase["moves"])
    near = (t >= phrase["start_s"] - count - 1e-9) & (t <= phrase["end_s"] + count + 1e-9)
    assert changed.any() and (~near).any()
    assert not changed[~near].any(), t[changed & ~near]
    after = t > phrase["end_s"] + count + 1e-9
    assert after.any() and np.array_equal(a[after], b[after], equal_nan=True)


def _bad_plan(obj: dict, what: str) -> dict | str:
    bad = copy.deepcopy(obj)
    k = next(i for i, p in enumerate(bad["phrases"]) if p["kind"] == "dance")
    if what == "unknown move":
        bad["phrases"][k]["moves"][0]["move"] = "moonwalk"
    elif what == "overlapping phrases":
        bad["phrases"][k + 1]["start_s"] = bad["phrases"][k]["start_s"] + 0.25
    elif what == "other music":
        bad["music"]["sha256"] = "0" * 64
    elif what == "other stretch":
        bad["music"]["seconds"] = 3.0
    else:
        return "{ not json"
    return bad


@pytest.mark.parametrize("what, message", [
    ("unknown move", r"^error: phrase \d+ \(\d:\d\d\.\d-\d:\d\d\.\d\): unknown move 'moonwalk'$"),
    ("overlapping phrases", r"^error: phrase \d+ \(.*\): overlaps phrase \d+ "),
    ("other music", r"^error: this choreography was made for other music"),
    ("other stretch", r"^error: this choreography was made for 3 s of the music from 0 s, not 6 s from 0 s$"),
    ("not JSON", r"^error: the choreography .*bad\.json is not JSON"),
])
def test_a_bad_plan_is_one_line_status_2_and_nothing_written(danced, song, tmp_path, capsys, what, message):
    out, _ = danced
    bad = _bad_plan(json.loads((out / "choreography.json").read_text()), what)
    path = tmp_path / "bad.json"
    path.write_text(bad if isinstance(bad, str) else json.dumps(bad))
    fresh, earlier = tmp_path / "fresh", tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "poses.npy").write_bytes(b"an earlier run")
    for target in (fresh, earlier):
        rc, errors = choreograph(capsys, "--music", song, "--out", target, "--choreography", path,
                                 "--seconds", 6, *SMALL)
        assert rc == 2 and len(errors) == 1, errors
        assert re.match(message, errors[0]), errors[0]
    assert not fresh.exists()
    assert [p.name for p in earlier.iterdir()] == ["poses.npy"] and (earlier / "poses.npy").read_bytes() == \
        b"an earlier run"


def test_a_bad_style_is_one_line(song, tmp_path, capsys):
    rc, errors = choreograph(capsys, "--music", song, "--out", tmp_path / "o", "--style", "salsa")
    assert rc == 2 and len(errors) == 1 and "salsa" in errors[0] and "hiphop" in errors[0]
    assert not (tmp_path / "o").exists()


def test_a_style_asked_is_the_style_danced(song, tmp_path, capsys):
    for style in ("korean", "pop"):
        rc, errors = choreograph(capsys, "--music", song, "--out", tmp_path / style, "--style", style,
                                 "--seconds", 2, "--size", 64, 64, "--fps", 4)
        assert rc == 0 and not errors
        assert load_plan(tmp_path / style / "choreography.json").style == style
        assert json.loads((tmp_path / style / "report.json").read_text())["style"] == style


def test_generate_dances_the_plan_it_is_given(song, tmp_path, capsys):
    """choreograph on the photo, then generate with its plan: the same poses (the same dance metrics), and the plan
    and count sheet written beside the videos; a rerun of choreograph there removes the stale videos."""
    flags = ["--size", 64, 64, "--fps", 4, "--seconds", 2, "--framing", "whole_body"]
    rc, errors = choreograph(capsys, "--music", song, "--photo", ASTRONAUT, "--out", tmp_path / "c",
                             "--style", "hiphop", *flags)
    assert rc == 0 and not errors
    plan_file = tmp_path / "c" / "choreography.json"
    rc = main(["generate", "--photo", str(ASTRONAUT), "--music", str(song), "--out", str(tmp_path / "g"),
               "--choreography", str(plan_file), "--steps", "1", "--mode", "baseline", "--seed", "5",
               *map(str, flags)])
    assert rc == 0, capsys.readouterr().err
    g = tmp_path / "g"
    assert {"baseline.mp4", "skeleton.mp4", "report.json", "choreography.json", "counts.md"} == \
        {p.name for p in g.iterdir()}
    assert json.loads((g / "choreography.json").read_text()) == json.loads(plan_file.read_text())
    assert (g / "counts.md").read_text() == (tmp_path / "c" / "counts.md").read_text()
    report, planned = (json.loads((d / "report.json").read_text()) for d in (g, tmp_path / "c"))
    assert report["style"] == "hiphop" and report["frames"] == 8
    assert report["dance"] == planned["dance"]
    assert report["metrics"]["videos"]["baseline"]["beat_alignment_planned"] is not None
    rc, errors = choreograph(capsys, "--music", song, "--out", g, "--choreography", plan_file, *flags)
    assert rc == 0 and not errors
    assert {p.name for p in g.iterdir()} == {"poses.npy", "choreography.json", "counts.md", "skeleton.mp4",
                                             "report.json"}
