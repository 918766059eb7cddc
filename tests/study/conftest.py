"""Fixtures of the study tests: one tiny-preset studio, input folders (two photos with a face and one without; two
songs and a broken file) and a tiny study run once on them (see support/study.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.study import CountedStudio, StudyRun, make_inputs, plan_of

from dancegen.config import StudioConfig


@pytest.fixture(scope="package")
def studio():
    from dancegen.studio import DanceStudio

    return DanceStudio(StudioConfig(progress_bar=False))


@pytest.fixture(scope="package")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    return make_inputs(tmp_path_factory.mktemp("study-inputs"))


@pytest.fixture(scope="package")
def study(tmp_path_factory, studio, inputs) -> StudyRun:
    """The tiny study, run once: 3 photos (one without a face) x 3 songs (one broken) x alphas 0, 1."""
    from dancegen.study.runner import Studios, run_study
    from dancegen.study.summary import write_summary

    folder = tmp_path_factory.mktemp("study") / "study"
    plan = plan_of(*inputs, studio)
    with pytest.MonkeyPatch.context() as monkeypatch:
        counted = CountedStudio(studio, monkeypatch)
        lines: list[str] = []
        outcome = run_study(plan, folder, Studios.of(studio), log=lines.append, summarise=write_summary)
    return StudyRun(folder, plan, outcome, counted.calls, lines)
