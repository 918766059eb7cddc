"""Files written whole or not at all, and files known by their contents.

* :func:`write_atomic`: a file is written under a temporary name beside its target and renamed into place, so a
  reader sees the old file or the new one, never half of one, and a failure leaves nothing behind;
* :func:`temporary_file`, :func:`temporary_folder`: where such work is done, with the permissions of any new file or
  folder (the umask's; tempfile gives 0600 / 0700, which others sharing a study folder could not read);
* :func:`file_sha256`: the SHA-256 of a file's bytes, read in blocks (cache keys, study cells, weight manifests).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path


def _unique(parent: str | os.PathLike, prefix: str, suffix: str, make: Callable[[Path], object]) -> Path:
    for _ in range(100):
        path = Path(parent) / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            make(path)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name for {prefix}*{suffix} in {parent}")


def temporary_file(parent: str | os.PathLike, prefix: str, suffix: str = "") -> Path:
    """A new empty file in ``parent`` under a unique name, with the permissions any new file gets (0666 less the
    umask: others can read what we write, as with ``open``; tempfile's files are 0600)."""
    return _unique(parent, prefix, suffix, lambda p: os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)))


def temporary_folder(parent: str | os.PathLike, prefix: str) -> Path:
    """A new empty folder in ``parent`` under a unique name, with the permissions any new folder gets (0777 less the
    umask; tempfile's are 0700), for work that is renamed into place when complete."""
    return _unique(parent, prefix, "", lambda p: os.mkdir(p, 0o777))


def write_atomic(path: str | os.PathLike, write: Callable[[Path], object], replace: bool = True) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path`` (its folder is made; the file exists, empty, and
    ``write`` may replace it), then rename it into place. -> ``path``. Whatever ``write`` raises is raised again,
    after the temporary file is removed. ``replace=False``: the first writer wins, and a later one gets
    FileExistsError (the file it found is whole)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_file(path.parent, f".{path.name}.", ".partial")
    try:
        write(Path(tmp))
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails when path exists: never over another writer's file
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """:func:`write_atomic` of a UTF-8 text."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def file_sha256(path: str | os.PathLike, block: int = 1 << 22) -> str:
    """SHA-256 (hex) of a file's bytes, read ``block`` bytes at a time."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(block), b""):
            digest.update(chunk)
    return digest.hexdigest()
