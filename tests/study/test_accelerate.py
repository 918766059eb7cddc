"""``dancegen eval`` under Hugging Face Accelerate with two processes on the CPU: each process makes its share of
the pairs (a pair's cells in one process), and the merged results hold every cell of the grid exactly once.

On a machine without GPUs, ``accelerate launch --cpu`` starts a single process (accelerate's multi-CPU launch goes
through mpirun); ``--multi_gpu`` starts the processes with torchrun, and each one joins a gloo process group on
the CPU (:func:`dancegen.study.runner.processes`). On GPUs the same command gives each process its own GPU.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys

import pytest
from support.app_server import free_port
from support.study import CELL, make_inputs

from dancegen.study.table import read_results

MADE = re.compile(r"^\[(\d)\] \d+/\d+ (\S+) \+ (\S+), (.+): (made|failed) ([0-9a-f]{20})")


@pytest.mark.timeout(300)
def test_two_processes_make_every_cell_exactly_once(tmp_path):
    photos, music = make_inputs(tmp_path, faces=2, songs=1, failing=False)
    (photos / "empty.png").write_bytes(b"")  # a photo file with nothing in it: refused, recorded
    out = tmp_path / "study"
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              "--main_process_port", str(free_port()), "-m", "dancegen", "eval"]
    size = [str(v) for v in CELL["size"]]
    args = ["--photos", photos, "--music", music, "--alphas", "0,1", "--out", out, "--seconds", CELL["seconds"],
            "--steps", CELL["steps"], "--fps", CELL["fps"], "--size", *size]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([*launch, *map(str, args)], capture_output=True, text=True, timeout=280, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]

    lines = [line for log in sorted((out / "logs").glob("process-*.log")) for line in log.read_text().splitlines()]
    done = [m.groups() for m in map(MADE.match, lines) if m]
    # 3 pairs (2 photos with a face, 1 empty file) x (baseline, alpha 1): each cell done once, by one process
    keys = collections.Counter(key for *_, key in done)
    assert len(keys) == 6 and set(keys.values()) == {1}, done
    by_pair = collections.defaultdict(set)
    for process, photo, song, *_ in done:
        by_pair[photo, song].add(process)
    assert all(len(p) == 1 for p in by_pair.values()), by_pair  # a pair's cells stay in one process
    assert {p for ps in by_pair.values() for p in ps} == {"0", "1"}  # both processes worked

    table = read_results(out)
    assert sorted(table["key"]) == sorted(keys) and table["key"].is_unique  # merged: no duplicate, no gap
    assert set(table["process"]) == {0, 1}
    assert (table["status"] == "ok").sum() == 4 and (table["status"] == "failed").sum() == 2
    assert not (out / "parts").exists()  # the part files were merged and removed
    assert (out / "summary.md").is_file() and (out / "plots" / "csim_vs_alpha.png").is_file()
