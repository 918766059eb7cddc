"""choreography.json version 2: a plan with a motion file round-trips exactly, and a bad motion object is one line."""

from __future__ import annotations

import copy

import pytest

from dancegen.choreo.document import (ChoreographyPlanError, DancePlan, MotionPlan, MotionRef, MotionSegment, MusicRef,
                                      load_plan)
from dancegen.music import Section

REF = MusicRef("ab" * 32, 0.0, 4.0)
PLAN = DancePlan(REF, "motion", 3, 4, (Section("A", 0.0, 4.0),), (), MotionPlan(
    MotionRef("dance.mp4", "cd" * 32, 90, 29.97, "video"), "beats",
    (MotionSegment(0.0, 2.0, ((0.0, 0.1), (1.0, 0.6), (2.0, 1.3))),
     MotionSegment(2.0, 4.0, ((2.0, 0.1), (4.0, 1.3)), True))))


def test_a_motion_plan_is_version_2_and_reads_back_the_same():
    obj = PLAN.to_json()
    assert obj["version"] == 2 and obj["motion"]["segments"][1]["mirrored"] is True
    assert load_plan(copy.deepcopy(obj), REF) == PLAN
    plain = DancePlan(REF, "pop", 3, 4, (), ()).to_json()
    assert plain["version"] == 1 and "motion" not in plain  # a plan of moves is written as before


@pytest.mark.parametrize("path, value, message", [
    (("motion", "source", "kind"), "gif", "motion kind"),
    (("motion", "timing"), "fast", "motion timing"),
    (("motion", "segments"), [], "non-empty"),
    (("motion", "segments", 0, "knots"), [[0.0, 0.0]], "two or more"),
    (("motion", "segments", 0, "knots"), [[0.0, 1.0], [1.0, 0.5]], "not go back"),
    (("motion", "segments", 1, "song_start_s"), 1.5, "without overlap"),
    (("style",), "pop", "must be 'motion'"),
])
def test_a_bad_motion_object_is_one_line(path, value, message):
    obj = PLAN.to_json()
    place = obj
    for key in path[:-1]:
        place = place[key]
    place[path[-1]] = value
    with pytest.raises(ChoreographyPlanError, match=message) as info:
        load_plan(obj, REF)
    assert "\n" not in str(info.value)
