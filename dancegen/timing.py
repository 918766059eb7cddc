"""How long a generation takes here: per-stage estimates from rates measured on this machine, refined by each run.

A generation has four stages, each with its own amount of work:

* preparing (face, music, choreography): once per run, a little more for longer music;
* encoding (the reference, every frame's pose features): frames x megapixels;
* denoising: steps x windows x UNet samples (4 for a guided A/B) x frames per window x megapixels;
* writing (decoding the latents into the four mp4s with the music): frames x megapixels x (videos + 1).

Seconds = rate x work, with one rate per stage. Rates start from a short calibration run (:meth:`RunTimer.calibrate`
on callables the studio makes with its own models) and follow each real run with an exponential average, so the estimate gets better
as people use the app. :class:`Progress` is what the studio reports while it runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

STAGES = ("preparing", "encoding", "denoising", "writing")


@dataclass(frozen=True)
class Work:
    """How much of each stage one generation is (see the module docstring)."""

    preparing: float
    encoding: float
    denoising: float
    writing: float

    @classmethod
    def of(cls, frames: int, steps: int, videos: int, guided: bool, width: int, height: int, music_s: float,
           windows: int, window_frames: int) -> Work:
        mp = width * height / 1e6
        samples = videos * (2 if guided else 1)
        return cls(preparing=1.0 + music_s / 60.0, encoding=frames * mp,
                   denoising=steps * windows * samples * window_frames * mp, writing=frames * mp * (videos + 1))


@dataclass(frozen=True)
class Progress:
    """Where a running generation is."""

    stage: str  # one of STAGES
    done: int  # units of the stage done: steps x windows while denoising, frames while writing
    total: int  # units of the stage in all
    fraction: float  # of the whole run, 0..1, weighted by each stage's estimated time
    elapsed_s: float  # seconds since the run started
    remaining_s: float  # estimated seconds left
    detail: str = ""  # e.g. "step 3/25, window 2/5"


@dataclass
class RunTimer:
    """Seconds per unit of work of each stage on this machine (thread-safe)."""

    rates: dict[str, float]  # stage -> seconds per unit of work
    smoothing: float = 0.5  # weight of the newest run in the rates (exponential average)
    runs: int = 0  # real runs learned from
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def estimate(self, work: Work) -> dict[str, float]:
        """Estimated seconds of each stage."""
        with self._lock:
            return {stage: self.rates[stage] * getattr(work, stage) for stage in STAGES}

    def calibrate(self, runs: Mapping[str, tuple[Callable[[], object], float]]) -> dict[str, float]:
        """Measure the rate of each stage in ``runs`` (stage -> a callable doing some of its work, and how much work
        one call is) from the second of two calls; the other stages keep theirs. -> every stage's rate."""
        measured = {stage: seconds_per_unit(run, amount) for stage, (run, amount) in runs.items()}
        with self._lock:
            self.rates.update(measured)
            return {stage: self.rates[stage] for stage in STAGES}

    def learn(self, work: Work, seconds: dict[str, float]) -> None:
        """Fold one measured run (seconds per stage) into the rates."""
        with self._lock:
            for stage in STAGES:
                amount = getattr(work, stage)
                if amount > 0 and seconds.get(stage, 0.0) > 0:
                    rate = seconds[stage] / amount
                    self.rates[stage] += self.smoothing * (rate - self.rates[stage])
            self.runs += 1

    def progress(self, estimate: dict[str, float], stage: str, done: int, total: int, elapsed_s: float,
                 detail: str = "") -> Progress:
        """A :class:`Progress` for ``done`` of ``total`` units of ``stage``, with the time left estimated from the
        elapsed time once a fair part of the run is done (the stage estimates before that)."""
        before = sum(estimate[s] for s in STAGES[: STAGES.index(stage)])
        whole = max(sum(estimate.values()), 1e-9)
        fraction = min(1.0, (before + estimate[stage] * done / max(total, 1)) / whole)
        if fraction >= 0.1:
            remaining = elapsed_s * (1 - fraction) / fraction
        else:
            remaining = max(0.0, whole - elapsed_s)
        return Progress(stage, done, total, fraction, elapsed_s, remaining, detail)


def seconds_per_unit(run: Callable[[], object], amount: float) -> float:
    """Seconds per unit of work of ``run``, which does ``amount`` units: the second of two calls is timed, so
    one-off start-up costs (first kernels, caches) are left out."""
    run()
    clock = time.perf_counter()
    run()
    return (time.perf_counter() - clock) / amount
