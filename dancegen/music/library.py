"""Analysed music, cached: a file's segment is analysed once (keyed by the file's contents, not its name), and a
segment shorter than the song takes its meter, bar phase and sections from a longer stretch of the song around it
(a few seconds rarely show the meter: the first 6 s of a 4/4 click track at 70 BPM look like 3/4; and which music
repeats shows only in the song)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from cachetools import LRUCache

from ..errors import MusicError
from ..io.files import file_sha256
from .analysis import MusicAnalysis, analyse, with_meter_of, with_sections_of

METER_CONTEXT_S = 120.0  # seconds of the song around a shorter segment that decide its meter, bar phase and sections


class MusicLibrary:
    """Thread-safe cache of analysed segments; :meth:`analyse` is what the studio calls."""

    def __init__(self, max_music_s: float, maxsize: int = 8):
        self.max_music_s = max_music_s  # longest segment analysed; longer ones are trimmed (with a notice)
        self._cache: LRUCache = LRUCache(maxsize=maxsize)  # (digest, offset, seconds) -> MusicAnalysis
        self._lock = threading.Lock()

    def analyse(self, path: str | os.PathLike, offset_s: float = 0.0, seconds: float | None = None
                ) -> MusicAnalysis:
        """Beats, tempo, energy and sections of a music segment (MusicError for a missing or unusable file). When
        the segment is a part of a longer song, a stretch around it (up to METER_CONTEXT_S) decides the meter and
        bar phase, and its sections (clipped to the segment) are the segment's: repeats show only in the song."""
        path = Path(path)
        if not path.is_file():
            raise MusicError(f"music file not found: {path.name}")
        key = (file_sha256(path), float(offset_s), None if seconds is None else float(seconds))
        segment = self._cached(key, lambda: analyse(path, offset_s=offset_s, duration_s=seconds,
                                                    max_seconds=self.max_music_s))
        total = segment.source_duration_s
        if total is None or segment.duration_s >= min(total, METER_CONTEXT_S) - 0.5:
            return segment  # already the whole song, or a long enough stretch
        middle = segment.offset_s + segment.duration_s / 2
        start = max(0.0, min(middle - METER_CONTEXT_S / 2, total - METER_CONTEXT_S))
        context = self._cached((key[0], "context", round(start, 3)),
                               lambda: analyse(path, offset_s=start, duration_s=METER_CONTEXT_S,
                                               max_seconds=METER_CONTEXT_S))
        return with_sections_of(with_meter_of(segment, context), context)

    def _cached(self, key: tuple, make: Callable[[], MusicAnalysis]) -> MusicAnalysis:
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:  # analysed outside the lock: two requests for new music do not wait for each other
            cached = make()
            with self._lock:
                self._cache[key] = cached
        return cached
