"""Per-request output folders, and removing old ones."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

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


