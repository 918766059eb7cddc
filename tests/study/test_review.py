"""The blind review: pairs of a study, sides shuffled and served under names that say nothing, answers stored in
SQLite with the hidden assignment (several reviewers at once), and counted in summary.md; driven through the
page's handlers, and the app's review tab."""

from __future__ import annotations

import random
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from dancegen.app.review_handlers import ReviewApp
from dancegen.errors import UserError
from dancegen.study.review import (CLIPS, KEY, STORE, Pair, ReviewStore, blind_total, counts, meaning, next_pair,
                                   read_judgements, served_folders, show, study_folder, study_pairs)
from dancegen.study.summary import SUMMARY


@pytest.fixture()
def folder(study, tmp_path):
    """A copy of the tiny study, so each test has its own answers."""
    copy = tmp_path / "study"
    shutil.copytree(study.folder, copy)
    return copy


def test_the_pairs_of_a_study_are_its_finished_identity_videos_with_their_baselines(folder):
    pairs = study_pairs(folder)
    assert len(pairs) == 4 and len({p.id for p in pairs}) == 4
    for pair in pairs:
        assert pair.identity.name == "identity.mp4" and pair.baseline.name == "baseline.mp4"
        assert pair.identity.parent.parent == pair.baseline.parent.parent  # the same photo and song
        assert pair.photo.is_file() and pair.photo.parent.name == "photos"
        assert (pair.setting, pair.alpha, pair.id_tokens) == ("alpha 1, all tokens", 1.0, 4)


def test_sides_are_shuffled_and_the_served_names_say_nothing(folder):
    pair = study_pairs(folder)[0]
    rng = random.Random(7)
    sides = []
    for _ in range(20):
        showing = show(folder, pair, rng)
        sides.append(showing.identity_side)
        for clip in (showing.left, showing.right):
            assert "identity" not in clip.name and "baseline" not in clip.name and clip.parent.parent == folder
        shown_identity = showing.left if showing.identity_side == "left" else showing.right
        shown_baseline = showing.right if showing.identity_side == "left" else showing.left
        assert shown_identity.read_bytes() == pair.identity.read_bytes()
        assert shown_baseline.read_bytes() == pair.baseline.read_bytes()
    assert 5 <= sides.count("left") <= 15  # both sides, about as often
    # a video keeps its name across showings: one file per video, however many showings
    assert sorted(p.name for p in (folder / CLIPS).iterdir()) == sorted({showing.left.name, showing.right.name})
    # the names come from a secret of this study: another study (another key) names the same videos otherwise
    (folder / KEY).write_bytes(b"another study's secret")
    again = show(folder, pair, rng)
    assert {again.left.name, again.right.name}.isdisjoint({showing.left.name, showing.right.name})


def test_a_reviewer_sees_each_baseline_once_and_the_least_judged_settings_come_first():
    """Two photo-and-song baselines with three settings each: a reviewer gets one pair per baseline (a second
    setting would show the same baseline again and give its side away), the least judged setting first."""
    def pair(base: str, alpha: float) -> Pair:
        return Pair(f"{base}-{alpha:g}", base, f"alpha {alpha:g}", alpha, None, Path("p.png"), Path("b.mp4"),
                    Path("i.mp4"))

    pairs = [pair(base, alpha) for base in ("a", "b") for alpha in (0.5, 1.0, 1.5)]
    assert blind_total(pairs) == 2
    rng = random.Random(0)
    first = next_pair(pairs, set(), rng, {"a-0.5": 3, "a-1": 1, "a-1.5": 2, "b-0.5": 1, "b-1": 1, "b-1.5": 1})
    assert first.id in {"a-1", "b-0.5", "b-1", "b-1.5"}  # the fewest answers so far
    for _ in range(20):
        second = next_pair(pairs, {first.id}, rng)
        assert second.base != first.base
    assert next_pair(pairs, {"a-1.5", "b-0.5"}, rng) is None
    assert {next_pair(pairs, {"a-0.5"}, random.Random(i)).id for i in range(30)} == {"b-0.5", "b-1", "b-1.5"}


def test_the_page_serves_only_the_clips_and_the_photos(folder):
    pair = study_pairs(folder)[0]
    showing = show(folder, pair, random.Random(0))
    served = served_folders(folder)
    for path in (showing.left, showing.right, pair.photo):
        assert any(path.is_relative_to(p) for p in served)
    for secret in (folder / "results.csv", folder / STORE, folder / KEY, pair.identity, pair.baseline):
        assert not any(secret.is_relative_to(p) for p in served), secret
    assert [meaning(a, "left") for a in ("left", "right", "same", None)] == ["identity", "baseline", "same", None]
    assert [meaning(a, "right") for a in ("left", "right")] == ["baseline", "identity"]


def test_several_reviewers_answer_at_once_and_every_answer_is_kept(folder):
    pairs = study_pairs(folder)
    store = ReviewStore.of_study(folder)
    errors = []

    def reviewer(i: int) -> None:
        rng = random.Random(i)
        try:
            for pair in pairs:
                ReviewStore.of_study(folder).record(f"reviewer {i}", show(folder, pair, rng), "left", "same")
        except Exception as exc:  # collected: a thread's exception would otherwise be lost
            errors.append(exc)

    threads = [threading.Thread(target=reviewer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    table = store.table()
    assert len(table) == 8 * len(pairs) and table.groupby("reviewer").size().eq(len(pairs)).all()
    with sqlite3.connect(folder / STORE) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # the stored meaning follows the hidden assignment
    assert (table["person_choice"] == table["identity_side"].map({"left": "identity", "right": "baseline"})).all()
    with pytest.raises(UserError, match="judged this pair already"):
        store.record("reviewer 0", show(folder, pairs[0], random.Random(0)), "left")
    with pytest.raises(UserError, match="enter your name"):
        store.record("  ", show(folder, pairs[0], random.Random(0)), "left")
    assert next_pair(pairs, {p.id for p in pairs}, random.Random(0)) is None


def test_the_review_page_handlers_record_answers_that_the_summary_counts(folder):
    app = ReviewApp(folder, rng=random.Random(11))
    photo, left, right, person, dance, submit, status, showing = app.next_pair("")
    assert left is None and showing is None and "enter your name" in status

    chose = {"identity": 0, "baseline": 0, "same": 0}
    answers = ["left", "right", "same", "left"]
    for number, answer in enumerate(answers, start=1):
        photo, left, right, person, dance, submit, status, showing = app.next_pair("Ada")
        assert status.startswith(f"Pair {number} of 4")
        assert submit["interactive"] is True and person is None and dance is None
        # what the page gets before the answer says nothing about the sides
        shown = f"{photo} {left} {right} {status}"
        assert "identity" not in shown and "baseline" not in shown and showing.pair.setting not in shown
        text, submit, state = app.answer("Ada", showing, answer, "left" if number == 1 else None)
        assert text.startswith("Recorded.") and f"on the **{showing.identity_side}**" in text
        assert submit["interactive"] is False and state is None
        chose[meaning(answer, showing.identity_side)] += 1
    assert "judged all 4 pairs" in app.next_pair("Ada")[6]
    assert "Press Next pair first" in app.answer("Ada", None, "left", None)[0]

    table = ReviewStore.of_study(folder).table()
    assert len(table) == 4 and set(table["reviewer"]) == {"Ada"} and table["dance"].notna().sum() == 1
    assert counts(table, "person")["alpha 1, all tokens"] == chose
    app.wait_for_summary()
    summary = (folder / SUMMARY).read_text()  # written again after the answers, off their requests' path
    person = summary.split("### Which keeps the person better?")[1].split("###")[0]
    row = next(line for line in person.splitlines() if line.startswith("| alpha 1, all tokens | 4 |"))
    assert f"| 4 | {chose['identity']} | {chose['baseline']} | {chose['same']} |" in row
    assert "4 judgements by 1 reviewer" in summary


def test_reading_the_answers_makes_no_store_and_changes_none(folder):
    assert read_judgements(folder / STORE).empty and not (folder / STORE).exists()  # nothing made by reading
    ReviewStore.of_study(folder).record("Ada", show(folder, study_pairs(folder)[0], random.Random(0)), "same")
    before = (folder / STORE).read_bytes()
    table = read_judgements(folder / STORE)
    assert table["reviewer"].tolist() == ["Ada"] and table["person_choice"].tolist() == ["same"]
    assert (folder / STORE).read_bytes() == before


def test_a_folder_that_is_not_a_study_is_refused(tmp_path):
    with pytest.raises(UserError, match="not a study folder"):
        study_folder(tmp_path)


def test_the_app_has_a_review_tab_when_a_study_is_given(folder, studio):
    from dancegen.app.layout import build_ui, launch_kwargs
    from dancegen.app.serve import build_parser
    from dancegen.config import ServeConfig, from_arguments

    config = from_arguments(ServeConfig, build_parser().parse_args(["--review", str(folder)]))
    assert config.review == str(folder)
    demo = build_ui(studio, config)
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    assert {"review-next", "review-left", "review-right", "review-submit", "generate"} <= ids
    labels = {getattr(block, "label", None) for block in demo.blocks.values()}
    assert {"Generate", "Blind review"} <= labels
    assert launch_kwargs(studio, config)["allowed_paths"][-2:] == [str(p) for p in served_folders(folder)]
    plain = build_ui(studio, ServeConfig())
    assert "review-next" not in {getattr(b, "elem_id", None) for b in plain.blocks.values()}
