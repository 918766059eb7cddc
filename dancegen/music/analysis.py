"""Music analysis: tempo, beats, bar starts and energy envelopes of a waveform.

Pipeline (all at ``MusicConfig.sr`` = 22.05 kHz, hop 512 = 23.2 ms frames):

1. :func:`analyse` decodes only the requested segment with :func:`dancegen.io.audio.load_audio`
   (:func:`analyse_samples` takes a waveform already in memory).
2. One STFT gives a log-mel spectrogram; spectral flux over all bands and over the low band (kick, bass)
   gives two onset envelopes, combined into the beat envelope.
3. An autocorrelation tempogram (8 s window) is decoded with a Viterbi path over 60..180 BPM (log-normal
   prior around 120 BPM, a cost per octave of tempo change), so the local tempo follows tempo changes but
   does not flip between metrical levels frame by frame.
4. librosa's dynamic-programming beat tracker runs with that time-varying tempo. An octave check then
   doubles the tempo when the off-beats are about as strong as the beats, or halves it when every other
   beat is much weaker.
5. Meter (3 or 4) and bar phase: for every candidate (meter, phase) the accent contrast of beat-level
   features (low-band onset, full-band onset, low-band energy, harmonic change) between bar starts and the
   other beats; the best candidate wins, with a small preference for 4/4.
6. Sections (:mod:`.structure`): Laplacian segmentation of the beat-synchronous chroma and MFCC, boundaries
   on bar starts, repeated music sharing a label.

``warm_up()`` runs the whole analysis once on a few seconds of clicks so the numba compilation of
librosa's beat tracker (~25 s on a cold cache) happens off the request path.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import MusicError
from ..io.audio import DEFAULT_LIMITS, AudioLimits, audio_duration, check_samples, load_audio, to_mono
from .structure import DEFAULT_STRUCTURE, Section, StructureConfig, bar_seconds, find_sections, sections_within


@dataclass(frozen=True)
class MusicConfig:
    sr: int = 22050  # analysis sample rate (Hz); input is resampled to it for analysis only
    hop_length: int = 512  # samples between envelope frames (23.2 ms at 22.05 kHz)
    n_fft: int = 2048  # STFT window (samples)
    n_mels: int = 64  # mel bands of the onset spectrogram
    low_band_hz: float = 200.0  # upper edge of the low band (kick drum, bass) used for accents
    top_db: float = 80.0  # dynamic range of the log-mel spectrogram (dB)
    onset_lead_frames: int = 1  # onset envelopes are moved this many frames earlier (measured +27 ms bias)
    detrend_s: float = 0.5  # onset envelope minus its running median over this window (s)
    tempo_min_bpm: float = 60.0  # slowest tempo reported
    tempo_max_bpm: float = 180.0  # fastest tempo reported
    tempo_prior_bpm: float = 120.0  # centre of the log-normal tempo prior
    tempo_prior_octaves: float = 1.0  # standard deviation of the tempo prior (octaves)
    tempogram_s: float = 8.0  # autocorrelation window of the local tempo estimate (s)
    tempo_step_frames: int = 4  # the tempo path is decoded every this many frames (then held)
    tempo_change_cost: float = 20.0  # Viterbi cost per octave of tempo change between path steps
    tightness: float = 100.0  # how strictly beats follow the local tempo (librosa beat_track)
    edge_beat_min_strength: float = 0.1  # leading/trailing beats weaker than this x median beat are dropped
    offbeat_double_ratio: float = 0.5  # off-beat / beat onset strength at or above which the tempo doubles
    parity_halve_ratio: float = 0.3  # weaker / stronger alternate-beat strength at or below which it halves
    clear_beat_min: float = 0.45  # beat clarity below this adds a "no clear beat" notice
    min_onset_db: float = 1.0  # music whose strongest onset (mean dB rise over bands) is weaker has no beat
    meter3_margin: float = 1.15  # 3/4 must beat 4/4's accent contrast by this factor to be chosen
    max_seconds: float = 300.0  # default cap on the analysed length (s); longer music is trimmed
    limits: AudioLimits = DEFAULT_LIMITS  # what music is refused (too short, silent) and the decoding time limit
    structure: StructureConfig = DEFAULT_STRUCTURE  # how sections are found (see .structure)


DEFAULT_CONFIG = MusicConfig()


@dataclass(frozen=True)
class MusicAnalysis:
    path: str  # source file ("" when built from samples)
    sr: int  # sample rate of `samples`
    samples: np.ndarray = field(repr=False)  # [n] float32 mono waveform of the analysed segment
    offset_s: float  # where the segment starts in the source file (s)
    duration_s: float  # length of the analysed segment (s)
    tempo_bpm: float  # global tempo, octave-corrected into 60..180
    beats_s: np.ndarray  # [B] float64 beat times in seconds from segment start, increasing
    downbeats_s: np.ndarray  # [D] float64 bar starts (a subset of beats_s)
    beats_per_bar: int  # meter estimate (3 or 4)
    beat_index_in_bar: np.ndarray  # [B] int64 position of each beat in its bar, 0 for downbeats
    frame_times_s: np.ndarray = field(repr=False)  # [N] float64 time base of the envelopes below (s)
    onset_strength: np.ndarray = field(repr=False)  # [N] float32 onset strength envelope scaled to 0..1
    rms: np.ndarray = field(repr=False)  # [N] float32 energy envelope scaled to 0..1
    local_tempo_bpm: np.ndarray = field(repr=False)  # [N] float32 tempo over time (follows tempo changes)
    notices: tuple[str, ...] = ()  # human-readable notices, e.g. "music trimmed to the first 60 s"
    beat_clarity: float = 1.0  # 0..1: geometric mean of on-/off-beat onset contrast and pulse periodicity;
    # below MusicConfig.clear_beat_min (0.45) a "no clear beat" notice is added (white noise: 0.1..0.42)
    source_duration_s: float | None = None  # length of the whole file (s); None when unknown or from samples
    sections: tuple[Section, ...] = ()  # the song's parts in time order, covering [0, duration_s]; () = not found

    def to_json_dict(self) -> dict:
        """The CLI's JSON summary: times rounded to ms."""
        return {
            "path": self.path,
            "offset_s": round(self.offset_s, 3),
            "duration_s": round(self.duration_s, 3),
            "tempo_bpm": round(self.tempo_bpm, 2),
            "beats_per_bar": self.beats_per_bar,
            "beat_clarity": round(self.beat_clarity, 3),
            "beats_s": [round(float(t), 3) for t in self.beats_s],
            "downbeats_s": [round(float(t), 3) for t in self.downbeats_s],
            "notices": list(self.notices),
            "source_duration_s": None if self.source_duration_s is None else round(self.source_duration_s, 3),
            "sections": [{"label": s.label, "start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3)}
                         for s in self.sections],
        }


# ---------------------------------------------------------------------------------------------- analysis


def _strength_at(env: np.ndarray, frames: np.ndarray, radius: int) -> np.ndarray:
    """Max of ``env`` [N] within +-radius frames of each of ``frames`` [K]: [K]."""
    if len(frames) == 0:
        return np.zeros(0, dtype=env.dtype)
    idx = np.clip(np.round(frames).astype(int)[:, None] + np.arange(-radius, radius + 1)[None, :], 0, len(env) - 1)
    return env[idx].max(axis=1)


def _span_mean(x: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Mean of ``x`` [C, N] over each beat's span [beat_i, beat_{i+1}) (the last to the end): [C, B]."""
    n = x.shape[1]
    starts = np.clip(beats, 0, n - 1)
    ends = np.maximum(np.append(starts[1:], n), starts + 1)
    cumsum = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x, axis=1, dtype=np.float64)], axis=1)
    return (cumsum[:, ends] - cumsum[:, starts]) / (ends - starts)[None, :]


def _tempo_path(env: np.ndarray, cfg: MusicConfig) -> tuple[np.ndarray, float]:
    """Local tempo [N] (BPM, within about 60..180) decoded from an autocorrelation tempogram, and the
    periodicity of the envelope along that path (mean normalised autocorrelation at the chosen lag, 0..1)."""
    import librosa

    fps = cfg.sr / cfg.hop_length
    win = round(cfg.tempogram_s * fps)
    tg = librosa.feature.tempogram(onset_envelope=env, sr=cfg.sr, hop_length=cfg.hop_length, win_length=win)
    bpms = librosa.tempo_frequencies(win, sr=cfg.sr, hop_length=cfg.hop_length)  # [win], inf at lag 0
    sel = np.flatnonzero((bpms >= cfg.tempo_min_bpm / 1.03) & (bpms <= cfg.tempo_max_bpm * 1.03))
    log_bpm = np.log2(bpms[sel])  # [K]
    step = max(1, cfg.tempo_step_frames)
    prior = -0.5 * ((log_bpm - np.log2(cfg.tempo_prior_bpm)) / cfg.tempo_prior_octaves) ** 2  # [K]
    emit = np.log(np.clip(tg[sel][:, ::step], 0.0, None) + 1e-3) + prior[:, None]  # [K, T]
    trans = -cfg.tempo_change_cost * np.abs(log_bpm[:, None] - log_bpm[None, :])  # [K from, K to]
    n_states, n_steps = emit.shape
    back = np.zeros((n_steps, n_states), dtype=np.int64)
    score = emit[:, 0].copy()
    cols = np.arange(n_states)
    for t in range(1, n_steps):
        cand = score[:, None] + trans  # [K, K]
        back[t] = np.argmax(cand, axis=0)
        score = cand[back[t], cols] + emit[:, t]
    path = np.empty(n_steps, dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for t in range(n_steps - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    periodicity = float(np.clip(tg[sel][path, np.arange(n_steps) * step], 0.0, 1.0).mean())
    return np.repeat(bpms[sel][path], step)[: len(env)], periodicity


def _track_beats(env: np.ndarray, bpm: np.ndarray, cfg: MusicConfig) -> np.ndarray:
    """Beat frames [B] from librosa's DP beat tracker with a time-varying tempo ``bpm`` [N]."""
    import librosa

    if not np.any(env > 0):
        return np.zeros(0, dtype=np.int64)
    _, beats = librosa.beat.beat_track(
        onset_envelope=env.astype(np.float32),
        sr=cfg.sr,
        hop_length=cfg.hop_length,
        bpm=bpm.astype(np.float32),
        tightness=cfg.tightness,
        trim=False,  # librosa's trim also drops weak-but-real beats at the ends; see below
    )
    beats = np.asarray(beats, dtype=np.int64)
    if len(beats) < 3:
        return beats
    # drop leading / trailing beats without an onset (silent intro / outro)
    strength = _strength_at(env, beats, 2)  # [B]
    keep = np.flatnonzero(strength >= cfg.edge_beat_min_strength * float(np.median(strength)))
    if len(keep) == 0:
        return beats[:0]
    return beats[keep[0] : keep[-1] + 1]


def _octave_check(env: np.ndarray, beats: np.ndarray, bpm: np.ndarray, cfg: MusicConfig) -> np.ndarray:
    """Move the beats to the metrical level whose accents look like beats: [B'] frames."""
    if len(beats) < 8:
        return beats
    on = _strength_at(env, beats, 2)  # [B]
    mids = (beats[1:] + beats[:-1]) / 2.0  # [B-1]
    off = _strength_at(env, mids, 1)  # [B-1]
    even, odd = float(on[0::2].mean()), float(on[1::2].mean())
    level = float(on.mean()) + 1e-9
    median_bpm = float(np.median(60.0 * cfg.sr / cfg.hop_length / np.diff(beats)))
    # off-beats as strong as beats: the real beat is twice as fast
    if float(off.mean()) / level >= cfg.offbeat_double_ratio and median_bpm * 2 <= cfg.tempo_max_bpm * 1.03:
        return _track_beats(env, bpm * 2.0, cfg)
    # every other beat much weaker: those are off-beats, the real beat is half as fast
    parity = min(even, odd) / (max(even, odd) + 1e-9)
    if parity <= cfg.parity_halve_ratio and median_bpm / 2 >= cfg.tempo_min_bpm / 1.03:
        return beats[0::2] if even >= odd else beats[1::2]
    return beats


def _meter_and_phase(
    beats: np.ndarray, low_env: np.ndarray, full_env: np.ndarray, low_db: np.ndarray, chroma: np.ndarray,
    cfg: MusicConfig,
) -> tuple[int, np.ndarray]:
    """(beats per bar, index in bar [B]) from accent contrast of beat-level features."""
    n_beats = len(beats)
    if n_beats < 6:
        return 4, np.arange(n_beats) % 4
    # beat-level features [B]: onsets at the beat, low-band level and harmonic change over the beat span
    sync_chroma = _span_mean(chroma, beats)  # [12, B]
    sync_low = _span_mean(low_db[None, :], beats)[0]  # [B]
    unit = sync_chroma / (np.linalg.norm(sync_chroma, axis=0, keepdims=True) + 1e-9)
    change = np.empty(n_beats)
    change[1:] = 1.0 - np.sum(unit[:, 1:] * unit[:, :-1], axis=0)
    change[0] = np.median(change[1:])
    features = {
        "low_onset": (_strength_at(low_env, beats, 2), 1.0),
        "onset": (_strength_at(full_env, beats, 2), 0.5),
        "low_level": (sync_low, 0.5),
        "harmony": (change, 1.0),
    }
    z = np.zeros(n_beats)
    for values, weight in features.values():
        std = float(values.std())
        if std > 1e-9:
            z += weight * (values - values.mean()) / std
    best: dict[int, tuple[float, int]] = {}
    for meter in (3, 4):
        for phase in range(meter):
            on_bar = ((np.arange(n_beats) - phase) % meter) == 0
            contrast = float(z[on_bar].mean() - z[~on_bar].mean())
            if meter not in best or contrast > best[meter][0]:
                best[meter] = (contrast, phase)
    meter = 3 if best[3][0] > cfg.meter3_margin * max(best[4][0], 0.0) and best[3][0] > 0 else 4
    phase = best[meter][1]
    return meter, (np.arange(n_beats) - phase) % meter


def _beat_contrast(env: np.ndarray, beats: np.ndarray) -> float:
    """0..1: 1 - (mean onset strength half-way between beats) / (mean onset strength on the beats)."""
    if len(beats) < 3:
        return 0.0
    on = float(_strength_at(env, beats, 2).mean())
    off = float(_strength_at(env, (beats[1:] + beats[:-1]) / 2.0, 2).mean())
    return float(np.clip(1.0 - off / on, 0.0, 1.0)) if on > 0 else 0.0


def _global_tempo(beat_times: np.ndarray, cfg: MusicConfig) -> float:
    ibi = np.diff(beat_times)
    if len(ibi) == 0:
        return float(cfg.tempo_prior_bpm)
    med = float(np.median(ibi))
    steady = ibi[np.abs(ibi - med) <= 0.15 * med]
    tempo = 60.0 / float(steady.mean() if len(steady) else med)
    return float(np.clip(tempo, cfg.tempo_min_bpm, cfg.tempo_max_bpm))


def _local_tempo(beat_times: np.ndarray, frame_times: np.ndarray, fallback: float) -> np.ndarray:
    """Tempo over time [N] from the beat intervals (median of 5, then mean of 4 intervals)."""
    import scipy.ndimage as ndi

    if len(beat_times) < 3:
        return np.full(len(frame_times), fallback, dtype=np.float32)
    ibi = np.diff(beat_times)  # [B-1]
    ibi = ndi.median_filter(ibi, size=min(5, len(ibi)), mode="nearest")
    ibi = ndi.uniform_filter1d(ibi, size=min(4, len(ibi)), mode="nearest")
    mids = (beat_times[1:] + beat_times[:-1]) / 2.0
    return np.interp(frame_times, mids, 60.0 / ibi).astype(np.float32)


def analyse_samples(
    samples: np.ndarray,
    sr: int,
    path: str = "",
    offset_s: float = 0.0,
    notices: tuple[str, ...] = (),
    *,
    config: MusicConfig = DEFAULT_CONFIG,
) -> MusicAnalysis:
    """Analyse a waveform (mono [n] or [n, channels], any sample rate) already in memory."""
    import librosa

    cfg = config
    if not (isinstance(sr, (int, np.integer)) and sr > 0):
        raise MusicError(f"the sample rate must be a positive integer, got {sr!r}")
    mono = to_mono(samples)  # [n] float32
    mono = np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0)
    check_samples(mono, int(sr), offset_s, cfg.limits)
    notices = tuple(notices)

    y = mono if sr == cfg.sr else librosa.resample(mono, orig_sr=int(sr), target_sr=cfg.sr, res_type="soxr_hq")
    y = y / float(np.abs(y).max())  # analysis is level-independent

    # spectrogram and envelopes, all on frames t_k = k * hop / sr
    spec = np.abs(librosa.stft(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length))  # [F, N]
    power = spec**2
    mel = librosa.filters.mel(sr=cfg.sr, n_fft=cfg.n_fft, n_mels=cfg.n_mels) @ power  # [M, N]
    log_mel = librosa.power_to_db(mel, ref=float(mel.max()) + 1e-12, top_db=cfg.top_db)  # [M, N]
    n_low = max(1, int(np.sum(librosa.mel_frequencies(n_mels=cfg.n_mels, fmax=cfg.sr / 2) <= cfg.low_band_hz)))
    low_env, full_env = librosa.onset.onset_strength_multi(
        S=log_mel, sr=cfg.sr, hop_length=cfg.hop_length, n_fft=cfg.n_fft,
        channels=[0, n_low, cfg.n_mels],
    )  # [N] each
    if cfg.onset_lead_frames > 0:  # librosa's centring leaves onsets about one frame late: move them earlier
        pad = np.zeros(cfg.onset_lead_frames, dtype=low_env.dtype)
        low_env = np.concatenate([low_env[cfg.onset_lead_frames :], pad])
        full_env = np.concatenate([full_env[cfg.onset_lead_frames :], pad])
    n_frames = spec.shape[1]
    frame_times = librosa.frames_to_time(np.arange(n_frames), sr=cfg.sr, hop_length=cfg.hop_length)  # [N]
    low_norm = low_env / (low_env.max() + 1e-9)
    full_norm = full_env / (full_env.max() + 1e-9)
    env = low_norm + full_norm  # [N] beat envelope
    width = round(cfg.detrend_s * cfg.sr / cfg.hop_length) | 1
    import scipy.ndimage as ndi

    env = np.maximum(0.0, env - ndi.median_filter(env, size=width, mode="nearest"))

    # tempo path, beats, octave check
    bpm_path, periodicity = _tempo_path(env, cfg)  # [N], 0..1
    beats = _track_beats(env, bpm_path, cfg)
    beats = _octave_check(env, beats, bpm_path, cfg)
    beat_times = librosa.frames_to_time(beats, sr=cfg.sr, hop_length=cfg.hop_length).astype(np.float64)
    duration = mono.size / sr
    if len(beat_times) < 2:
        tempo = float(np.clip(np.median(bpm_path), cfg.tempo_min_bpm, cfg.tempo_max_bpm))
        beat_times = np.arange(0.0, duration, 60.0 / tempo)
        beats = librosa.time_to_frames(beat_times, sr=cfg.sr, hop_length=cfg.hop_length)
        notices += (f"no clear beat found; using a steady {tempo:.0f} BPM grid",)
    tempo = _global_tempo(beat_times, cfg)
    # beat clarity: geometric mean of on/off-beat contrast and periodicity; 0 without any onset
    clarity = math.sqrt(_beat_contrast(env, beats) * periodicity) if float(full_env.max()) >= cfg.min_onset_db else 0.0
    if clarity < cfg.clear_beat_min and not any("no clear beat" in n for n in notices):
        notices += ("no clear beat found; the beats follow the strongest steady pulse",)

    # meter and bar phase
    chroma = librosa.feature.chroma_stft(S=power, sr=cfg.sr, n_fft=cfg.n_fft, tuning=0.0)  # [12, N]
    low_db = log_mel[:n_low].mean(axis=0)  # [N]
    meter, index_in_bar = _meter_and_phase(beats, low_env, full_env, low_db, chroma, cfg)

    rms = librosa.feature.rms(S=spec, frame_length=cfg.n_fft, hop_length=cfg.hop_length)[0]  # [N]
    sections = find_sections(chroma, log_mel, beats, beats[index_in_bar == 0], float(duration),
                             sr=cfg.sr, hop_length=cfg.hop_length, config=cfg.structure)
    return MusicAnalysis(
        path=str(path),
        sr=int(sr),
        samples=mono,
        offset_s=float(offset_s),
        duration_s=float(duration),
        tempo_bpm=tempo,
        beats_s=beat_times,
        downbeats_s=beat_times[index_in_bar == 0],
        beats_per_bar=int(meter),
        beat_index_in_bar=index_in_bar.astype(np.int64),
        frame_times_s=frame_times.astype(np.float64),
        onset_strength=(full_norm / (full_norm.max() + 1e-9)).astype(np.float32),
        rms=(rms / (rms.max() + 1e-12)).astype(np.float32),
        local_tempo_bpm=_local_tempo(beat_times, frame_times, tempo),
        beat_clarity=clarity,
        notices=notices,
        sections=sections,
    )


def analyse(
    path: str | os.PathLike,
    offset_s: float = 0.0,
    duration_s: float | None = None,
    max_seconds: float = 300.0,
    sr: int = 22050,
    *,
    config: MusicConfig = DEFAULT_CONFIG,
) -> MusicAnalysis:
    """Load a segment of a music file (see ``load_audio``) and analyse it (see ``analyse_samples``)."""
    samples, sr, notices = load_audio(path, offset_s, duration_s, max_seconds, sr, limits=config.limits)
    result = analyse_samples(samples, sr, path=os.fspath(path), offset_s=offset_s, notices=notices, config=config)
    return replace(result, source_duration_s=audio_duration(path))


def with_meter_of(segment: MusicAnalysis, context: MusicAnalysis) -> MusicAnalysis:
    """The segment with the meter and bar phase of a longer stretch of the same song around it (``context``).

    A few seconds of music rarely show the meter (a 4/4 click track's first 6 s can look like 3/4); the longer
    stretch decides it, and each of the segment's beats takes the bar position of the stretch's beat at the same
    moment (majority vote). Segments with fewer than 3 beats matched to the stretch are left as they are."""
    meter = context.beats_per_bar
    here = segment.offset_s + segment.beats_s  # [B] song time (s)
    there = context.offset_s + context.beats_s  # [C]
    if len(here) == 0 or len(there) == 0:
        return segment
    nearest = np.abs(here[:, None] - there[None, :]).argmin(axis=1)  # [B]
    close = np.abs(here - there[nearest]) < 0.1
    if close.sum() < 3:
        return segment
    # phase: the shift that puts most matched beats at the stretch's bar position
    votes = (context.beat_index_in_bar[nearest[close]] - np.flatnonzero(close)) % meter
    phase = int(np.bincount(votes, minlength=meter).argmax())
    index = (np.arange(len(here)) + phase) % meter
    return replace(segment, beats_per_bar=int(meter), beat_index_in_bar=index.astype(np.int64),
                   downbeats_s=segment.beats_s[index == 0])


def with_sections_of(segment: MusicAnalysis, context: MusicAnalysis, config: MusicConfig = DEFAULT_CONFIG
                     ) -> MusicAnalysis:
    """The segment with the sections of a longer stretch of the same song around it (``context``), clipped to the
    segment and shifted to its time axis: which parts repeat shows only in the whole song. Inner boundaries move to
    the segment's nearest bar start, pieces shorter than ``min_section_bars`` merge into a neighbour, and labels
    are renamed in order of first appearance within the segment. A context without sections changes nothing."""
    if not context.sections:
        return segment
    start = segment.offset_s - context.offset_s
    min_s = config.structure.min_section_bars * bar_seconds(segment.downbeats_s)
    sections = sections_within(context.sections, start, start + segment.duration_s, segment.downbeats_s, min_s)
    return replace(segment, sections=sections)


def warm_up() -> float:
    """Analyse 10 s of synthetic clicks once so numba compiles librosa's beat tracker (and the section search's
    first-use imports happen); returns seconds."""
    start = time.perf_counter()
    sr = DEFAULT_CONFIG.sr
    t = np.arange(int(0.03 * sr)) / sr
    click = (np.sin(2 * np.pi * 1000.0 * t) * np.exp(-t / 0.005)).astype(np.float32)
    y = np.zeros(10 * sr, dtype=np.float32)
    for k, beat in enumerate(np.arange(0.0, 9.9, 0.5)):
        i = int(beat * sr)
        y[i : i + len(click)] += click * (1.0 if k % 4 == 0 else 0.5)
    analyse_samples(y, sr)
    return time.perf_counter() - start
