"""Blind A/B review of a study: the pairs to judge, their sides shuffled, and every answer in SQLite.

A pair is an identity video and its baseline (the same photo, song, seed, noise and poses). Each showing puts the
identity video on a random side and serves both under names that say nothing: ``review-clips/<name>.mp4``, a hard link
(or a copy where links cannot be made) whose name is a keyed hash (HMAC-SHA256) of the video's path under a secret
kept in the study folder (``review.key``, never served). A video keeps its name across showings, so the clips folder
holds one file per video however many reviewers come, and without the key a name cannot be traced to its video.
A reviewer judges at most one pair per baseline: the identity videos of a photo and song share their baseline, so a
second setting of the same photo and song would show that video again, and a video seen twice (the same pictures,
or after the first answer's reveal) would give its side away. Among the pairs a reviewer may judge, those with the
fewest judgements so far come first, so the settings are judged about equally often. Only the clips folder and the
reference photos are served (:func:`served_folders`), never results.csv, the videos'
own folders or the answers, so neither the page nor a downloaded file tells which is which. Only after the answer is
stored does the reviewer learn the assignment.

The answers live in one SQLite file in the study folder (``review.sqlite``): WAL journal (readers never wait for
the writer), a busy timeout, and one short transaction per answer, so several reviewers can answer at once. Reading
the answers (:func:`read_judgements`, for the summary) opens the file read-only and never makes one. Each
row keeps the reviewer's name, the times the pair was shown and answered, the hidden assignment (the side the
identity video was on), the answers as given (left / right / same) and what they mean (identity / baseline / same).
A reviewer judges each baseline once.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import random
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import UserError
from ..io.files import write_atomic
from .grid import BASELINE, IDENTITY
from .table import OK, PHOTOS, RESULTS, all_rows

STORE = "review.sqlite"
CLIPS = "review-clips"  # the videos as served, under names that say nothing
KEY = "review.key"  # the secret behind the clips' names
SIDES = ("left", "right")
ANSWERS = ("left", "right", "same")
QUESTIONS = ("person", "dance")  # "which keeps the person better?" (required), "which dances better?" (optional)
MAX_NAME = 80  # characters of a reviewer's name
BUSY_TIMEOUT_S = 30.0  # how long a write waits for another reviewer's to finish

SCHEMA = """
CREATE TABLE IF NOT EXISTS judgements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reviewer TEXT NOT NULL,
    pair TEXT NOT NULL,                  -- the identity cell's key (results.csv)
    setting TEXT NOT NULL,               -- e.g. "alpha 1, 4 tokens"
    alpha REAL NOT NULL,
    id_tokens INTEGER,
    identity_side TEXT NOT NULL CHECK (identity_side IN ('left', 'right')),  -- the hidden assignment
    person TEXT NOT NULL CHECK (person IN ('left', 'right', 'same')),        -- which keeps the person better
    dance TEXT CHECK (dance IN ('left', 'right', 'same')),                   -- which dances better (optional)
    person_choice TEXT NOT NULL,         -- identity / baseline / same
    dance_choice TEXT,
    shown_at TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    UNIQUE (reviewer, pair)
)
"""


@dataclass(frozen=True)
class Pair:
    """An identity video and its baseline, to be judged side by side."""

    id: str  # the identity cell's key
    base: str  # the baseline cell's key (shared by the identity videos of one photo and song)
    setting: str  # the identity setting, e.g. "alpha 1, 4 tokens"
    alpha: float
    id_tokens: int | None
    photo: Path  # the reference photo (the study folder's copy)
    baseline: Path  # baseline video
    identity: Path  # identity video


@dataclass(frozen=True)
class Showing:
    """A pair as one reviewer sees it: which side holds the identity video is known only to the server."""

    pair: Pair
    identity_side: str  # "left" or "right"
    left: Path  # the video shown on the left, under a name that says nothing
    right: Path
    shown_at: str  # ISO time it was shown


def study_folder(folder: str | os.PathLike) -> Path:
    """A study folder (one with results.csv); UserError otherwise."""
    path = Path(folder).expanduser()
    if not (path / RESULTS).is_file():
        raise UserError(f"{path} is not a study folder (no {RESULTS}): make one with dancegen eval --out {path}")
    return path


def study_pairs(folder: str | os.PathLike) -> list[Pair]:
    """The pairs of a study folder whose two videos and photo are there, in results.csv order."""
    folder = Path(folder)
    table = all_rows(folder)
    if table.empty:
        return []
    ok = table[(table["status"] == OK) & table["video"].notna()]
    baselines = {row.key: row for row in ok[ok["role"] == BASELINE].itertuples()}
    pairs = []
    for row in ok[ok["role"] == IDENTITY].itertuples():
        base = baselines.get(row.pair)
        if base is None or not isinstance(row.reference, str):
            continue
        paths = folder / row.reference, folder / base.video, folder / row.video
        if all(p.is_file() for p in paths):
            tokens = None if pd.isna(row.id_tokens) else int(row.id_tokens)
            pairs.append(Pair(row.key, base.key, row.setting, float(row.alpha), tokens, *paths))
    return pairs


def served_folders(folder: str | os.PathLike) -> list[Path]:
    """The only folders of a study the review page serves: the clips under their names, and the reference photos."""
    folder = Path(folder)
    return [folder / CLIPS, folder / PHOTOS]


def _key(folder: Path) -> bytes:
    """The study's secret for the clips' names: made once (written whole, the first writer wins), then read."""
    path = folder / KEY
    if not path.is_file():
        with contextlib.suppress(FileExistsError):
            write_atomic(path, lambda tmp: tmp.write_bytes(secrets.token_bytes(32)), replace=False)
    return path.read_bytes()


def _clip(folder: Path, video: Path) -> Path:
    """``video`` in the study's clips folder under its keyed name (a hard link; a copy where links fail), made on
    its first showing."""
    relative = video.resolve().relative_to(folder.resolve()).as_posix()
    name = hmac.new(_key(folder), relative.encode(), hashlib.sha256).hexdigest()[:24]
    target = folder / CLIPS / f"{name}.mp4"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)

        def place(tmp: Path) -> None:
            tmp.unlink()
            try:
                os.link(video, tmp)
            except OSError:
                shutil.copyfile(video, tmp)

        write_atomic(target, place)
    return target


def show(folder: str | os.PathLike, pair: Pair, rng: random.Random) -> Showing:
    """Put the identity video of ``pair`` on a random side."""
    side = rng.choice(SIDES)
    left, right = (pair.identity, pair.baseline) if side == "left" else (pair.baseline, pair.identity)
    return Showing(pair, side, _clip(Path(folder), left), _clip(Path(folder), right), _now())


def meaning(answer: str | None, identity_side: str) -> str | None:
    """left / right / same as the reviewer answered -> identity / baseline / same (None: not answered)."""
    if answer is None:
        return None
    if answer == "same":
        return "same"
    return IDENTITY if answer == identity_side else BASELINE


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def reviewer_name(name: str | None) -> str:
    """A reviewer's name, trimmed; UserError when there is none."""
    name = " ".join((name or "").split())
    if not name:
        raise UserError("please enter your name first: every answer is stored with the reviewer's name")
    return name[:MAX_NAME]


class ReviewStore:
    """The answers of a study's blind review, in one SQLite file safe for several reviewers at once."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        with self._connection() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)

    @classmethod
    def of_study(cls, folder: str | os.PathLike) -> ReviewStore:
        return cls(Path(folder) / STORE)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own per call (any thread), one transaction (committed, or rolled back on error)."""
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        try:
            with db:
                yield db
        finally:
            db.close()

    def record(self, reviewer: str, showing: Showing, person: str, dance: str | None = None) -> None:
        """Store one answer with the hidden assignment. UserError for a missing or unknown answer, or a pair this
        reviewer has judged already."""
        reviewer = reviewer_name(reviewer)
        if person not in ANSWERS:
            raise UserError("please say which video keeps the person better (left, right or the same)")
        if dance is not None and dance not in ANSWERS:
            raise UserError(f"unknown answer {dance!r}: left, right or same")
        pair, side = showing.pair, showing.identity_side
        try:
            with self._connection() as db:
                db.execute("INSERT INTO judgements (reviewer, pair, setting, alpha, id_tokens, identity_side, person,"
                           " dance, person_choice, dance_choice, shown_at, answered_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (reviewer, pair.id, pair.setting, pair.alpha, pair.id_tokens, side, person, dance,
                            meaning(person, side), meaning(dance, side), showing.shown_at, _now()))
        except sqlite3.IntegrityError:
            raise UserError(f"{reviewer} has judged this pair already") from None

    def judged(self, reviewer: str) -> set[str]:
        """The pairs a reviewer has answered."""
        with self._connection() as db:
            return {row[0] for row in db.execute("SELECT pair FROM judgements WHERE reviewer = ?",
                                                 (reviewer_name(reviewer),))}

    def judgements_per_pair(self) -> dict[str, int]:
        """How many answers each pair has, over every reviewer."""
        with self._connection() as db:
            return dict(db.execute("SELECT pair, COUNT(*) FROM judgements GROUP BY pair").fetchall())

    def table(self) -> pd.DataFrame:
        """Every answer, oldest first."""
        return read_judgements(self.path)


def read_judgements(path: str | os.PathLike) -> pd.DataFrame:
    """Every answer in the store at ``path``, oldest first, read through a read-only connection that changes
    nothing and makes no store (an empty table when there is none yet)."""
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame()
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            return pd.read_sql_query("SELECT * FROM judgements ORDER BY id", db)
        finally:
            db.close()
    except (sqlite3.Error, pd.errors.DatabaseError) as exc:
        raise UserError(f"the review answers in {path} cannot be read ({exc})") from None


def next_pair(pairs: list[Pair], judged: set[str], rng: random.Random,
              answers: dict[str, int] | None = None) -> Pair | None:
    """A pair the reviewer may still judge blind: none of its baseline's pairs in ``judged`` (the reviewer's pairs).
    Among those, one with the fewest ``answers`` (per pair, over all reviewers), at random. None when none is left."""
    seen = {pair.base for pair in pairs if pair.id in judged}
    left = [pair for pair in pairs if pair.base not in seen]
    if not left:
        return None
    answers = answers or {}
    fewest = min(answers.get(pair.id, 0) for pair in left)
    return rng.choice([pair for pair in left if answers.get(pair.id, 0) == fewest])


def blind_total(pairs: list[Pair]) -> int:
    """How many pairs one reviewer can judge blind: one per baseline."""
    return len({pair.base for pair in pairs})


def counts(table: pd.DataFrame, question: str) -> dict[str, dict[str, int]]:
    """Per setting (and "all settings"): how many answers to ``question`` chose identity, baseline, same."""
    column = f"{question}_choice"
    answered = table[table[column].notna()] if column in table else table.iloc[0:0]
    out: dict[str, dict[str, int]] = {}
    for setting, group in [*answered.groupby("setting", sort=True), ("all settings", answered)]:
        if len(group):
            tally = group[column].value_counts()
            out[str(setting)] = {k: int(tally.get(k, 0)) for k in (IDENTITY, BASELINE, "same")}
    return out
