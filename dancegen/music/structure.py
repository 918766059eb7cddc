"""Music structure: the song's sections (verse, chorus, ...) from the music itself, labelled so that repeated music
shares a label.

Method (the Laplacian segmentation of McFee & Ellis, "Analyzing song structure with spectral clustering", ISMIR
2014), on beat-synchronous features the analysis has already computed (no second STFT):

1. Chroma (harmony) and MFCC (timbre, from the log-mel spectrogram) are averaged over each beat.
2. A recurrence matrix links beats that are each other's nearest neighbours in those features (Gaussian
   affinity), filtered along diagonals so that repeated passages, not single beats, link up. A sequence matrix
   links each beat to the beats up to 2 bars away, more strongly where the timbre is alike. The two are mixed
   so that both weigh about the same.
3. The first eigenvectors of the mixture's normalised graph Laplacian embed the beats; k-means on that
   embedding (deterministic farthest-point start) groups them into k kinds of music, for k = 2 .. max_kinds.
4. For each k: boundaries where the kind changes, moved to the nearest bar start (downbeat); sections shorter
   than ``StructureConfig.min_section_bars`` merge into their most similar neighbour; each section takes its
   beats' majority kind; neighbours of the same kind merge. The k whose sections group the beat graph most
   clearly (Newman's modularity) wins; below ``min_modularity`` the music is one section. Kinds are named
   "A", "B", ... in order of first appearance.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Section:
    """One part of a song (intro, verse, chorus, ...), found from the music itself."""

    label: str  # "A", "B", ... in order of first appearance; repeated music shares its label
    start_s: float  # start (s from the segment start): 0.0 for the first section, else on a downbeat (bar start)
    end_s: float  # end (s); the next section's start, or the segment's end


@dataclass(frozen=True)
class StructureConfig:
    min_music_s: float = 8.0  # shorter music is one section "A"
    min_beats: int = 16  # music with fewer beats is one section "A"
    min_section_bars: float = 4.0  # shortest section (bars; 8 s at 120 BPM in 4/4); shorter ones merge into a neighbour
    max_kinds: int = 6  # most kinds of music (distinct labels) told apart
    n_mfcc: int = 13  # MFCC coefficients of the timbre features
    timbre_weight: float = 1.0  # weight of the MFCC block against the chroma block in the recurrence features
    recurrence_width: int = 3  # beats closer than this are not linked by the recurrence matrix
    neighbour_beats: int = 8  # the sequence matrix links each beat to the beats up to this far away (2 bars of 4)
    diagonal_filter_beats: int = 7  # median filter along the recurrence matrix's diagonals (beats)
    embedding_filter_beats: int = 9  # median filter of the Laplacian eigenvectors over time (beats)
    min_modularity: float = 0.35  # a grouping of the beats less clear than this (modularity, 0..1): all one kind
    kmeans_iterations: int = 50  # Lloyd iterations of the k-means on the embedding


DEFAULT_STRUCTURE = StructureConfig()


def _beat_features(chroma: np.ndarray, log_mel: np.ndarray, bounds: np.ndarray, cfg: StructureConfig
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(recurrence features [12 + n_mfcc, S], standardised MFCC [n_mfcc, S]) averaged over the S spans between
    consecutive ``bounds`` [S + 1] (frames)."""
    import librosa

    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=cfg.n_mfcc)  # [n_mfcc, N]
    sync_chroma = librosa.util.sync(chroma, bounds, aggregate=np.median)  # [12, S]
    sync_mfcc = librosa.util.sync(mfcc, bounds, aggregate=np.mean)  # [n_mfcc, S]
    unit_chroma = sync_chroma / (np.linalg.norm(sync_chroma, axis=0, keepdims=True) + 1e-9)
    timbre = (sync_mfcc - sync_mfcc.mean(axis=1, keepdims=True)) / (sync_mfcc.std(axis=1, keepdims=True) + 1e-9)
    # both blocks have about unit norm per beat, so the weight says how much timbre counts against harmony
    features = np.vstack([unit_chroma, cfg.timbre_weight * timbre / np.sqrt(cfg.n_mfcc)])
    return features, timbre


def _recurrence(features: np.ndarray, width: int) -> np.ndarray:
    """[S, S] symmetric recurrence affinity of the beat features [D, S]: beats i, j (|i - j| >= width) that are
    among each other's k nearest neighbours (k = 2 ceil(sqrt(S)), the usual choice), weighted by a Gaussian of
    their distance (scale: the median distance to the k-th neighbour); 0 elsewhere."""
    n = features.shape[1]
    sq = np.sum(features**2, axis=0)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * features.T @ features, 0.0))  # [S, S]
    lag = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
    dist[lag < width] = np.inf
    k = min(2 * int(np.ceil(np.sqrt(n))), n - 2 * width)
    if k < 1:
        return np.zeros((n, n))
    rows = np.arange(n)[:, None]
    nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]  # [S, k]
    mask = np.zeros((n, n), dtype=bool)
    mask[rows, nearest] = True
    mask &= mask.T & np.isfinite(dist)  # mutual neighbours only
    kth = dist[rows, nearest].max(axis=1)  # [S] distance to the k-th neighbour
    scale = float(np.median(kth[np.isfinite(kth)])) if np.isfinite(kth).any() else 1.0
    return np.where(mask, np.exp(-0.5 * (dist / (scale + 1e-9)) ** 2), 0.0)


def _affinity(features: np.ndarray, timbre: np.ndarray, cfg: StructureConfig) -> np.ndarray:
    """[S, S] symmetric graph of the beats: filtered recurrence mixed with the sequence (neighbour) links."""
    import librosa
    import scipy.ndimage as ndi

    recurrence = _recurrence(features, cfg.recurrence_width)
    smooth = librosa.segment.timelag_filter(ndi.median_filter)
    recurrence = smooth(recurrence, size=(1, cfg.diagonal_filter_beats))  # [S, S] repeated passages, not beats
    # sequence links: each beat to the beats up to cfg.neighbour_beats away, stronger where the timbre is alike
    n = timbre.shape[1]
    sigma = float(np.median(np.sum(np.diff(timbre, axis=1) ** 2, axis=0))) + 1e-9  # typical beat-to-beat change
    sequence = np.zeros((n, n))
    for lag in range(1, min(cfg.neighbour_beats, n - 1) + 1):
        sim = np.exp(-np.sum((timbre[:, lag:] - timbre[:, :-lag]) ** 2, axis=0) / sigma)  # [S - lag]
        sequence += np.diag(sim, lag) + np.diag(sim, -lag)
    # mix so that each beat's recurrence and sequence degrees weigh about the same (least squares)
    deg_seq, deg_rec = sequence.sum(axis=1), recurrence.sum(axis=1)
    mu = float(deg_seq @ (deg_seq + deg_rec)) / (float(np.sum((deg_seq + deg_rec) ** 2)) + 1e-12)
    return mu * recurrence + (1.0 - mu) * sequence


def _embedding(affinity: np.ndarray, cfg: StructureConfig) -> np.ndarray:
    """The eigenvectors [S, K] of the normalised Laplacian's K = max_kinds smallest eigenvalues (ascending),
    smoothed over time."""
    import scipy.linalg
    import scipy.ndimage as ndi
    import scipy.sparse.csgraph

    laplacian = scipy.sparse.csgraph.laplacian(affinity, normed=True)
    n = affinity.shape[0]
    k = min(cfg.max_kinds, n)
    _, vectors = scipy.linalg.eigh(laplacian, subset_by_index=[0, k - 1])
    return ndi.median_filter(vectors, size=(cfg.embedding_filter_beats, 1), mode="nearest")


def _kmeans(points: np.ndarray, k: int, iterations: int) -> np.ndarray:
    """Cluster labels [S] of ``points`` [S, D]: Lloyd's k-means from a farthest-point start (the first point, then
    repeatedly the point farthest from the chosen centres), so the result is deterministic."""
    centres = [points[0]]
    for _ in range(1, k):
        dist = np.min([np.sum((points - c) ** 2, axis=1) for c in centres], axis=0)
        centres.append(points[int(np.argmax(dist))])
    centres = np.array(centres)  # [k, D]
    labels = np.zeros(len(points), dtype=np.int64)
    for step in range(iterations):
        dist = np.sum((points[:, None, :] - centres[None, :, :]) ** 2, axis=2)  # [S, k]
        new = np.argmin(dist, axis=1)
        if step > 0 and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            if np.any(labels == j):
                centres[j] = points[labels == j].mean(axis=0)
    return labels


def _modularity(affinity: np.ndarray, labels: np.ndarray) -> float:
    """Newman's modularity of the grouping ``labels`` [S] on the weighted graph ``affinity`` [S, S]: the share of
    link weight inside groups minus the share expected by chance (0 for one group; higher is a clearer grouping)."""
    total = float(affinity.sum()) + 1e-12
    degree = affinity.sum(axis=1)
    q = 0.0
    for g in np.unique(labels):
        inside = labels == g
        q += float(affinity[np.ix_(inside, inside)].sum()) / total - (float(degree[inside].sum()) / total) ** 2
    return q


def find_sections(
    chroma: np.ndarray,
    log_mel: np.ndarray,
    beat_frames: np.ndarray,
    downbeat_frames: np.ndarray,
    duration_s: float,
    *,
    sr: int,
    hop_length: int,
    config: StructureConfig = DEFAULT_STRUCTURE,
) -> tuple[Section, ...]:
    """The sections of a piece of music, in time order, covering [0, duration_s] without gaps.

    ``chroma`` [12, N] and ``log_mel`` [M, N] are the analysis's frame features (frame k at k * hop_length / sr),
    ``beat_frames`` [B] and ``downbeat_frames`` [D] its beats and bar starts (frames). Boundaries fall on bar starts
    (on beats where there are no bar starts); music shorter than ``config.min_music_s`` or with fewer than
    ``config.min_beats`` beats is one section "A", and so is music whose beats group no more clearly than
    ``config.min_modularity``."""
    cfg = config
    whole = (Section("A", 0.0, float(duration_s)),)
    n_frames = chroma.shape[1]
    beats = np.unique(np.clip(np.asarray(beat_frames, dtype=np.int64), 1, n_frames - 1))
    if duration_s < cfg.min_music_s or len(beats) < cfg.min_beats:
        return whole
    bounds = np.concatenate([[0], beats, [n_frames]])  # [S + 1] frames: span i is [bounds[i], bounds[i+1])
    features, timbre = _beat_features(chroma, log_mel, bounds, cfg)
    affinity = _affinity(features, timbre, cfg)  # [S, S]
    vectors = _embedding(affinity, cfg)  # [S, K]
    spans = _Spans(bounds[:-1] * hop_length / sr, float(duration_s))
    bars = np.asarray(downbeat_frames, dtype=np.int64)
    grid_s = (bars if len(bars) else beats) * hop_length / sr  # where boundaries may fall
    min_len = cfg.min_section_bars * bar_seconds(bars * hop_length / sr)
    # one grouping per number of kinds; the clearest (highest modularity of the final sections) wins
    best, best_q = [(0, 0.0, float(duration_s))], cfg.min_modularity
    for k in range(2, vectors.shape[1] + 1):
        embed = vectors[:, :k] / (np.linalg.norm(vectors[:, :k], axis=1, keepdims=True) + 1e-9)
        parts = _parts(_kmeans(embed, k, cfg.kmeans_iterations), embed, spans, grid_s, min_len)
        q = _modularity(affinity, spans.labels(parts))
        if q > best_q + 1e-9:  # ties keep the fewer kinds
            best, best_q = parts, q
    return _named(best)


def bar_seconds(downbeats_s: np.ndarray) -> float:
    """Typical bar length (s): the median interval between bar starts [D] (2 s without two of them)."""
    return float(np.median(np.diff(downbeats_s))) if len(downbeats_s) >= 2 else 2.0


@dataclass(frozen=True)
class _Spans:
    """The beat spans a grouping labels: span i starts at start_s[i] [S] and ends at the next start (or end_s)."""

    start_s: np.ndarray  # [S] s
    end_s: float  # end of the last span (s)

    @property
    def length_s(self) -> np.ndarray:
        return np.diff(np.append(self.start_s, self.end_s))  # [S]

    def owner(self, edges: np.ndarray) -> np.ndarray:
        """Index of the part (between consecutive ``edges`` [P + 1], s) each span starts in: [S]."""
        return np.clip(np.searchsorted(edges, self.start_s, side="right") - 1, 0, len(edges) - 2)

    def labels(self, parts: list[tuple[int, float, float]]) -> np.ndarray:
        """The kind of the part each span starts in: [S]."""
        edges = np.array([a for _, a, _ in parts] + [parts[-1][2]])
        return np.array([kind for kind, _, _ in parts])[self.owner(edges)]


def _parts(kinds: np.ndarray, embed: np.ndarray, spans: _Spans, grid_s: np.ndarray, min_len: float
           ) -> list[tuple[int, float, float]]:
    """(kind, start s, end s) parts from the kind of every span [S]: boundaries where the kind changes, moved to
    the nearest of ``grid_s`` [D]; parts shorter than ``min_len`` (s) merged into the neighbour whose mean
    embedding (``embed`` [S, K]) is closest; each part's kind the majority of its spans' (by length); neighbours of
    the same kind merged."""
    end = spans.end_s
    change = np.flatnonzero(kinds[1:] != kinds[:-1]) + 1  # [C] spans where the kind changes
    snapped = grid_s[np.abs(spans.start_s[change][:, None] - grid_s[None, :]).argmin(axis=1)] if len(change) else []
    edges = np.unique(np.concatenate([[0.0, end], [t for t in snapped if 0.0 < t < end]]))  # [P + 1]
    while len(edges) > 2:
        lengths = np.diff(edges)
        i = int(np.argmin(lengths))
        if lengths[i] >= min_len:
            break
        if i == 0 or i == len(lengths) - 1:
            j = 1 if i == 0 else i - 1
        else:
            owner = spans.owner(edges)
            before, mine, after = (embed[owner == p].mean(axis=0) if np.any(owner == p) else None
                                   for p in (i - 1, i, i + 1))
            if mine is None:  # shorter than a beat: no music of its own to compare
                j = i - 1
            else:
                d_before, d_after = (np.inf if m is None else float(np.sum((m - mine) ** 2)) for m in (before, after))
                j = i - 1 if d_before <= d_after else i + 1
        edges = np.delete(edges, max(i, j))  # the edge between part i and part j
    owner = spans.owner(edges)
    length = spans.length_s
    parts = []
    for p, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        inside = owner == p
        kind = int(np.argmax(np.bincount(kinds[inside], weights=length[inside]))) if inside.any() else 0
        parts.append((kind, float(a), float(b)))
    return _merge_equal(parts)


def _merge_equal(parts: list[tuple[Hashable, float, float]]) -> list[tuple[Hashable, float, float]]:
    """(label, start, end) parts with neighbours of the same label joined."""
    merged: list[tuple[Hashable, float, float]] = []
    for label, a, b in parts:
        if merged and merged[-1][0] == label:
            merged[-1] = (label, merged[-1][1], b)
        else:
            merged.append((label, a, b))
    return merged


def _named(parts: list[tuple[Hashable, float, float]]) -> tuple[Section, ...]:
    """Sections with labels "A", "B", ... in order of first appearance of each kind in ``parts``."""
    names: dict[Hashable, str] = {}
    out = []
    for kind, a, b in parts:
        if kind not in names:
            names[kind] = chr(ord("A") + len(names)) if len(names) < 26 else f"Z{len(names) - 25}"
        out.append(Section(names[kind], a, b))
    return tuple(out)


def sections_within(sections: tuple[Section, ...], start_s: float, end_s: float, grid_s: np.ndarray,
                    min_section_s: float) -> tuple[Section, ...]:
    """The part [start_s, end_s] of a longer stretch's ``sections`` (times on the stretch's axis), on the part's own
    axis (t = 0 at start_s): boundaries inside moved to the nearest of ``grid_s`` [D] (the part's bar starts, s),
    pieces shorter than ``min_section_s`` merged into their neighbour (unless one piece is all there is), labels
    renamed "A", "B", ... in order of first appearance within the part (repeats still share a label)."""
    length = float(end_s - start_s)
    clipped = [(s.label, max(s.start_s, start_s) - start_s)
               for s in sections if s.end_s > start_s and s.start_s < end_s]  # (label, start on the part's axis)
    if not clipped:
        return (Section("A", 0.0, length),)
    starts = np.array([a for _, a in clipped[1:]], dtype=np.float64)  # inner boundaries
    grid = np.asarray(grid_s, dtype=np.float64)
    if len(grid) and len(starts):  # onto the nearest bar start of the part (monotone, so the order is kept)
        starts = grid[np.abs(starts[:, None] - grid[None, :]).argmin(axis=1)]
    edges = np.concatenate([[0.0], np.clip(starts, 0.0, length), [length]])
    parts = [(label, float(a), float(b)) for (label, _), a, b in zip(clipped, edges[:-1], edges[1:]) if b > a]
    while len(parts) > 1:
        lengths = [b - a for _, a, b in parts]
        i = int(np.argmin(lengths))
        if lengths[i] >= min_section_s:
            break
        if i == 0 or i == len(parts) - 1:
            j = 1 if i == 0 else i - 1
        else:
            j = i - 1 if lengths[i - 1] >= lengths[i + 1] else i + 1  # into the longer neighbour
        lo, hi = min(i, j), max(i, j)
        parts[lo : hi + 1] = [(parts[j][0], parts[lo][1], parts[hi][2])]  # the neighbour keeps its label
    return _named(_merge_equal(parts))
