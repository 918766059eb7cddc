"""Running a study: each process makes its share of the cells on the studio, then the main process merges the
results and writes the summary and plots.

Under ``accelerate launch`` (several GPUs or machines) every process takes every ``count``-th pair from its index
(:func:`~dancegen.study.grid.share`), so a pair's baseline is made once, in the process that makes its identity
cells; each process writes its own part file; after ``wait_for_everyone`` the main process merges them into
results.csv and checks that every cell of the grid has exactly one row. Without ``accelerate launch`` it is one
process. A cell whose input fails (no face, broken music) is recorded with its message and the others go on. A
rerun leaves alone the cells made (their video still there) and those refused for their input, and makes the rest:
new cells, cells that ran out of memory or met one of our bugs, deleted videos.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..config import StudioConfig
from ..errors import GenerationCancelled, ResourceLimit, UserError, report_internal
from ..io.files import write_atomic, write_text_atomic
from ..io.photo import load_photo
from ..studio import DanceStudio
from .grid import BASELINE, IDENTITY, STUDY_JSON, Cell, Pair, StudyPlan, pairs_of, read_study, share
from .table import FAILED, INPUT, INTERNAL, OK, PHOTOS, RESOURCE, PartFile, cell_row, merge, settled_keys

logger = logging.getLogger(__name__)

# how long the first process to finish waits for the others (torch.distributed's default, 30 min, is too short for
# shares that take hours)
WAIT_TIMEOUT = datetime.timedelta(days=7)


@dataclass(frozen=True)
class Processes:
    """This process's place among the processes of a study."""

    index: int = 0  # this process (0: the main one, which merges)
    count: int = 1  # processes in all
    wait: Callable[[], None] = lambda: None  # returns once every process has called it
    device: str | None = None  # this process's device (one GPU each under accelerate), None: the studio decides


def processes(device: str | None = None) -> Processes:
    """This process's place among those ``accelerate launch`` started (index 0 of 1 without it), through
    accelerate's PartialState; each process of a multi-GPU launch gets its own GPU unless ``device`` names one
    (``cuda:1``) or the CPU."""
    import torch
    from accelerate import PartialState

    cpu = device == "cpu" or not torch.cuda.is_available()
    state = PartialState(cpu=cpu, timeout=WAIT_TIMEOUT)
    own = str(state.device) if state.num_processes > 1 and state.device.type == "cuda" else None
    if device not in (None, "cuda"):  # a device named exactly (cpu, cuda:1) is used as it is
        own = device
    return Processes(state.process_index, state.num_processes, state.wait_for_everyone, own or device)


class Studios:
    """The studio of the identity cells and the one of the baselines (the same one unless a baseline checkpoint
    is given), each loaded when a cell first needs it, so a rerun with nothing to do loads no model."""

    def __init__(self, config: StudioConfig, baseline: StudioConfig | None = None,
                 loaded: Sequence[DanceStudio] = ()):
        self.configs = {IDENTITY: config, BASELINE: baseline or config}
        self._loaded = {studio.config: studio for studio in loaded}

    @classmethod
    def of(cls, main: DanceStudio, baseline: DanceStudio | None = None) -> Studios:
        """Studios already loaded (tests, notebooks)."""
        return cls(main.config, None if baseline is None else baseline.config, [main, *([baseline] if baseline
                                                                                        else [])])

    def for_cell(self, cell: Cell) -> DanceStudio:
        config = self.configs[cell.role]
        if config not in self._loaded:
            self._loaded[config] = DanceStudio(config)
        return self._loaded[config]


@dataclass
class Outcome:
    """What one process did; the main process also has the merged table and the cells without a row."""

    made: int = 0  # cells made now
    failed: int = 0  # cells that failed now (recorded with their message)
    skipped: int = 0  # cells finished before
    cells: int = 0  # cells in the whole grid
    missing: list[str] = field(default_factory=list)  # grid cells with no row after the merge (main process)
    written: list[Path] = field(default_factory=list)  # results.csv, summary.md and plots (main process)


def _differences(old: dict, new: dict, path: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{path}{key}.")
        elif a != b:
            out.append(f"{path}{key} {b!r} here, {a!r} there")
    return out


def claim(folder: Path, plan: StudyPlan, main: bool) -> None:
    """A study folder holds one study: the shared settings and models of its first run (study.json). Another
    run may add photos, songs and identity settings, but UserError for different shared settings or models."""
    fixed = json.loads(json.dumps(plan.fixed()))
    if (folder / STUDY_JSON).is_file():
        differs = _differences(read_study(folder), fixed)
        if differs:
            raise UserError(f"{folder} holds a study made with other settings ({'; '.join(differs[:3])}); "
                            "use another --out folder, or the same settings")
    elif main:
        write_text_atomic(folder / STUDY_JSON, json.dumps(fixed, indent=2))


def reference_copy(folder: Path, cell: Cell) -> str | None:
    """The reference photo, upright, as a PNG any browser shows (HEIC is not one of them), saved into the study
    folder once, named by the file's digest (processes sharing a photo each write it whole under a name of its own
    and rename it into place) -> its relative path; None when the photo does not decode (its cells fail anyway)."""
    relative = f"{PHOTOS}/{cell.photo_sha[:16]}.png"
    target = folder / relative
    if not target.is_file():
        try:
            image = load_photo(cell.photo)
        except UserError:
            return None
        write_atomic(target, lambda tmp: image.save(tmp, format="PNG"))
    return relative


def run_share(pairs: Sequence[Pair], folder: Path, studios: Studios, part: PartFile, done: set[str],
              process: int = 0, log: Callable[[str], None] = print) -> Outcome:
    """Make the cells of ``pairs`` not in ``done`` (baseline first), one row each into ``part``."""
    outcome = Outcome()
    total = sum(len(pair.all) for pair in pairs)
    count = 0

    def record(cell: Cell, row: dict, text: str) -> None:
        nonlocal count
        count += 1
        part.add(row)
        if row["status"] == OK:
            outcome.made += 1
        else:
            outcome.failed += 1
        log(f"[{process}] {count}/{total} {cell.photo.name} + {cell.music.name}, {cell.label}: {text}")

    def make(cell: Cell, reference: str) -> tuple[str, str] | None:
        """Make one cell and record it; -> None, or (why it failed, its message)."""
        studio = studios.for_cell(cell)  # a model that does not load stops the study (UserError: exit 2)
        clock = time.perf_counter()
        try:
            result = studio.generate(cell.photo, cell.music, cell.settings, out_dir=folder / cell.folder)
        except GenerationCancelled:
            raise
        except UserError as exc:
            failure, error = INPUT, str(exc)
        except ResourceLimit as exc:
            failure, error = RESOURCE, str(exc)
        except Exception as exc:  # our bug: logged with its traceback; the other cells go on
            failure, error = INTERNAL, report_internal(logger, f"study cell {cell.key}", exc)
        else:
            wall = time.perf_counter() - clock
            record(cell, cell_row(cell, status=OK, report=result.report, wall_s=wall, process=process,
                                  reference=reference), f"made {cell.key} in {wall:.1f} s")
            return None
        record(cell, cell_row(cell, status=FAILED, failure=failure, error=error, process=process,
                              reference=reference), f"failed {cell.key}: {error}")
        return failure, error

    for pair in pairs:
        todo = [cell for cell in pair.all if cell.key not in done]
        outcome.skipped += len(pair.all) - len(todo)
        count += len(pair.all) - len(todo)
        if not todo:
            continue
        reference = reference_copy(folder, pair.baseline)
        problem = make(pair.baseline, reference) if pair.baseline.key not in done else None
        for cell in pair.cells:
            if cell.key in done:
                continue
            if problem is None:
                make(cell, reference)
                continue
            error = f"its baseline could not be made: {problem[1]}"
            record(cell, cell_row(cell, status=FAILED, failure=problem[0], error=error, process=process,
                                  reference=reference), f"failed {cell.key}: {error}")
    return outcome


def run_study(plan: StudyPlan, folder: Path, studios: Studios, procs: Processes = Processes(),
              log: Callable[[str], None] = print, summarise: Callable[[Path], list[Path]] | None = None) -> Outcome:
    """Run this process's share of the study into ``folder``; the main process then merges the results, finds the
    grid cells without a row, and calls ``summarise(folder)`` (summary.md and plots) -> the paths it wrote."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    main = procs.index == 0
    if main:
        claim(folder, plan, main=True)
    procs.wait()  # study.json is there before the others check it
    if not main:
        claim(folder, plan, main=False)
    pairs = pairs_of(plan)
    done = settled_keys(folder)
    mine = share(pairs, procs.index, procs.count)
    outcome = run_share(mine, folder, studios, PartFile(folder, procs.index), done, procs.index, log)
    outcome.cells = sum(len(pair.all) for pair in pairs)
    procs.wait()  # every part file is complete
    if main:
        table = merge(folder)
        have = set(table["key"]) if not table.empty else set()
        outcome.missing = [cell.key for pair in pairs for cell in pair.all if cell.key not in have]
        outcome.written = [folder / "results.csv", *(summarise(folder) if summarise is not None else [])]
    return outcome


def with_device(config: StudioConfig, procs: Processes) -> StudioConfig:
    """The studio settings with this process's own device (multi-GPU), when one was assigned."""
    return config if procs.device is None else dataclasses.replace(config, device=procs.device)
