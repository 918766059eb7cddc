"""Per-request output folders and removing old ones; writing a folder's files all or none (a hidden work folder,
then everything renamed into place, and the files of an earlier run that this one did not make removed)."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutputError
from .files import temporary_folder

_REQUEST_PREFIX = "request-"


@dataclass(frozen=True)
class OutputDir:
    """Where per-request output folders live, and when old ones are cleaned up."""

    root: Path | str | None = None  # folder holding the request folders; None: <system temp>/dancegen-outputs
    max_age_s: float = 3600.0  # request folders not modified for longer than this are removed on the next create()

    def path(self) -> Path:
        return Path(self.root) if self.root is not None else Path(tempfile.gettempdir()) / "dancegen-outputs"

    def remove_old(self) -> list[Path]:
        """Remove sibling request folders older than max_age_s (nothing else in root); -> the removed folders."""
        if not math.isfinite(self.max_age_s) or self.max_age_s < 0:
            raise ValueError(f"max_age_s must be a number of seconds >= 0, got {self.max_age_s!r}")
        root = self.path()
        if not root.is_dir():
            return []
        cutoff = time.time() - self.max_age_s
        removed = []
        for entry in os.scandir(root):
            if not entry.name.startswith(_REQUEST_PREFIX) or not entry.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(FileNotFoundError):  # another request may be removing it at the same time
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed.append(Path(entry.path))
        return removed

    def create(self) -> Path:
        """Remove old request folders, then make and return a new, empty, uniquely named one."""
        root = self.path()
        self.remove_old()
        root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=_REQUEST_PREFIX, dir=root))

    @contextlib.contextmanager
    def place(self, out_dir: str | os.PathLike | None = None) -> Iterator[tuple[Path, Path]]:
        """-> (the request's folder: ``out_dir``, else a new one from :meth:`create`; a work folder inside it), see
        :func:`work_folder`: the work folder goes however the run ends (Ctrl-C and SIGTERM too), and so does a
        request folder made here and left empty. OutputError for one we cannot write."""
        try:
            final_dir = Path(out_dir) if out_dir is not None else self.create()
        except OSError as exc:
            raise OutputError(f"cannot write into the output folder {self.path()}: {exc.strerror or exc}") from None
        with work_folder(final_dir, made=True if out_dir is None else None) as place:
            yield place


@contextlib.contextmanager
def work_folder(out_dir: str | os.PathLike, made: bool | None = None) -> Iterator[tuple[Path, Path]]:
    """-> (the folder, a hidden work folder inside it, removed however the run ends). The folder is made; a
    folder made here (``made``; default: it did not exist) and left empty goes too. OutputError for a file or a
    folder we cannot write."""
    final_dir = Path(out_dir)
    made = not final_dir.exists() if made is None else made
    if final_dir.exists() and not final_dir.is_dir():
        raise OutputError(f"the output folder {final_dir} is a file")
    try:
        final_dir.mkdir(parents=True, exist_ok=True)
        work = temporary_folder(final_dir, ".partial-")
    except OSError as exc:
        raise OutputError(f"cannot write into the output folder {final_dir}: {exc.strerror or exc}") from None
    try:
        yield final_dir, work
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if made:
            with contextlib.suppress(OSError):  # only when empty: the run did not finish
                final_dir.rmdir()


def move_into_place(work: Path, final_dir: Path, ours: tuple[str, ...]) -> set[str]:
    """Rename every file of ``work`` into ``final_dir``, then remove the files named ``ours`` there that were not
    among them (files only: a folder of the user's under one of our names stays). -> the names moved."""
    made = {item.name for item in work.iterdir()}
    for name in made:
        os.replace(work / name, final_dir / name)
    for old in (final_dir / name for name in ours if name not in made):
        if old.is_file() or old.is_symlink():
            old.unlink()
    return made
