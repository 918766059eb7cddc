"""The face analyser's cache: results kept by image content, and found from a file's bytes without decoding it.

Two bounded LRUs: the SHA-256 of the decoded, upright RGB pixels (``FaceResult.image_hash``) -> the result, so the
same picture is never analysed twice whatever container it arrives in; and the SHA-256 of the file bytes -> that
pixel hash, so a repeated file or upload is answered before it is decoded again. A photo without a face is kept
too (its NoFaceError message), and raised again on a hit.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from cachetools import LRUCache

from ..errors import NoFaceError
from ..io.photo import Photo, PhotoSource, decode_bytes, finish_image, pixel_hash, read_source

R = TypeVar("R")  # what is cached: the analyser's FaceResult


class FaceCacheInfo(NamedTuple):
    hits: int  # analyse() calls answered from the cache
    misses: int  # analyse() calls that had to run the detector
    detector_runs: int  # detector runs, analyse() and embed() together
    size: int  # results held now
    maxsize: int  # most results held


class FaceCache:
    """Results by pixel hash and a file-bytes index onto them (see the module docstring); ``size`` results at most
    (0: nothing is kept). Safe to share between threads."""

    def __init__(self, size: int):
        self.size = size
        self._lock = threading.Lock()
        # pixel hash -> result, or the NoFaceError message for photos without a face; LRU order
        self._results: LRUCache = LRUCache(maxsize=max(1, size))
        # SHA-256 of file bytes -> pixel hash, so repeated files skip decoding; LRU order
        self._files: LRUCache = LRUCache(maxsize=max(1, 2 * size))
        self.hits = 0  # lookups answered from the cache
        self.misses = 0  # lookups that had to analyse

    def analyse(self, src: PhotoSource, analyse: Callable[[Photo, str, float], R], max_pixels: int,
                min_side: int) -> R:
        """The result for the photo ``src`` (path, bytes, PIL or RGB array): the cached one when its file bytes or
        its pixels were seen, else ``analyse(photo, pixel hash, ms spent reading and decoding)``, kept (a NoFaceError
        it raises too). The photo is decoded within ``max_pixels`` and ``min_side`` (PhotoError otherwise)."""
        t0 = time.perf_counter()
        data, image = read_source(src)
        file_digest = None
        if data is not None:
            file_digest = hashlib.sha256(data).hexdigest()
            with self._lock:
                key = self._files.get(file_digest)
            if key is not None:
                entry = self._lookup(key)
                if entry is not None:
                    return _answer(entry)
            photo = decode_bytes(data, max_pixels, min_side)
        else:
            photo = finish_image(image, max_pixels, min_side)
        key = pixel_hash(photo.image)
        entry = self._lookup(key)
        if entry is not None:
            if file_digest is not None:
                self._store(key, entry, file_digest)
            return _answer(entry)
        decode_ms = (time.perf_counter() - t0) * 1000.0
        with self._lock:
            self.misses += 1
        try:
            result = analyse(photo, key, decode_ms)
        except NoFaceError as exc:
            self._store(key, str(exc), file_digest)
            raise
        self._store(key, result, file_digest)
        return result

    def info(self, detector_runs: int) -> FaceCacheInfo:
        """The counts so far, with the analyser's ``detector_runs``."""
        with self._lock:
            return FaceCacheInfo(self.hits, self.misses, detector_runs, len(self._results), self.size)

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
            self._files.clear()

    def _lookup(self, key: str) -> R | str | None:
        with self._lock:
            entry = self._results.get(key)
            if entry is not None:
                self.hits += 1
            return entry

    def _store(self, key: str, entry: R | str, file_digest: str | None) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._results[key] = entry
            if file_digest is not None:
                self._files[file_digest] = key


def _answer(entry: R | str) -> R:
    """A cached result; NoFaceError again for a photo that showed no face."""
    if isinstance(entry, str):
        raise NoFaceError(entry)
    return entry
