"""The cells of a study: every photo x song x identity setting, each known by a digest of what it is made from.

A *pair* is one photo and one song: its baseline cell (alpha 0, or the baseline checkpoint) is made once and shared
by all its identity cells, which use the same seed, so the same noise and poses. A cell's key is a digest of the
photo's and the music's bytes, the cell's generation settings and the model, so a rerun recognises finished cells
whatever the files are called, and a changed photo under the same name is a new cell.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import GenerationSettings, Mode, PresetName, StudioConfig
from ..errors import SettingsError, UserError
from ..io.files import file_sha256

PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".heic", ".heif", ".avif")
MUSIC_SUFFIXES = (".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac", ".aif", ".aiff", ".wma")
BASELINE, IDENTITY = "baseline", "identity"  # the two roles of a cell
KEY_CHARS = 20  # hex digits of a cell key
STUDY_JSON = "study.json"  # what every run in a study folder shares (StudyPlan.fixed)


def input_files(path: str | os.PathLike, suffixes: Sequence[str], what: str) -> list[Path]:
    """The files of a folder whose names end in ``suffixes`` (sorted by name; hidden files skipped), or the one
    file given. UserError when there is nothing to use."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise UserError(f"{what} folder not found: {path}")
    found = sorted(p for p in path.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in suffixes)
    if not found:
        raise UserError(f"no {what} files in {path} (looked for {', '.join(suffixes)})")
    return found


def _plain(value):
    return value.value if isinstance(value, enum.Enum) else list(value) if isinstance(value, tuple) else value


def settings_dict(settings: GenerationSettings) -> dict:
    """A request's settings as JSON-ready values (enums as their names, pairs as lists)."""
    return {f.name: _plain(getattr(settings, f.name)) for f in dataclasses.fields(settings)}


def digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:KEY_CHARS]


def model_identity(config: StudioConfig) -> dict:
    """What identifies the model a cell is made with, without loading it: the preset, the weights folder (by its
    absolute path, and for a folder written by ``dancegen train`` by its manifest's digest, which holds every
    file's sha256: weights trained again into the same folder are another model), the precision asked for ("auto":
    the device's default), the tiny preset's weight seed and the music limit (it trims the dance)."""
    from ..models.trained import MANIFEST  # the models' package loads here, after the flags are checked

    weights = None if config.weights_dir is None else Path(config.weights_dir).expanduser().resolve()
    manifest = None if weights is None else weights / MANIFEST
    return {"preset": str(config.preset), "weights": None if weights is None else str(weights),
            "trained": file_sha256(manifest) if manifest is not None and manifest.is_file() else None,
            "download": config.download and weights is None,
            "dtype": "auto" if config.dtype is None else str(config.dtype), "tiny_seed": config.tiny_seed,
            "max_music_s": config.max_music_s}


@dataclass(frozen=True)
class Setting:
    """One identity setting of the grid."""

    alpha: float  # identity strength of the identity video
    id_tokens: int | None  # identity tokens N (None: all the face encoder makes)

    @property
    def label(self) -> str:
        return f"alpha {self.alpha:g}, " + ("all tokens" if self.id_tokens is None else f"{self.id_tokens} tokens")

    @property
    def folder(self) -> str:
        return f"alpha{self.alpha:g}-n{'all' if self.id_tokens is None else self.id_tokens}"


@dataclass(frozen=True)
class Cell:
    """One video of the study."""

    key: str  # digest of the photo and music bytes, the settings, the model and the role
    pair: str  # key of the pair's baseline cell (the baseline's own key for the baseline)
    role: str  # BASELINE or IDENTITY
    setting: Setting | None  # the identity setting (None for the baseline)
    photo: Path  # the reference photo
    music: Path  # the music file
    photo_sha: str  # SHA-256 of the photo's bytes
    music_sha: str  # SHA-256 of the music's bytes
    settings: GenerationSettings  # the whole request of this cell (mode baseline or identity)
    model: dict  # model_identity() of the studio that makes it
    folder: str  # where its videos and report.json go, relative to the study folder

    @property
    def label(self) -> str:
        return "baseline" if self.setting is None else self.setting.label


@dataclass(frozen=True)
class Pair:
    """One photo and one song: the shared baseline and the identity cells compared with it."""

    baseline: Cell
    cells: tuple[Cell, ...]  # identity cells, in grid order

    @property
    def all(self) -> tuple[Cell, ...]:
        return (self.baseline, *self.cells)


@dataclass(frozen=True)
class StudyPlan:
    """What a study is: inputs, identity settings, the shared request settings and the models."""

    photos: tuple[Path, ...]  # reference photos, in order
    music: tuple[Path, ...]  # music files, in order
    settings: tuple[Setting, ...]  # identity settings compared with the baseline
    base: GenerationSettings  # the request settings every cell shares (seed, steps, fps, size, seconds, ...)
    model: dict  # model_identity() of the main studio
    baseline_model: dict  # model_identity() of the studio that makes the baselines (the main one unless given)

    def fixed(self) -> dict:
        """What every run in one study folder must share (study.json): the shared settings and the models."""
        shared = {k: v for k, v in settings_dict(self.base).items() if k not in ("alpha", "id_tokens", "mode")}
        return {"settings": shared, "model": self.model, "baseline_model": self.baseline_model}

    @property
    def separate_baseline(self) -> bool:
        return self.baseline_model != self.model


def make_plan(photos: Sequence[Path], music: Sequence[Path], alphas: Sequence[float],
              id_tokens: Sequence[int | None], base: GenerationSettings, config: StudioConfig,
              baseline: StudioConfig | None = None) -> StudyPlan:
    """The plan of a study; ``baseline``: the studio settings of the baselines when they come from another
    checkpoint. Alpha 0 is the baseline itself (it needs no identity run) unless the baselines come from another
    checkpoint: then alpha 0 is an identity cell of the main model like any other. SettingsError for a token count
    the preset's face encoder does not make (checked here, not once per cell)."""
    from ..models import get_preset, read_trained

    most = get_preset(config.preset).num_id_tokens
    wrong = [n for n in id_tokens if n is not None and not 1 <= n <= most]
    if wrong:
        raise SettingsError(f"--id-tokens {','.join(map(str, wrong))}: the {config.preset} preset's face encoder "
                            f"makes {most} identity tokens; choose counts from 1 to {most}")
    if (baseline is not None and baseline.preset == PresetName.TINY and baseline.weights_dir is not None
            and read_trained(baseline.weights_dir) is None):
        raise SettingsError(f"--baseline-weights {baseline.weights_dir}: the tiny preset's own weights are random, so "
                            "its baseline checkpoint must be a folder written by dancegen train")
    model = model_identity(config)
    baseline_model = model if baseline is None else model_identity(baseline)
    settings = []
    for alpha in alphas:
        if alpha == 0 and baseline_model == model:
            continue
        for n in (id_tokens if alpha else [None]):  # N means nothing at alpha 0
            setting = Setting(float(alpha), n)
            if setting not in settings:
                settings.append(setting)
    return StudyPlan(tuple(photos), tuple(music), tuple(settings), base, model, baseline_model)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:40] or "_"


def pairs_of(plan: StudyPlan) -> list[Pair]:
    """Every photo x song of the plan with its cells (digests read from the files; a photo and song whose bytes
    repeat an earlier pair's are that pair, listed once)."""
    shas = {path: file_sha256(path) for path in {*plan.photos, *plan.music}}
    pairs, seen = [], set()
    for photo in plan.photos:
        for music in plan.music:
            inputs = {"photo": shas[photo], "music": shas[music]}
            base = dataclasses.replace(plan.base, mode=Mode.BASELINE, alpha=0.0, id_tokens=None)
            key = digest({**inputs, "role": BASELINE, "settings": settings_dict(base), "model": plan.baseline_model})
            if key in seen:
                continue
            seen.add(key)
            folder = f"videos/{_safe(photo.stem)}+{_safe(music.stem)}-{key[:8]}"
            common = dict(pair=key, photo=photo, music=music, photo_sha=shas[photo], music_sha=shas[music])
            baseline = Cell(key=key, role=BASELINE, setting=None, settings=base, model=plan.baseline_model,
                            folder=f"{folder}/baseline", **common)
            cells = []
            for setting in plan.settings:
                request = dataclasses.replace(plan.base, mode=Mode.IDENTITY, alpha=setting.alpha,
                                              id_tokens=setting.id_tokens)
                cell_key = digest({**inputs, "role": IDENTITY, "settings": settings_dict(request),
                                   "model": plan.model})
                cells.append(Cell(key=cell_key, role=IDENTITY, setting=setting, settings=request, model=plan.model,
                                  folder=f"{folder}/{setting.folder}", **common))
            pairs.append(Pair(baseline, tuple(cells)))
    return pairs


def read_study(folder: str | os.PathLike) -> dict:
    """study.json of a study folder ({} when there is none)."""
    path = Path(folder) / STUDY_JSON
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def share(pairs: Sequence[Pair], index: int, count: int) -> list[Pair]:
    """Process ``index`` of ``count``'s pairs: every count-th pair from its index, so the shares are disjoint and
    cover every pair, and a pair's cells stay in one process (its baseline is shared)."""
    if not 0 <= index < count:
        raise ValueError(f"process index {index} is not within 0..{count - 1}")
    return list(pairs[index::count])
