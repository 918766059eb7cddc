"""The plan as a document: JSON replay bit for bit, edits change only what was edited, locked phrases stay, bad
plan files give one line naming the phrase, and the count sheet."""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pytest
from choreo.handmade import FPS

from dancegen.choreo import ChoreographyPlanError, MusicRef, ProceduralChoreographer, count_sheet, load_plan
from dancegen.errors import UserError

REF = MusicRef("ab" * 32, 0.0, 30.0)


@pytest.fixture(scope="module")
def planned(music44, whole):
    ch = ProceduralChoreographer()
    plan = ch.plan(music44, 5, whole, 29.0, style="pop", music_ref=REF)
    return ch, plan, ch.poses(plan, music44, whole, FPS, 697)


def test_a_plan_file_replays_bit_for_bit(planned, music44, whole, tmp_path):
    ch, plan, poses = planned
    assert np.array_equal(poses, ch(music44, FPS, 5, whole, 697, style="pop"), equal_nan=True)
    path = plan.save(tmp_path / "choreography.json")
    obj = json.loads(path.read_text())
    assert obj["version"] == 1 and obj["music"] == {"sha256": REF.sha256, "offset_s": 0.0, "seconds": 30.0}
    assert {"start_s", "end_s", "section", "moves", "floor", "hits", "kind"} <= set(obj["phrases"][1])
    again = load_plan(path, REF)
    assert again == plan
    assert np.array_equal(ch.poses(again, music44, whole, FPS, 697), poses, equal_nan=True)


def test_an_edit_changes_only_the_edited_phrase(planned, music44, whole):
    ch, plan, poses = planned
    k = 3
    p = plan.phrases[k]
    first = p.moves[0]
    other = "clap" if first.move != "clap" else "reach"
    moves = (dataclasses.replace(first, move=other),) + p.moves[1:]
    edited = dataclasses.replace(plan, phrases=plan.phrases[:k] + (dataclasses.replace(p, moves=moves),)
                                 + plan.phrases[k + 1:])
    out = ch.poses(edited, music44, whole, FPS, 697)
    t = np.arange(697) / FPS
    changed = ~np.all(np.isclose(out, poses, atol=0, rtol=0) | (np.isnan(out) & np.isnan(poses)), axis=(1, 2))
    assert changed.any()
    count = 0.5
    far = (t < p.start_s - count - 1e-9) | (t > p.end_s + count + 1e-9)
    assert not changed[far].any(), t[changed & far]


def test_locked_phrases_are_kept_when_planning_again(planned, music44, whole):
    ch, plan, _ = planned
    locked = [2, 4]
    again = ch.plan(music44, 99, whole, 29.0, style="pop", music_ref=REF, keep=(plan, locked))
    assert [again.phrases[i] for i in locked] == [plan.phrases[i] for i in locked]
    assert [p.moves for p in again.phrases] != [p.moves for p in plan.phrases]  # the rest was planned anew
    moves = [m.move for p in again.phrases for m in p.moves]
    assert all(a != b for a, b in zip(moves, moves[1:]))


def _broken(obj, what):
    bad = copy.deepcopy(obj)
    ph = bad["phrases"][2]
    if what == "move":
        ph["moves"][0]["move"] = "moonwalk"
    elif what == "overlap":
        ph["start_s"] = bad["phrases"][1]["start_s"] + 0.5
    elif what == "counts":
        ph["moves"][0]["counts"] += 1
    elif what == "type":
        ph["moves"][0]["size"] = "big"
    elif what == "hits":
        ph["hits"] = [0, 99]
    return bad


@pytest.mark.parametrize("what, message", [
    ("move", r"^phrase 3 \(0:0\d\.\d-0:\d\d\.\d\): unknown move 'moonwalk'$"),
    ("overlap", r"^phrase 3 \(.*\): overlaps phrase 2 "),
    ("type", r"^phrase 3 \(.*\): size of '\w+' must be a number, got 'big'$"),
    ("hits", r"^phrase 3 \(.*\): hits must be counts 0\.\.\d of the phrase"),
])
def test_a_bad_plan_file_is_one_line_naming_the_phrase(planned, what, message, tmp_path):
    _, plan, _ = planned
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_broken(plan.to_json(), what)))
    with pytest.raises(ChoreographyPlanError, match=message) as err:
        load_plan(path, REF)
    assert "\n" not in str(err.value) and isinstance(err.value, UserError)


def test_counts_that_do_not_fit_the_music_are_refused_when_danced(planned, music44, whole):
    ch, plan, _ = planned
    bad = load_plan(_broken(plan.to_json(), "counts"), REF)
    with pytest.raises(ChoreographyPlanError, match=r"^phrase 3 \(.*\): its moves last 9 counts but the music has 8"):
        ch.poses(bad, music44, whole, FPS, 100)


def test_plans_for_other_music_or_versions_are_refused(planned):
    _, plan, _ = planned
    obj = plan.to_json()
    with pytest.raises(ChoreographyPlanError, match="made for other music"):
        load_plan(obj, MusicRef("cd" * 32, 0.0, 30.0))
    with pytest.raises(ChoreographyPlanError, match=r"made for 30 s of the music from 0 s, not 20 s from 5 s"):
        load_plan(obj, MusicRef(REF.sha256, 5.0, 20.0))
    with pytest.raises(ChoreographyPlanError, match="version 3 is not supported"):
        load_plan({**obj, "version": 3}, REF)
    with pytest.raises(ChoreographyPlanError, match="is not JSON"):
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "x.json").write_text("{nope")
            load_plan(Path(d) / "x.json", REF)


def test_the_count_sheet_has_a_row_per_eight_count(planned, music34, whole):
    _, plan, _ = planned
    sheet = count_sheet(plan)
    rows = [r for r in sheet.splitlines() if r.startswith("| 0:") or r.startswith("| 1:")]
    dance = [p for p in plan.phrases if p.kind == "dance"]
    assert len(rows) == len(dance) + 2  # + the pick-up and the ending
    assert "| 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 |" in sheet
    first = dance[0]
    assert rows[1].split("|")[4].strip().startswith(first.moves[0].move)
    triple = ProceduralChoreographer().plan(music34, 0, whole, 29.0)
    header = count_sheet(triple).splitlines()[2]
    assert header.endswith("| 1 | 2 | 3 | 4 | 5 | 6 |") and "| 7 |" not in header
