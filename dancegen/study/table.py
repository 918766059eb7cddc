"""The results table: one row per cell, from the studio's report dict, kept in part files while processes run and
merged into results.csv.

Any number or text the report holds becomes a column, so a metric added to the report needs no change here. Values
the report keeps per video (``report[...]["baseline"]``, ``report[...]["identity"]``) are taken for the row's own video
and named ``video.<path>`` (``video.metrics.videos.csim_w600k_mbf``), so the baseline and identity rows of a pair share
their metric columns and can be compared. Lists (per-frame values) stay in each cell's report.json.

Every process writes only its own part file (``parts/part-<process>-<pid>-<id>.jsonl``, rewritten whole under a
temporary name and renamed into place after each cell); :func:`merge` folds the part files into results.csv (one
row per cell key: a finished row wins over a failed one, then the newest) and removes them.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from pathlib import Path

import pandas as pd

from ..io.files import write_atomic, write_text_atomic
from ..metrics import OFFLINE_JUDGE
from .grid import BASELINE, Cell

RESULTS = "results.csv"
PHOTOS = "photos"  # copies of the reference photos, for the review page
PARTS = "parts"
VIDEO_NAMES = ("baseline", "identity", "side_by_side", "skeleton")  # the per-video keys of a report
VIDEO_PREFIX = "video."  # columns of the row's own video
# the report's own row of each video (dancegen/metrics/__init__.py gives its layout)
METRICS = VIDEO_PREFIX + "metrics.videos."
CSIM = METRICS + f"csim_{OFFLINE_JUDGE}"  # the main metric: face similarity of the video to the photo
FACE_RATE = METRICS + f"face_rate_{OFFLINE_JUDGE}"  # the share of scored frames with a face
OK, FAILED = "ok", "failed"
# why a cell failed: its input (deterministic for the same key: not tried again), the machine (out of memory), or
# our bug (logged): the last two are tried again by a rerun
INPUT, RESOURCE, INTERNAL = "input", "resource", "internal"
# the first columns of results.csv, in this order (the report's own columns follow, sorted)
LEADING = ("key", "pair", "role", "status", "failure", "error", "setting", "alpha", "id_tokens", "photo", "music",
           "photo_sha", "music_sha", "folder", "video", "reference", "preset", "weights", "label", "device", "dtype",
           "seed", "steps", "fps", "frames", "seconds", "width", "height", "wall_s", "process", "finished")


def flatten(report: dict, video: str) -> dict:
    """The numbers and texts of a report as ``{dotted.path: value}``; per-video values only for ``video``, as
    ``video.<path>``; lists of texts joined with "; ", other lists left out."""
    out: dict = {}

    def walk(node: dict, path: tuple[str, ...], own: bool) -> None:
        for key, value in node.items():
            if key in VIDEO_NAMES:
                if key == video:  # this row's video: the key is dropped from the path
                    put(value, path, True)
                continue
            put(value, (*path, str(key)), own)

    def put(value, path: tuple[str, ...], own: bool) -> None:
        if isinstance(value, dict):
            walk(value, path, own)
            return
        if isinstance(value, list):
            if not value or not all(isinstance(v, str) for v in value):
                return
            value = "; ".join(value)
        elif not isinstance(value, (bool, int, float, str)) and value is not None:
            return
        out[(VIDEO_PREFIX if own else "") + ".".join(path)] = value

    walk(report, (), False)
    return out


def cell_row(cell: Cell, *, status: str, failure: str | None = None, error: str | None = None,
             report: dict | None = None, wall_s: float | None = None, process: int = 0,
             reference: str | None = None) -> dict:
    """The results row of a cell: what it is, how it went (``failure``: INPUT, RESOURCE or INTERNAL), and (when
    made) every value of its report."""
    video = cell.role
    row = {"key": cell.key, "pair": cell.pair, "role": cell.role, "status": status, "failure": failure,
           "error": error,
           "setting": cell.label, "alpha": 0.0 if cell.role == BASELINE else cell.setting.alpha,
           "id_tokens": None, "photo": cell.photo.name, "music": cell.music.name, "photo_sha": cell.photo_sha,
           "music_sha": cell.music_sha, "folder": cell.folder, "video": None, "reference": reference,
           "seed": cell.settings.seed, "wall_s": None if wall_s is None else round(wall_s, 3), "process": process,
           "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if report is not None:
        flat = flatten(report, video)
        if cell.role != BASELINE:
            row["id_tokens"] = report.get("id_tokens")
        row["video"] = f"{cell.folder}/{video}.mp4"
        row.update({k: v for k, v in flat.items() if k not in row})
    elif cell.role != BASELINE:
        row["id_tokens"] = cell.setting.id_tokens
    return row


class PartFile:
    """One process's rows, rewritten whole under a temporary name and renamed into place after every cell."""

    def __init__(self, folder: Path, process: int):
        self.path = Path(folder) / PARTS / f"part-{process}-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        self.rows: list[dict] = []

    def add(self, row: dict) -> None:
        self.rows.append(row)
        text = "".join(json.dumps(r, default=str) + "\n" for r in self.rows)
        write_text_atomic(self.path, text)


def _version(path: Path) -> tuple[int, int, int] | None:
    """What changes when a part file is written again (it is renamed into place: a new inode); None when gone."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _read_parts(folder: Path) -> tuple[list[dict], dict[Path, tuple[int, int, int]]]:
    """The rows of every part file, and the version of each file as it was read."""
    rows, read = [], {}
    for path in sorted((folder / PARTS).glob("part-*.jsonl")):
        version = _version(path)
        with contextlib.suppress(FileNotFoundError):  # merged and removed by another process meanwhile
            text = path.read_text(encoding="utf-8")
            if version is not None and _version(path) == version:  # else: rewritten while read, read next time
                rows += [json.loads(line) for line in text.splitlines() if line.strip()]
                read[path] = version
    return rows, read


def read_results(folder: Path) -> pd.DataFrame:
    """results.csv of a study folder (an empty table when there is none)."""
    path = Path(folder) / RESULTS
    if not path.is_file():
        return pd.DataFrame(columns=list(LEADING))
    return pd.read_csv(path, dtype={"key": str, "pair": str, "photo_sha": str, "music_sha": str, "error": str})


def _one_per_key(table: pd.DataFrame) -> pd.DataFrame:
    """One row per cell key: a finished row before a failed one, then the newest."""
    if table.empty:
        return table
    order = table.assign(_ok=(table["status"] == OK).astype(int)).sort_values(["_ok", "finished"], ascending=False,
                                                                             kind="stable")
    best = order.drop_duplicates("key", keep="first").drop(columns="_ok")
    best = (best.assign(_role=(best["role"] != BASELINE).astype(int), _n=best["id_tokens"].fillna(0))
            .sort_values(["photo", "music", "pair", "_role", "alpha", "_n"], kind="stable")
            .drop(columns=["_role", "_n"]).reset_index(drop=True))
    leading = [c for c in LEADING if c in best.columns]
    return best[leading + sorted(c for c in best.columns if c not in leading)]


def _combined(folder: Path) -> tuple[pd.DataFrame, dict[Path, tuple[int, int, int]]]:
    """results.csv and the part files together, one row per cell key; and the part files read, with their versions."""
    rows, paths = _read_parts(folder)
    tables = [t for t in (read_results(folder), pd.DataFrame(rows)) if not t.empty]
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=list(LEADING))
    return _one_per_key(table), paths


def all_rows(folder: Path) -> pd.DataFrame:
    """Every row of a study folder (results.csv and any part files), one per cell key."""
    return _combined(Path(folder))[0]


def settled_keys(folder: Path) -> set[str]:
    """Keys of the cells a rerun leaves alone: made, with the video still in the folder; or refused for their input
    (a photo without a face, broken music: the same bytes and settings fail the same way). A cell that ran out of
    memory or met one of our bugs, or whose video was deleted, is made again."""
    folder = Path(folder)
    table = all_rows(folder)
    if table.empty:
        return set()
    refused = table[(table["status"] == FAILED) & (table["failure"] == INPUT)]
    ok = table[(table["status"] == OK) & table["video"].notna()]
    return set(refused["key"]) | {key for key, video in zip(ok["key"], ok["video"]) if (folder / str(video)).is_file()}


def merge(folder: Path) -> pd.DataFrame:
    """Fold the part files into results.csv (one row per cell), then remove the part files that were folded in and
    not written again since (a study still running on the folder keeps its newer rows)."""
    folder = Path(folder)
    table, read = _combined(folder)
    write_atomic(folder / RESULTS, lambda tmp: table.to_csv(tmp, index=False))
    for path, version in read.items():
        if _version(path) == version:  # a part another run wrote again since is kept for the next merge
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    with contextlib.suppress(OSError):
        (folder / PARTS).rmdir()  # only when empty
    return table
