"""The command line when things go wrong around the run: a bad --out, a length over --max-music-s, Ctrl-C and
SIGTERM half-way, libraries' notices, and a study where no cell could be made."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image
from support.paths import ASTRONAUT
from support.study import make_inputs

from dancegen.cli import run, sigterm_stops

SMALL = ["--seconds", 2, "--fps", 4, "--steps", 1, "--size", 64, 64]


def start_cli(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "dancegen", "generate", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def run_cli(*args, env=None):
    proc = start_cli(*args, env=env)
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err


@pytest.mark.parametrize("case", ["a file", "a place that cannot be made"])
def test_a_bad_out_is_bad_input_before_any_work(tmp_path, drum_music, case):
    """--out a file, or a folder that cannot be made (/proc refuses new entries): one line, status 2, and before the
    models load (no banner: nothing ran)."""
    out = tmp_path / "taken.txt" if case == "a file" else "/proc/dancegen-out"
    if case == "a file":
        out.write_text("the user's")
    status, _, err = run_cli("--photo", ASTRONAUT, "--music", drum_music, "--out", out, *SMALL)
    assert status == 2, err
    assert err.splitlines() == [err.strip()] and err.startswith("error: ") and str(out) in err, err
    assert ("is a file" if case == "a file" else "cannot write into the output folder") in err
    if case == "a file":
        assert out.read_text() == "the user's"


def test_seconds_over_the_music_limit_is_refused_naming_the_flag(tmp_path, drum_music):
    out = tmp_path / "out"
    status, _, err = run_cli("--photo", ASTRONAUT, "--music", drum_music, "--out", out, "--seconds", 100000)
    assert status == 2 and err.strip() == ("error: seconds must be at most 60, the longest music allowed (raise it "
                                           "with --max-music-s), got 100000")
    assert not out.exists()
    status, _, err = run_cli("--photo", ASTRONAUT, "--music", drum_music, "--out", out, "--seconds", 30,
                             "--max-music-s", 20)
    assert status == 2 and "at most 20" in err and not out.exists()


def test_a_photo_without_a_face_prints_exactly_one_line(tmp_path, drum_music):
    """The models load (transformers with them) and the face check fails: only our line, no library notices, no
    banner."""
    wall = tmp_path / "wall.png"
    Image.new("RGB", (200, 200), (90, 120, 150)).save(wall)
    env = {k: v for k, v in os.environ.items() if k != "TRANSFORMERS_VERBOSITY"}
    out = tmp_path / "out"
    status, stdout, err = run_cli("--photo", wall, "--music", drum_music, "--out", out, *SMALL, env=env)
    assert status == 2
    assert err.splitlines() == ["error: no face found in the reference photo; use a photo where the face is "
                                "visible and at least ~64 px wide"], err
    assert stdout == "" and not out.exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_run_stopped_half_way_cleans_up_and_says_so(tmp_path, drum_music, sig):
    """Sent once the run is denoising (its work folder exists): one line, status 130, and nothing left: no work
    folder, no partial mp4, and the output folder it made is gone; an existing folder keeps the user's files."""
    out = tmp_path / "out"
    if sig == signal.SIGINT:
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    proc = start_cli("--photo", ASTRONAUT, "--music", drum_music, "--out", out, "--seconds", 4, "--fps", 8,
                     "--steps", 50, "--size", 64, 64)
    deadline = time.monotonic() + 300
    while not (out.is_dir() and list(out.glob(".partial-*"))):
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(1.0)  # into the denoising
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.splitlines()[-1] == "error: stopped", err
    assert [line for line in err.splitlines() if line.startswith("error:")] == ["error: stopped"]
    if sig == signal.SIGINT:
        assert [p.name for p in out.iterdir()] == ["notes.txt"]
    else:
        assert not out.exists()
    assert not list(tmp_path.rglob("*.mp4")) and not list(tmp_path.rglob(".partial-*"))


def test_run_handles_sigterm_only_while_it_runs(capsys):
    """In this process: SIGTERM inside run() is a stop (status 130, one line), and the handler before it (here the
    test's own, so a broken run() cannot end the test session) is back after, also after nested ones."""
    outside = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: outside.append(signum))
    try:
        mine = signal.getsignal(signal.SIGTERM)

        def action():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(2)  # the handler stops it long before
            return 0

        try:
            status = run(action, "test")
        except KeyboardInterrupt:
            pytest.fail("the stop escaped run()")
        assert status == 130 and not outside
        assert signal.getsignal(signal.SIGTERM) is mine
        assert capsys.readouterr().err == "error: stopped\n"
        with sigterm_stops():  # nested: the outer one is back after the inner
            outer = signal.getsignal(signal.SIGTERM)
            with sigterm_stops():
                pass
            assert signal.getsignal(signal.SIGTERM) is outer is not mine
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)


def run_eval(capsys, *args):
    from dancegen.cli.eval import main

    status = main([str(a) for a in args])
    return status, capsys.readouterr()


def test_eval_where_no_cell_could_be_made_is_status_2(tmp_path, capsys):
    photos, music = make_inputs(tmp_path, faces=0, songs=1, failing=False)
    Image.fromarray(np.full((200, 200, 3), (90, 120, 150), np.uint8)).save(photos / "wall.png")
    out = tmp_path / "study"
    status, cap = run_eval(capsys, "--photos", photos, "--music", music, "--out", out, "--alphas", "1",
                           "--id-tokens", "1", *SMALL)
    errors = [line for line in cap.err.splitlines() if line.startswith("error:")]
    assert status == 2, cap.err
    assert errors == [f"error: no cell of the study could be made: the reasons are in {out / 'summary.md'} and "
                      f"{out / 'results.csv'}"]
    assert "made 0, failed 2" in cap.err and (out / "summary.md").is_file() and (out / "results.csv").is_file()


def test_eval_where_some_cells_were_made_is_status_0(tmp_path, capsys):
    photos, music = make_inputs(tmp_path, faces=1, songs=1, failing=True)  # 1 of 2 photos, 1 of 2 songs work
    out = tmp_path / "study"
    status, cap = run_eval(capsys, "--photos", photos, "--music", music, "--out", out, "--alphas", "1",
                           "--id-tokens", "1", *SMALL)
    assert status == 0, cap.err
    assert "made 2, failed 6" in cap.err and not [line for line in cap.err.splitlines() if line.startswith("error:")]


def test_eval_refuses_seconds_over_the_music_limit(tmp_path, capsys):
    photos, music = make_inputs(tmp_path, faces=1, songs=1, failing=False)
    status, cap = run_eval(capsys, "--photos", photos, "--music", music, "--out", tmp_path / "study",
                           "--seconds", 61)
    assert status == 2 and cap.err.strip().endswith("(raise it with --max-music-s), got 61")
    assert not (tmp_path / "study").exists()
