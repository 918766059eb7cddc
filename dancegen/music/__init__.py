"""Music stage: a music file (or a waveform) in; its tempo, beats, bar starts (downbeats), meter and energy
envelopes out, as a :class:`MusicAnalysis` on the segment's own time axis (t = 0 at the offset).

Decoding lives in :mod:`dancegen.io.audio`; beats come from librosa's dynamic-programming tracker on our tempo
path, bars and meter from our accent-contrast estimate (:mod:`.analysis`); :mod:`.library` caches analysed segments
and decides a short segment's meter from the song around it.
"""

from .analysis import DEFAULT_CONFIG, MusicAnalysis, MusicConfig, Section, analyse, analyse_samples, warm_up, with_meter_of
from .library import MusicLibrary

__all__ = ["DEFAULT_CONFIG", "MusicAnalysis", "MusicConfig", "MusicLibrary", "Section", "analyse", "analyse_samples", "warm_up",
           "with_meter_of"]
