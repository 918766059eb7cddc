"""The choreography panel's handlers on the tiny preset, called directly: plan -> phrase table, locks kept when
planning again, edits and the move menu re-dance the skeleton preview, choreography.json down and up again, bad
edits and bad files answered in place, and Generate dancing the plan shown."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from support.audio_synth import synth_track, write_wav

from dancegen.app import text as T
from dancegen.app.choreography import (PANEL_OUTPUTS, ChoreographyPanel, moves_text, parse_moves, plan_rows,
                                       style_choices)
from dancegen.app.handlers import DanceApp
from dancegen.choreo import STYLES, DancePlan, load_plan
from dancegen.config import ServeConfig

pytestmark = [  # Gradio's own queue code trips pandas 3 deprecations when it serialises plot data.
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]
REPO = Path(__file__).resolve().parents[2]
ASTRONAUT = str(REPO / "assets" / "astronaut.png")
SR = 22050
SECONDS = 9  # 128 BPM: a pick-up, two dance phrases and the ending


def out(result: dict) -> dict:
    """A panel handler's outputs by name, those it left as they were as an empty update."""
    assert set(result) <= set(PANEL_OUTPUTS)
    return {name: result.get(name, gr.update()) for name in PANEL_OUTPUTS}


def untouched(value) -> bool:
    return isinstance(value, dict) and value.get("__type__") == "update" and "value" not in value


@pytest.fixture(scope="module")
def music(tmp_path_factory) -> str:
    samples, _, _ = synth_track(128, SECONDS, sr=SR, style="drums")
    path = tmp_path_factory.mktemp("panel") / "groove.wav"
    write_wav(path, samples, SR)
    return str(path)


@pytest.fixture(scope="module")
def panel(studio) -> ChoreographyPanel:
    return ChoreographyPanel(DanceApp(studio, ServeConfig(default_seconds=3)))


def scene(music, seed=1, length=SECONDS, fps=8, offset=0.0, photo=ASTRONAUT) -> dict:
    """The skeleton preview's inputs by name: photo, music, offset, length, fps, seed, width, height, framing,
    output fps (the generation rate: no frames in between, a quick preview)."""
    return dict(photo=photo, music=music, offset=offset, length=length, fps=fps, seed=seed, width="auto",
                height="auto", framing="photo", output_fps=fps)


@pytest.fixture(scope="module")
def planned(panel, music) -> dict:
    return out(panel.plan({**scene(music), "style": "pop", "table": None, "plan": None}))


def dance_indices(plan: DancePlan) -> list[int]:
    return [i for i, p in enumerate(plan.phrases) if p.kind == "dance"]


def poses_of(outputs: dict) -> np.ndarray:
    return np.load(Path(outputs["skeleton"]).parent / "poses.npy")  # [T, 18, 2], written beside the preview


def test_plan_fills_the_table_preview_and_download(planned):
    plan, rows = planned["plan"], planned["table"]
    assert isinstance(plan, DancePlan) and plan.style == "pop" and plan.seed == 1
    assert len(rows) == len(plan.phrases) and len(dance_indices(plan)) >= 2
    for i, (row, phrase) in enumerate(zip(rows, plan.phrases)):
        assert row[0] == i + 1 and row[4] is False
        assert row[2].startswith(phrase.section)
        if phrase.kind == "dance":  # the moves text reads back as the plan's moves
            assert parse_moves(row[3], phrase, i + 1, plan.meter) == phrase.moves
    assert Path(planned["skeleton"]).is_file() and planned["skeleton_text"] == T.SKELETON_PLANNED
    assert load_plan(planned["plan_file"]) == plan  # choreography.json of the plan shown
    assert "pop" in planned["plan_text"] and untouched(planned["seed"])
    assert [v for _, v in style_choices()] == ["auto", *STYLES]


def test_the_style_menu_chooses_the_style(panel, music):
    assert out(panel.plan({**scene(music), "style": "korean", "table": None, "plan": None}))["plan"].style == "korean"


def test_a_locked_phrase_stays_when_planning_again(panel, music, planned):
    plan, rows = planned["plan"], [list(r) for r in planned["table"]]
    k = dance_indices(plan)[0]
    rows[k][4] = True  # lock the first dance phrase
    others_changed = False
    for seed in (2, 3, 4):
        again = out(panel.plan({**scene(music, seed=seed), "style": "pop", "table": rows, "plan": plan}))
        new = again["plan"]
        assert new.seed == seed
        assert new.phrases[k] == plan.phrases[k]  # the locked phrase, exactly
        assert again["table"][k][4] is True and again["table"][k][3] == rows[k][3]
        assert not any(r[4] for i, r in enumerate(again["table"]) if i != k)
        others_changed |= any(new.phrases[i].moves != plan.phrases[i].moves for i in dance_indices(plan) if i != k)
        if others_changed:
            break
    assert others_changed  # the unlocked phrases were planned afresh
    assert str(len([k])) in again["plan_text"] and "locked" in again["plan_text"]


def test_planning_again_with_the_same_seed_takes_the_next(panel, music, planned):
    again = out(panel.plan({**scene(music, seed=1), "style": "pop", "table": planned["table"], "plan": planned["plan"]}))
    assert again["seed"] == 2 and again["plan"].seed == 2


def test_editing_a_phrase_dances_the_edit(panel, music, planned):
    plan = planned["plan"]
    k = dance_indices(plan)[-1]
    rows = [list(r) for r in planned["table"]]
    n = plan.phrases[k].counts
    rows[k][3] = f"step_touch x2, grapevine x{n - 2} (m)"
    edited = out(panel.edit({**scene(music), "table": rows, "plan": plan}))
    new = edited["plan"]
    assert [(m.move, m.counts, m.mirrored) for m in new.phrases[k].moves] == \
        [("step_touch", 2, False), ("grapevine", n - 2, True)]
    assert [p for i, p in enumerate(new.phrases) if i != k] == [p for i, p in enumerate(plan.phrases) if i != k]
    assert edited["table"][k][3] == moves_text(new.phrases[k])
    assert load_plan(edited["plan_file"]) == new
    # the skeleton preview was made again from the edited plan: other poses inside the phrase, the same before it
    assert edited["skeleton"] != planned["skeleton"] and Path(edited["skeleton"]).is_file()
    before, after = poses_of(planned), poses_of(edited)
    t = np.arange(before.shape[0]) / 8
    inside = (t > new.phrases[k].start_s + 0.1) & (t < new.phrases[k].end_s)
    prev = plan.phrases[k - 1]
    early = t < prev.end_s - 2 * (prev.end_s - prev.start_s) / prev.counts  # before the glide into the edit
    assert early.sum() > 10
    assert not np.allclose(np.nan_to_num(before[inside]), np.nan_to_num(after[inside]))
    np.testing.assert_array_equal(before[early], after[early])
    # only ticking a lock changes nothing until the next plan
    rows = [list(r) for r in edited["table"]]
    rows[k][4] = True
    assert all(untouched(v) for v in out(panel.edit({**scene(music), "table": rows, "plan": new})).values())


def test_the_move_menu_puts_a_move_in_a_phrase(panel, music, planned):
    plan = planned["plan"]
    k = dance_indices(plan)[0]
    put = out(panel.put_move({**scene(music), "move": "bounce", "phrase_number": k + 1, "table": planned["table"], "plan": plan}))
    assert [(m.move, m.counts) for m in put["plan"].phrases[k].moves] == [("bounce", plan.phrases[k].counts)]
    assert put["table"][k][3] == f"bounce x{plan.phrases[k].counts}" and Path(put["skeleton"]).is_file()


@pytest.mark.parametrize("where, text, message", [
    ("dance", "moonwalk x8", "no move 'moonwalk'"),
    ("dance", "step_touch x3", "must last"),
    ("dance", "step_touch for four", "name x counts"),
    ("intro", "bounce x3", "pick-up"),
    ("ending", "bounce x1", "ending"),
])
def test_a_bad_edit_is_answered_in_place_and_the_plan_stays(panel, music, planned, where, text, message):
    plan = planned["plan"]
    k = next(i for i, p in enumerate(plan.phrases) if p.kind == where)
    rows = [list(r) for r in planned["table"]]
    rows[k][3] = text
    j = next(i for i in dance_indices(plan) if i != k)
    rows[j][4] = True  # a lock elsewhere survives the failed edit
    failed = out(panel.edit({**scene(music), "table": rows, "plan": plan}))
    assert failed["plan_text"].startswith("**Not changed:**") and message in failed["plan_text"]
    assert untouched(failed["plan"]) and untouched(failed["skeleton"]) and untouched(failed["plan_file"])
    assert [r[:4] for r in failed["table"]] == [r[:4] for r in plan_rows(plan)]  # back to the plan shown
    assert [i for i, r in enumerate(failed["table"]) if r[4]] == [j]


def test_the_plan_downloads_and_uploads_again(panel, music, planned, tmp_path):
    other = out(panel.plan({**scene(music, seed=7), "style": "hiphop", "table": None, "plan": None}))["plan"]
    assert other != planned["plan"]
    loaded = out(panel.upload({**scene(music, seed=9), "plan_upload": planned["plan_file"], "table": None, "plan": other}))  # the file's seed counts
    assert loaded["plan"] == planned["plan"] and loaded["table"] == planned["table"]
    assert Path(loaded["skeleton"]).is_file() and "Loaded" in loaded["plan_text"]
    np.testing.assert_array_equal(poses_of(loaded), poses_of(planned))  # replayed bit for bit


def test_a_bad_upload_is_answered_beside_it_and_the_plan_stays(panel, music, planned, files, tmp_path):
    plan = planned["plan"]
    not_json = tmp_path / "choreography.json"
    not_json.write_text("{ not json")
    doc = json.loads(Path(planned["plan_file"]).read_text())
    doc["phrases"][dance_indices(plan)[0]]["moves"][0]["move"] = "moonwalk"
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps(doc))
    for bad, message in ((not_json, "is not JSON"), (unknown, "unknown move 'moonwalk'")):
        failed = out(panel.upload({**scene(music), "plan_upload": str(bad), "table": planned["table"], "plan": plan}))
        assert failed["plan_text"].startswith("**Not loaded:**") and message in failed["plan_text"], bad
        assert untouched(failed["plan"]) and untouched(failed["skeleton"]) and failed["table"] == planned["table"]
    # made for other music: refused once the music is checked
    failed = out(panel.upload({**scene(str(files["long"]), length=5), "plan_upload": planned["plan_file"], "table": None, "plan": None}))
    assert "other music" in failed["plan_text"] and untouched(failed["plan"])


def test_the_preview_follows_the_plan_until_the_music_changes(panel, music, planned):
    plan = planned["plan"]
    kept = out(panel.follow({**scene(music, seed=5, fps=6), "plan": plan}))  # another seed and fps: the same plan danced
    assert untouched(kept["plan"]) and kept["skeleton_text"] == T.SKELETON_PLANNED
    report = json.loads((Path(kept["skeleton"]).parent / "report.json").read_text())
    assert report["seed"] == plan.seed and report["fps"] == 6
    dropped = out(panel.follow({**scene(music, length=SECONDS - 2), "plan": plan}))  # another segment: the plan cannot fit
    assert dropped["plan"] is None and dropped["table"] == [] and dropped["plan_text"] == T.PLAN_FORGOTTEN
    assert Path(dropped["skeleton"]).is_file()


def test_planning_needs_the_photo_and_the_music(panel, music, planned):
    failed = out(panel.plan({**scene(None), "style": "pop", "table": planned["table"], "plan": planned["plan"]}))
    assert T.PLAN_NEEDS_INPUTS in failed["plan_text"] and untouched(failed["plan"])


def test_generate_dances_the_plan_shown(panel, files):
    short = str(files["short"])
    shown = out(panel.plan({**scene(short, length=3), "style": "hiphop", "table": None, "plan": None}))["plan"]
    k = dance_indices(shown)[0]
    shown = out(panel.put_move({**scene(short, length=3), "move": "two_step", "phrase_number": k + 1, "table": None, "plan": shown}))["plan"]
    results = panel.app.generate_page(dict(photo=ASTRONAUT, music=short, offset=0.0, length=3, alpha=1.0, seed=1,
                                           steps=1, fps=4, width="auto", height="auto", framing="photo",
                                           output_fps=4, plan=shown, style="pop"))
    assert results["status"].startswith("Done."), results["status"]
    folder = Path(results["baseline"]).parent
    assert load_plan(folder / "choreography.json") == shown
    assert json.loads((folder / "report.json").read_text())["style"] == "hiphop"  # the plan's, not the menu's
