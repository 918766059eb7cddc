"""The run-time estimate's calibration: each stage's rate from the second of two calls of its run, the other
stages' rates kept (a clock that the runs move stands in for time, so nothing here depends on this machine)."""

from __future__ import annotations

import types

import pytest

import dancegen.timing as timing
from dancegen.timing import STAGES, RunTimer, seconds_per_unit


class Clock:
    """perf_counter() of a clock that only the runs move."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timing, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    return clock


def run_taking(clock: Clock, *seconds: float):
    """A run whose n-th call takes seconds[n] on the clock; it records its calls."""
    calls = []

    def run():
        clock.now += seconds[len(calls)]
        calls.append(1)

    run.calls = calls
    return run


def test_the_second_call_is_timed_per_unit_of_work(clock):
    run = run_taking(clock, 9.0, 3.0)  # the first call pays a one-off start-up cost
    assert seconds_per_unit(run, 1.5) == pytest.approx(2.0)
    assert len(run.calls) == 2


def test_calibrate_sets_the_stages_it_ran_and_keeps_the_others(clock):
    timer = RunTimer({"preparing": 1.0, "encoding": 0.4, "denoising": 0.22, "writing": 1.9})
    encode, write = run_taking(clock, 5.0, 0.5), run_taking(clock, 1.0, 8.0)
    rates = timer.calibrate({"encoding": (encode, 2.0), "writing": (write, 4.0)})
    assert rates == {"preparing": 1.0, "encoding": 0.25, "denoising": 0.22, "writing": 2.0}
    assert list(rates) == list(STAGES) and timer.rates == rates and timer.runs == 0
    assert rates is not timer.rates  # the caller's copy
