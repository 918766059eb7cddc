"""Music stage: a music file (or a waveform) in; its tempo, beats, bar starts (downbeats), meter, sections and
energy envelopes out, as a :class:`MusicAnalysis` on the segment's own time axis (t = 0 at the offset).

Decoding lives in :mod:`dancegen.io.audio`; beats come from librosa's dynamic-programming tracker on our tempo
path, bars and meter from our accent-contrast estimate (:mod:`.analysis`); sections (repeated music sharing a
label) from a Laplacian segmentation (:mod:`.structure`); :mod:`.library` caches analysed segments and decides a
short segment's meter and sections from the song around it.
"""

from .analysis import (DEFAULT_CONFIG, MusicAnalysis, MusicConfig, Section, analyse, analyse_samples, warm_up,
                       with_meter_of, with_sections_of)
from .library import MusicLibrary
from .structure import StructureConfig, find_sections

__all__ = ["DEFAULT_CONFIG", "MusicAnalysis", "MusicConfig", "MusicLibrary", "Section", "StructureConfig", "analyse",
           "analyse_samples", "find_sections", "warm_up", "with_meter_of", "with_sections_of"]
