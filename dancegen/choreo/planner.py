"""Procedural choreography: analysed music -> a beat-synced dance for the body in the photo (a MusicToPose).

* Counts are the analysed beats (extended over gaps and past the ends); above ``half_time_above_bpm`` a count is two
  beats. Phrases of ``phrase_counts`` (8) counts start on downbeats; pick-up beats get a groove.
* Every beat is a key time for every pose parameter, and between keys parameters move with a cosine ease, so joint
  speed drops to zero on the beats (kinematic beats = music beats). Some moves add "and" keys between beats for a
  subset of parameters (e.g. the bounce). The moves are the table of :mod:`dancegen.choreo.moves`.
* Poses come from the rig of :mod:`dancegen.choreo.rig` (bone lengths of the reference body, planted feet).
* Move size follows the music's RMS energy; quiet phrases draw from calmer moves. Phrases vary by move choice,
  mirroring and per-phrase amplitude jitter from a seeded ``numpy.random.Generator`` (seed mixed with a hash of the
  beat grid, so different songs get different dances for the same seed).
* Staying inside the frame: every key has an amplitude (1 = as planned, 0 = the reference pose); keys around frames
  with a joint outside the canvas shrink until every frame fits. The amplitude is eased between keys like the
  moves, so it adds no motion on the beats; planted feet never move.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.ndimage import uniform_filter1d

from ..pose.layout import BodyLayout, margin
from ..pose.topology import J
from .interface import ChoreographyError
from .moves import CLOSE_UP_POOLS, MOVES, POOLS, FootOp, key_row, mirror, render
from .rig import N_PARAMS, P_DY, Rig, Step, foot_paths, forward, make_rig, neutral

if TYPE_CHECKING:  # the music stage is only needed for the type
    from ..music import MusicAnalysis


@dataclass(frozen=True)
class ChoreoConfig:
    """Settings of the procedural choreographer."""

    phrase_counts: int = 8  # counts per phrase (rounded to whole bars of the analysed meter)
    half_time_above_bpm: float = 140.0  # above this local tempo a count lasts two beats
    and_keys_below_bpm: float = 150.0  # "and" keys (between beats) are used only below this tempo
    default_bpm: float = 100.0  # beat grid used when the analysis found fewer than two beats
    intro_s: float = 0.6  # keys earlier than this are shrunk towards the reference pose (no jump at the start)
    amp_floor: float = 0.35  # move size in silence; grows with RMS energy to 1 at loud parts
    amp_jitter: float = 0.08  # per-phrase random change of move size (fraction)
    energy_calm: float = 0.45  # phrase energy (RMS / its 95th percentile) below which calm moves are used
    energy_loud: float = 0.75  # phrase energy above which the loud-move pool is used
    mirror_repeat_p: float = 0.45  # chance that a phrase's second half repeats its first half mirrored
    step_margin_heads: float = 0.3  # room (head heights) kept at the sides when travelling
    soft_knees_heads: float = 0.06  # the pelvis stays this much (head heights) below standing after the start
    ease: str = "cosine"  # easing between keys: "cosine" or "quintic" (sharper stops; ~0.03 better alignment)


@dataclass(frozen=True)
class MoveUse:
    """One move in the plan."""

    name: str  # key of MOVES
    start_s: float  # time of its first count
    end_s: float  # time of the count after its last
    counts: int  # number of counts
    mirrored: bool  # left and right swapped


@dataclass(frozen=True, eq=False)
class ChoreoPlan:
    """Everything needed to evaluate poses at any frame rate."""

    key_t: np.ndarray  # [K] key times (s), increasing, first 0.0
    key_v: np.ndarray  # [K, N_PARAMS] values (NaN = parameter not keyed there)
    steps: tuple[Step, ...]  # foot movements, in time order of their start
    moves: tuple[MoveUse, ...]  # the moves in time order
    phrase_starts_s: np.ndarray  # [P] start time of each full phrase (s)
    count_s: np.ndarray  # [C] time of every count (s)


def _beat_grid(music: MusicAnalysis, t_end: float, cfg: ChoreoConfig) -> tuple[np.ndarray, np.ndarray]:
    """Analysed beats extended over gaps and to cover [0, t_end]: (times [B], bar position [B])."""
    beats = np.asarray(getattr(music, "beats_s", np.zeros(0)), dtype=np.float64).reshape(-1)
    pos_in = np.asarray(getattr(music, "beat_index_in_bar", np.zeros(0)), dtype=np.int64).reshape(-1)
    bpb = int(getattr(music, "beats_per_bar", 4) or 4)
    bpb = bpb if 2 <= bpb <= 12 else 4
    keep = np.isfinite(beats)
    beats, pos_in = beats[keep], (pos_in[keep] if pos_in.shape == keep.shape else np.zeros(keep.sum(), np.int64))
    order = np.argsort(beats, kind="stable")
    beats, pos_in = beats[order], pos_in[order]
    if beats.size:
        ok = np.concatenate([[True], np.diff(beats) > 0.15])  # drop near-duplicates
        beats, pos_in = beats[ok], pos_in[ok]
    if beats.size < 2:
        tempo = float(getattr(music, "tempo_bpm", 0.0) or 0.0)
        period = 60.0 / (tempo if 40.0 <= tempo <= 240.0 else cfg.default_bpm)
        start = beats[0] if beats.size else period
        times = start + period * np.arange(0, int((t_end - start) / period) + 3)
        return times, (np.arange(times.size) % bpb)
    times, pos = [beats[0]], [int(pos_in[0]) % bpb]
    for i in range(1, beats.size):
        gap = beats[i] - beats[i - 1]
        local = np.median(np.diff(beats[max(0, i - 4): i + 4]))
        n_fill = int(round(gap / local)) - 1 if gap > 1.6 * local else 0
        for k in range(1, n_fill + 1):
            times.append(beats[i - 1] + gap * k / (n_fill + 1))
            pos.append((pos[-1] + 1) % bpb)
        times.append(beats[i])
        pos.append(int(pos_in[i]) % bpb)
    times_a, pos_a = np.array(times), np.array(pos)
    p_first = float(np.median(np.diff(times_a[:5])))
    p_last = float(np.median(np.diff(times_a[-5:])))
    n_before = int((times_a[0] - 0.25) // p_first) if times_a[0] > 0.25 + p_first else 0
    before = times_a[0] - p_first * np.arange(n_before, 0, -1)
    n_after = max(0, int(math.ceil((t_end - times_a[-1]) / p_last)) + 1)
    after = times_a[-1] + p_last * np.arange(1, n_after + 1)
    pos_b = (pos_a[0] - np.arange(n_before, 0, -1)) % bpb
    pos_c = (pos_a[-1] + np.arange(1, n_after + 1)) % bpb
    return np.concatenate([before, times_a, after]), np.concatenate([pos_b, pos_a, pos_c]).astype(np.int64)


def _energy(music: MusicAnalysis, t0: np.ndarray, t1: np.ndarray, smooth: int = 4) -> np.ndarray:
    """Loudness of each count [C] in 0..1: mean RMS over [t0, t1), averaged over ``smooth`` neighbouring counts
    (about a bar, so accents inside a bar do not matter), divided by the 90th percentile of those values over the
    song (so a quietly mastered song still dances; quiet parts are quiet relative to the rest)."""
    ft = np.asarray(getattr(music, "frame_times_s", np.zeros(0)), dtype=np.float64).reshape(-1)
    rms = np.asarray(getattr(music, "rms", np.zeros(0)), dtype=np.float64).reshape(-1)
    if ft.size < 2 or rms.size != ft.size or not np.isfinite(rms).all() or t0.size == 0:
        return np.full(t0.shape, 0.7)
    cs = np.concatenate([[0.0], np.cumsum(rms)])
    i0 = np.clip(np.searchsorted(ft, t0), 0, ft.size - 1)
    i1 = np.maximum(np.clip(np.searchsorted(ft, t1), 0, ft.size), i0 + 1)
    mean = (cs[i1] - cs[i0]) / (i1 - i0)  # [C]
    if smooth > 1 and mean.size > 1:
        mean = uniform_filter1d(mean, min(smooth, mean.size), mode="nearest")
    inside = t0 < ft[-1]  # counts past the end of the audio (extrapolated beats) do not set the reference
    ref = float(np.percentile(mean[inside], 90)) if inside.any() else float(mean.max())
    if ref < 1e-6:
        return np.zeros(t0.shape)
    return np.clip(mean / ref, 0.0, 1.0)


def _song_key(music: MusicAnalysis) -> int:
    beats = np.asarray(getattr(music, "beats_s", np.zeros(0)), dtype=np.float64)
    rms = np.asarray(getattr(music, "rms", np.zeros(0)), dtype=np.float32)
    return zlib.crc32(np.round(beats * 1000).astype(np.int64).tobytes() + rms[::7].tobytes())


class ProceduralChoreographer:
    """Beat-synced procedural dance (see the module docstring). Implements :class:`MusicToPose`."""

    def __init__(self, config: ChoreoConfig = ChoreoConfig()):
        if config.ease not in EASES:
            raise ChoreographyError(f"ease must be one of {EASES}, got {config.ease!r}")
        self.config = config

    # -- planning

    def plan(self, music: MusicAnalysis, seed: int, body: BodyLayout, t_end: float) -> ChoreoPlan:
        """Moves, keys and steps for [0, t_end] seconds."""
        cfg = self.config
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFFFFFF, _song_key(music)])
        rig = make_rig(body)
        rest = neutral(rig)
        pools = POOLS if body.joints_in_frame().all() else CLOSE_UP_POOLS
        beats, bar = _beat_grid(music, t_end, cfg)
        bpb = int(getattr(music, "beats_per_bar", 4) or 4)
        bpb = bpb if 2 <= bpb <= 12 else 4
        phrase_len = max(bpb * max(1, cfg.phrase_counts // bpb), 2)

        # count grid: count times, the "and" after each count, and whether that "and" is itself a beat (half time)
        counts_t, and_t, and_beat = [], [], []
        segments = []  # (first count index, n counts, segment id or -1 for a pick-up / resync fill)
        phrase_starts = []
        i = 0
        while i < beats.size - 1 and beats[i] <= t_end:
            if bar[i] != 0:
                counts_t.append(beats[i])
                and_t.append((beats[i] + beats[i + 1]) / 2)
                and_beat.append(False)
                segments.append((len(counts_t) - 1, 1, -1))
                i += 1
                continue
            span = beats[i: i + phrase_len + 1]
            period = float(np.median(np.diff(span))) if span.size > 1 else 0.5
            step = 2 if 60.0 / period > cfg.half_time_above_bpm else 1
            n = min(phrase_len, (beats.size - 1 - i) // step)
            if n < 1:
                break
            first = len(counts_t)
            for c in range(n):
                b = i + c * step
                counts_t.append(beats[b])
                and_t.append(beats[b + 1] if step == 2 else (beats[b] + beats[b + 1]) / 2)
                and_beat.append(step == 2)
            segments.append((first, n, len(segments)))
            if n == phrase_len:
                phrase_starts.append(beats[i])
            i += n * step
        counts_t.append(beats[i])  # the end of the last segment
        counts = np.array(counts_t)
        and_t_a, and_beat_a = np.array(and_t), np.array(and_beat, dtype=bool)
        energy = _energy(music, counts[:-1], counts[1:], bpb)  # [C]
        amp_base = cfg.amp_floor + (1 - cfg.amp_floor) * energy  # [C]

        n_counts = counts.size - 1
        rows = np.full((2 * n_counts, N_PARAMS), np.nan)  # [2C, P]
        foot_ops: list[FootOp] = []  # times in seconds
        moves: list[MoveUse] = []
        use_count = {name: 0 for name in MOVES}
        prev = None

        def tempo_factor(t0: float, t1: float) -> float:
            inside = (beats >= t0) & (beats < t1)
            bpm = 60.0 * inside.sum() / max(t1 - t0, 1e-6)
            return float(np.clip((bpm - 50.0) / 50.0, 0.6, 1.0))

        def place(name: str, first: int, n: int, mirrored: bool, amps: np.ndarray) -> None:
            out = render(MOVES[name], n, amps, rng)
            if mirrored:
                out = mirror(out)
            rows[2 * first: 2 * (first + n)] = out.rows
            for f in out.feet:  # counts from the move's start -> seconds
                t0, tm, t1 = (float(np.interp(first + c, np.arange(counts.size), counts))
                              for c in (f.start, f.peak, f.end))
                foot_ops.append(FootOp(f.op, f.foot, f.size, t0, tm, t1))
            moves.append(MoveUse(name, float(counts[first]), float(counts[first + n]), n, mirrored))
            use_count[name] += 1

        for first, n, phrase in segments:
            if phrase < 0:
                place("bounce", first, n, bool(rng.random() < 0.5), amp_base[first: first + n] * 0.8)
                continue
            # calm / medium / loud pool from the phrase's loudness, tempered for slow songs
            e = float(energy[first: first + n].mean()) * tempo_factor(counts[first], counts[first + n])
            pool = pools[0 if e < cfg.energy_calm else (2 if e > cfg.energy_loud else 1)]
            jitter = 1.0 + cfg.amp_jitter * rng.uniform(-1.0, 1.0)
            amps = np.clip(amp_base[first: first + n] * jitter, 0.2, 1.05)
            if n == 8:
                layouts = ((4, 4), (4, 4), (2, 2, 4), (4, 2, 2), (8,))
                parts = list(layouts[int(rng.integers(len(layouts)))])
            else:
                parts = [4] * (n // 4) + ([n % 4] if n % 4 else [])
            at = first
            repeat = len(parts) == 2 and parts[0] == parts[1] and rng.random() < cfg.mirror_repeat_p
            chosen = None
            for k, size in enumerate(parts):
                if k == 1 and repeat and chosen is not None:
                    name, mirrored = chosen[0], not chosen[1]
                else:
                    names = [m for m in pool if m != prev]
                    w = np.array([pool[m] / (1.0 + 0.5 * use_count[m]) for m in names])
                    name = str(rng.choice(names, p=w / w.sum()))
                    mirrored = bool(rng.random() < 0.5)
                place(name, at, size, mirrored, amps[at - first: at - first + size])
                chosen, prev = (name, mirrored), name
                at += size

        # key table: every count keys every parameter; "and" rows key what the move asked for (all parameters,
        # by linear interpolation, when the "and" is itself a beat), and no "and" keys at very fast tempi
        key_t = [0.0]
        key_v = [rest]
        for c in range(n_counts):
            key_t.append(counts[c])
            key_v.append(rows[2 * c])
            and_row = rows[2 * c + 1]
            if and_beat_a[c]:
                nxt = rows[2 * c + 2] if c + 1 < n_counts else rows[2 * c]
                mid = 0.5 * (rows[2 * c] + nxt)
                and_row = np.where(np.isnan(and_row), mid, and_row)
            elif 60.0 / max(counts[c + 1] - counts[c], 1e-6) > cfg.and_keys_below_bpm:
                continue
            if np.isfinite(and_row).any():
                key_t.append(and_t_a[c])
                key_v.append(and_row)
        key_t.append(counts[-1])
        key_v.append(key_row((float(amp_base[-1]) if amp_base.size else cfg.amp_floor) * 0.8, dy=0.05))
        kt, kv = np.array(key_t), np.array(key_v)
        # no key at (or before) t = 0 other than the reference pose
        keep = np.concatenate([[True], kt[1:] > 1e-3])
        kt, kv = kt[keep], kv[keep]
        kv[1:, P_DY] += cfg.soft_knees_heads  # knees stay a little bent after the start (NaN stays NaN)
        # shrink early keys towards the reference pose so the first move does not jump
        ramp = np.clip(kt / cfg.intro_s, 0.0, 1.0)[:, None]
        kv = np.where(np.isnan(kv), np.nan, rest + ramp * (kv - rest))

        steps = self._plan_steps(foot_ops, rig, body)
        return ChoreoPlan(key_t=kt, key_v=kv, steps=tuple(steps), moves=tuple(moves),
                          phrase_starts_s=np.array(phrase_starts), count_s=counts)

    def _plan_steps(self, ops: list[FootOp], rig: Rig, body: BodyLayout) -> list[Step]:
        """Foot operations -> concrete steps (foot, t0, tm, t1, x_from, x_to, lift), x in head heights (image x
        offset from the frame-0 ankle), keeping the feet apart and the body's travel inside the canvas."""
        h = rig.head
        k = body.work_keypoints()
        # how far the whole frame-0 body may travel sideways (head heights), always allowing 0
        inside = (k[:, 0] >= 0) & (k[:, 0] < body.canvas_w)
        xs = k[inside, 0] if inside.any() else k[:, 0]
        m = margin(body.canvas_w, body.canvas_h) + self.config.step_margin_heads * h
        lo = min(0.0, (m - xs.min()) / h)
        hi = max(0.0, (body.canvas_w - 1 - m - xs.max()) / h)
        base = rig.ankle0[:, 0] / h  # frame-0 ankle x (head heights)
        width0 = abs(base[1] - base[0])
        min_w, max_w = max(0.35, 0.7 * width0), width0 + 1.6
        x = np.zeros(2)  # current offsets
        steps = []
        for f in sorted(ops, key=lambda o: o.start):
            op, foot, size, t0, tm, t1 = f.op, f.foot, f.size, f.start, f.peak, f.end
            o = rig.out[foot]
            other = 1 - foot
            if op == "lift":
                steps.append(Step(foot, t0, tm, t1, x[foot], x[foot], float(size)))
                continue
            if op == "out":
                target = x[foot] + o * size
            else:  # close towards the other foot at the frame-0 width
                target = (base[other] + x[other]) + o * width0 - base[foot]
            # stance width limits (feet never cross)
            sep = (base[foot] + target - base[other] - x[other]) * o
            sep_ok = float(np.clip(sep, min_w, max_w))
            target = base[other] + x[other] + o * sep_ok - base[foot]
            # travel limits: the mean foot offset stays within [lo, hi]
            centre = 0.5 * (target + x[other])
            target += 2 * (float(np.clip(centre, lo, hi)) - centre)
            sep = (base[foot] + target - base[other] - x[other]) * o
            if sep < min_w - 1e-6 or sep > max_w + 1e-6 or abs(target - x[foot]) < 0.05:
                steps.append(Step(foot, t0, tm, t1, x[foot], x[foot], 0.25 * size + 0.1))  # a tap in place
                continue
            steps.append(Step(foot, t0, tm, t1, x[foot], float(target), 0.35))
            x[foot] = target
        return steps

    # -- evaluation

    def poses_from_plan(self, plan: ChoreoPlan, body: BodyLayout, fps: float, n_frames: int) -> np.ndarray:
        """Evaluate a plan at frames t / fps, t = 0 .. n_frames - 1: [T, 18, 2] float32 canvas px.

        Staying inside the frame: every key has an amplitude a_k (1 = the move as planned, 0 = the reference pose,
        parameters in between move linearly). While some frame has a joint outside the canvas (minus the margin),
        the keys around that frame shrink by 15%; the amplitude is eased between keys like the moves, so it adds
        no motion on the beats, and feet are never moved (steps are planned inside the travel limits)."""
        rig = make_rig(body)
        rest = neutral(rig)
        t = np.arange(n_frames, dtype=np.float64) / fps
        kt, kv = plan.key_t, plan.key_v
        feet_x, lift = foot_paths(t, plan.steps, rig.head)
        box_lo, box_hi, relevant = _frame_box(body)
        seg = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, kt.size - 1)  # [T] key segment of each frame

        def evaluate(a_keys: np.ndarray) -> np.ndarray:
            scaled = rest + a_keys[:, None] * (kv - rest)  # [K, P], NaN stays NaN
            prm = np.empty((n_frames, N_PARAMS))
            for p in range(N_PARAMS):
                ok = np.isfinite(scaled[:, p])
                prm[:, p] = _ease_interp(t, kt[ok], scaled[ok, p], self.config.ease)
            a_t = _ease_interp(t, kt, a_keys, self.config.ease)[:, None]
            return forward(rig, prm, feet_x, a_t * lift)

        def outside(poses: np.ndarray) -> np.ndarray:
            q = poses[:, relevant]
            return ~((q >= box_lo - 1e-3) & (q <= box_hi + 1e-3)).all(axis=(1, 2))

        # the keys that shape a frame: from the last key of all parameters at or before it to the next one after it
        full = np.flatnonzero(np.isfinite(kv).all(axis=1))  # count keys (every parameter keyed)
        first_k = full[np.clip(np.searchsorted(full, seg, side="right") - 1, 0, full.size - 1)]  # [T]
        last_k = full[np.clip(np.searchsorted(full, seg + 1, side="left"), 0, full.size - 1)]  # [T]
        a_keys = np.ones(kt.size)
        out = evaluate(a_keys)
        bad = outside(out)
        for _ in range(24):
            if not bad.any():
                break
            shrink = np.zeros(kt.size + 1)
            np.add.at(shrink, first_k[bad], 1)
            np.add.at(shrink, last_k[bad] + 1, -1)
            hit = np.cumsum(shrink)[:-1] > 0  # [K] keys between first_k and last_k of some bad frame
            a_keys = np.where(hit, a_keys * 0.85, a_keys)
            a_keys = np.where(a_keys < 0.03, 0.0, a_keys)
            out = evaluate(a_keys)
            bad = outside(out)
        if bad.any():  # last resort (the reference pose itself does not fit): move the whole body in
            out[bad] = _shift_inside(out[bad], box_lo, box_hi, relevant)
        out[0] = body.work_keypoints()
        return (out * np.array([1.0, body.y_stretch])).astype(np.float32)

    def __call__(self, music: MusicAnalysis, fps: float, seed: int, body: BodyLayout,
                 n_frames: int | None = None) -> np.ndarray:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ChoreographyError(f"the seed must be a whole number, got {seed!r}")
        fps = float(fps)
        if not math.isfinite(fps) or fps <= 0 or fps > 240:
            raise ChoreographyError(f"fps must be within (0, 240], got {fps}")
        if n_frames is None:
            n_frames = int(round(float(music.duration_s) * fps))
        n_frames = int(n_frames)
        if n_frames < 1:
            raise ChoreographyError("the dance must have at least one frame (music too short for this fps?)")
        plan = self.plan(music, seed, body, (n_frames - 1) / fps)
        return self.poses_from_plan(plan, body, fps, n_frames)


EASES = ("cosine", "quintic")


def _ease_interp(t: np.ndarray, kt: np.ndarray, kv: np.ndarray, ease: str = "cosine") -> np.ndarray:
    """Eased interpolation through keys (zero slope at every key); constant outside the keys.

    "cosine": (1 - cos(pi u)) / 2; "quintic": 6u^5 - 15u^4 + 10u^3 (also zero acceleration at the keys: longer
    stops on the beats, faster motion between them)."""
    if kt.size == 1:
        return np.full(t.shape, kv[0])
    i = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, kt.size - 2)
    u = np.clip((t - kt[i]) / np.maximum(kt[i + 1] - kt[i], 1e-9), 0.0, 1.0)
    s = u * u * u * (u * (6 * u - 15) + 10) if ease == "quintic" else 0.5 - 0.5 * np.cos(np.pi * u)
    return kv[i] + s * (kv[i + 1] - kv[i])


_CLOSE_UP_KEPT = [J[n] for n in ("Nose", "Neck", "RShoulder", "LShoulder", "REye", "LEye", "REar", "LEar")]


def _frame_box(body: BodyLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Work-space box every relevant joint must stay in, and which joints are relevant (inside the canvas at
    frame 0). The box is the canvas minus the margin, widened to include the frame-0 joints.

    A close-up (some joints already outside the canvas at frame 0, as at the photo's scale) keeps only the head,
    neck and shoulders in frame: arms may swing out of the picture and back, as in a close-up dance video;
    holding them inside would leave a close-up almost motionless."""
    k = body.work_keypoints()
    ys = body.y_stretch
    m = margin(body.canvas_w, body.canvas_h)
    lo = np.array([m, m / ys])
    hi = np.array([body.canvas_w - 1 - m, (body.canvas_h - 1 - m) / ys])
    relevant = body.joints_in_frame()
    if not relevant.all():
        kept = np.zeros_like(relevant)
        kept[_CLOSE_UP_KEPT] = True
        relevant &= kept
    if relevant.any():
        lo = np.minimum(lo, k[relevant].min(axis=0))
        hi = np.maximum(hi, k[relevant].max(axis=0))
    return lo, hi, relevant


def _shift_inside(poses: np.ndarray, lo: np.ndarray, hi: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Shrink (about the centre of the box) and shift whole poses [N, 18, 2] so the relevant joints fit."""
    q = poses[:, relevant]
    size = np.maximum(q.max(axis=1) - q.min(axis=1), 1e-9)  # [N, 2]
    s = np.minimum(1.0, ((hi - lo) / size).min(axis=1))[:, None, None]  # [N, 1, 1]
    centre = (q.max(axis=1) + q.min(axis=1))[:, None] / 2
    poses = centre + s * (poses - centre)
    q = poses[:, relevant]
    shift = np.maximum(lo - q.min(axis=1), 0.0) + np.minimum(hi - q.max(axis=1), 0.0)  # [N, 2]
    return poses + shift[:, None]
