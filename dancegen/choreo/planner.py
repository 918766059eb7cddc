"""Procedural choreography: analysed music -> a :class:`~dancegen.choreo.document.DancePlan` -> poses.

* Form: the song's sections (``music.sections``; none found = one section "A") start on the nearest downbeat
  and are cut into phrases of 8 counts (6 in triple meter: 3 + 3). A section whose label came before is danced
  with the phrases of its first occurrence (same moves, sizes, hits and floor position; mirrored as a whole with
  ``repeat_mirror_p``; a phrase twice as long as the first time's short last one dances it twice), as a chorus is. Pick-up beats before the first downbeat get a groove; the dance ends on a
  finishing pose held from the last downbeat.
* Moves come from the style's pool for the phrase's loudness (calm / medium / loud, :mod:`.styles`); their size
  follows the phrase's RMS relative to the song's loud level; never the same move twice in a row; travelling
  moves go one way until the next would pass a side of the room, then back. Every new phrase has one required
  move, in turn a travelling one (its longest parts, across the room), a deep level move, a turn, a travelling
  one (``ChoreoConfig.required``), so every song travels, sinks and turns. A close-up (joints outside the canvas at frame 0) uses only moves that
  show above the waist.
* Hits: count 1 of every phrase, the backbeat and strong onsets where the style hits them, the bar starts in
  flowing styles and moves; every other count flows through (:mod:`.motion`).
* Counts: :mod:`.grid`. Poses: :mod:`.motion` on the rig of :mod:`.rig`.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ..music import Section
from ..pose.layout import BodyLayout
from .document import ChoreographyPlanError, DancePlan, MoveEntry, MusicRef, Phrase, clock, phrase_name
from .grid import CountGrid, count_grid, mean_rms, onsets_at, song_rms_reference
from .interface import ChoreographyError
from .motion import MotionConfig, evaluate_phrase, frame_box, phrase_keys, plan_steps, travel_limits
from .moves import cycle_of, render, step_scale
from .rig import P_DY, make_rig, neutral
from .styles import STYLES, default_style
from .vocabulary import ALL_MOVES, MOVES

if TYPE_CHECKING:
    from ..music import MusicAnalysis


@dataclass(frozen=True)
class ChoreoConfig:
    """Settings of the procedural choreographer."""

    half_time_above_bpm: float = 140.0  # above this tempo a count lasts two beats (duple meter)
    default_bpm: float = 100.0  # beat grid used when the analysis found fewer than two beats
    amp_floor: float = 0.45  # move size in silence; grows with the phrase's RMS to 1 at the song's loud level
    energy_calm: float = 0.5  # phrase energy (RMS / the song's loud level) below which calm moves are used
    energy_loud: float = 0.85  # phrase energy above which the loud pool is used
    onset_hit: float = 0.3  # onset strength (0..1) at a count below which it is never an onset hit
    onset_hit_pct: float = 88.0  # a count is an onset hit when its onset is in this top percentile of the song's
    travel_weight: float = 2.0  # travelling moves are this much likelier at whole-body framing (room to dance)
    required: tuple[str, ...] = ("travel", "level", "turn", "travel")  # the tag one move of each new phrase has,
    # in turn (where the style or, failing it, the vocabulary has a fitting move): every song travels, turns, sinks
    side_slack: float = 0.5  # a travelling move that would end further than this (head heights) past a side of
    # the room goes the other way (the steps stop at the side anyway, so the dance reaches both sides)
    reuse_penalty: float = 2.0  # a move's weight is divided by 1 + this x the times it was danced already
    level_boost: float = 0.3  # ... but at most this much above the phrase's size
    level_size: float = 1.0  # smallest size of a required level move (deep enough to read as a level change)
    repeat_mirror_p: float = 0.0  # chance that a repeated section is danced mirrored as a whole
    motion: MotionConfig = MotionConfig()  # keys, splines, steps (see dancegen.choreo.motion)


def _song_key(music: MusicAnalysis) -> int:
    beats = np.asarray(music.beats_s, dtype=np.float64)
    rms = np.asarray(music.rms, dtype=np.float32)
    return zlib.crc32(np.round(beats * 1000).astype(np.int64).tobytes() + rms[::7].tobytes())


def _layouts(n: int, triple: bool) -> list[tuple[int, ...]]:
    """Ways to cut a phrase of n counts into moves (threes in triple meter)."""
    if triple:
        if n % 3 == 0:
            # threes twice as often as sixes: a 6-count phrase of one move leaves few moves in a song
            return [(3,) * (n // 3)] * 2 + [(6,) * (n // 6) + ((3,) if n % 6 else ())] if n >= 6 else [(3,)]
        return [(3,) * (n // 3) + (n % 3,)] if n > 3 else [(n,)]
    if n == 8:
        return [(4, 4), (4, 4), (2, 2, 4), (4, 2, 2), (2, 4, 2), (8,)]
    parts = [4] * (n // 4) + ([2] if n % 4 >= 2 else []) + ([1] if n % 2 else [])
    return [tuple(parts)]


DEEP_HEADS = 1.2  # a required level move sinks the hips by at least this (head heights at size 1): 0.2 bh


def _delivers(name: str, part: int, triple: bool, tag: str) -> bool:
    """Whether ``part`` counts of the move dance what ``tag`` says: a turn that ends within them, side steps that
    carry the body, a level move."""
    move = ALL_MOVES[name]
    if tag not in move.tags:
        return False
    out = render(move, part, 1.0, triple)
    if tag == "turn":
        return bool(out.turns)
    if tag == "travel":
        return abs(sum(f.size for f in out.feet if f.op == "side")) > 1e-9
    return bool(np.nanmax(out.rows[:, P_DY]) >= DEEP_HEADS)  # a level move that sinks deep enough


def _net_travel(name: str, triple: bool) -> float:
    cyc = cycle_of(ALL_MOVES[name], triple) or ()
    return sum(f.size for c in cyc for f in (c.foot, c.foot2) if f is not None and f.op == "side")


def _repeated(moves: tuple[MoveEntry, ...], hits: tuple[int, ...], counts: int, times: int
              ) -> tuple[tuple[MoveEntry, ...], tuple[int, ...]]:
    """The moves and hits of a phrase of ``counts`` counts danced ``times`` times over (a repeated section whose
    phrase is longer than the first time's: its last, short phrase), a move running on into itself merged."""
    out: list[MoveEntry] = []
    for m in moves * times:
        if out and replace(out[-1], counts=m.counts) == m:
            out[-1] = replace(m, counts=out[-1].counts + m.counts)
        else:
            out.append(m)
    return tuple(out), tuple(sorted({h + r * counts for r in range(times) for h in hits}))


class ProceduralChoreographer:
    """Sectioned, phrased procedural dance (see the module docstring). Implements :class:`MusicToPose`."""

    def __init__(self, config: ChoreoConfig = ChoreoConfig()):
        self.config = config

    def grid(self, music: MusicAnalysis, t_end: float) -> CountGrid:
        return count_grid(music, t_end, self.config.half_time_above_bpm, self.config.default_bpm)

    # -- planning

    def plan(self, music: MusicAnalysis, seed: int, body: BodyLayout, t_end: float, style: str | None = None,
             music_ref: MusicRef | None = None, keep: tuple[DancePlan, set[int] | list[int]] | None = None
             ) -> DancePlan:
        """The plan of a dance of [0, t_end] s; ``keep`` = (an earlier plan, indices of its phrases that must stay
        exactly as they are)."""
        cfg = self.config
        style = default_style(music) if style is None else style
        if style not in STYLES:
            raise ChoreographyError(f"unknown style {style!r}: one of {', '.join(STYLES)}")
        sty = STYLES[style]
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFFFFFF, _song_key(music), zlib.crc32(style.encode())])
        grid = self.grid(music, t_end)
        triple = grid.meter == 3
        L = 6 if triple else 8
        close_up = not body.joints_in_frame().all()
        rig = make_rig(body)
        rest = neutral(rig)
        limits = travel_limits(rig, body, cfg.motion)
        ref_rms = song_rms_reference(music)
        onsets = onsets_at(music, grid.times)
        inside = onsets[(grid.times >= 0) & (grid.times <= t_end)]
        strong = max(cfg.onset_hit, float(np.percentile(inside, cfg.onset_hit_pct)) + 1e-6 if inside.size else 1.0)
        idx = np.arange(grid.times.size)
        downs = idx[grid.downbeat & (grid.times >= -1e-9)]
        period = float(np.median(np.diff(grid.times))) if grid.times.size > 1 else 0.5
        ok_end = downs[grid.times[downs] <= t_end - 0.9 * period]
        d0 = int(downs[0]) if downs.size else 0
        e = int(ok_end[-1]) if ok_end.size else d0
        sections = tuple(music.sections) or (Section("A", 0.0, float(music.duration_s)),)
        starts = [d0]
        for s in sections[1:]:
            near = int(downs[np.argmin(np.abs(grid.times[downs] - s.start_s))]) if downs.size else d0
            starts.append(min(max(near, starts[-1]), e))
        ranges = [(a, b, sections[k].label) for k, (a, b) in enumerate(zip(starts, starts[1:] + [e])) if b > a]

        phrases: list[Phrase] = []
        if grid.times[d0] > 0.3:
            n_in = int(((grid.times >= -1e-9) & (grid.times < grid.times[d0] - 0.01)).sum())
            if n_in:
                phrases.append(Phrase(0.0, float(grid.times[d0]), ranges[0][2] if ranges else "A",
                                      (MoveEntry("groove", n_in, False, 0.5),), (0.0, 0.0), (0,), "intro"))
        first_of: dict[str, list[Phrase]] = {}
        mirror_of: dict[str, bool] = {}
        locked = self._locked(keep)
        floor = (0.0, 0.0)
        n_new = 0  # new phrases planned so far (which tag the next one requires)
        heading = 1.0  # where travelling moves go (+1 image-right) until they near a side of the room
        prev = phrases[-1].moves[-1].move if phrases else None
        uses = dict.fromkeys(MOVES, 0)
        for a, b, label in ranges:
            repeat = first_of.get(label)
            own: list[Phrase] = []
            if repeat is not None and label not in mirror_of:
                mirror_of[label] = bool(rng.random() < cfg.repeat_mirror_p)
            for j, i0 in enumerate(range(a, b, L)):
                i1 = min(i0 + L, b)
                t0, t1 = float(grid.times[i0]), float(grid.times[i1])
                if (t0, t1) in locked:
                    ph = locked[(t0, t1)]
                elif repeat is not None and j < len(repeat) and (i1 - i0) % repeat[j].counts == 0 and \
                        repeat[j].moves[0].move != prev:
                    src = repeat[j]
                    mv = tuple(replace(m, mirrored=m.mirrored != mirror_of[label]) for m in src.moves)
                    mv, hits = _repeated(mv, src.hits, src.counts, (i1 - i0) // src.counts)
                    ph = Phrase(t0, t1, label, mv, src.floor, hits, "dance")
                else:
                    nxt = self._locked_after(locked, t1)
                    must = cfg.required[n_new % len(cfg.required)] if cfg.required else None
                    ph, heading = self._new_phrase(rng, sty, grid, i0, i1, label, triple, close_up, music, ref_rms,
                                                   onsets >= strong, floor, limits, prev, nxt, uses, must, heading)
                    n_new += 1
                own.append(ph)
                phrases.append(ph)
                prev = ph.moves[-1].move
                for m in ph.moves:
                    uses[m.move] = uses.get(m.move, 0) + 1
                floor = self._end_floor(ph, grid, triple, rest, rig, limits)
            if repeat is None:
                first_of[label] = own
        end_t = max(float(t_end), float(grid.times[e]) + 1e-3)
        phrases.append(Phrase(float(grid.times[e]), end_t, ranges[-1][2] if ranges else "A",
                              (MoveEntry("finish", 1, False, 1.0),), floor, (0,), "ending"))
        ref = music_ref or MusicRef("", float(music.offset_s), float(music.duration_s))
        secs = tuple(Section(s.label, float(s.start_s), float(s.end_s)) for s in sections)
        return DancePlan(ref, style, int(seed), grid.meter, secs, tuple(phrases))

    @staticmethod
    def _locked(keep) -> dict:
        if keep is None:
            return {}
        old, which = keep
        out = {}
        for i in which:
            if not 0 <= i < len(old.phrases):
                raise ChoreographyError(f"there is no phrase {i + 1} to keep (the plan has {len(old.phrases)})")
            p = old.phrases[i]
            if p.kind == "dance":
                out[(p.start_s, p.end_s)] = p
        return out

    @staticmethod
    def _locked_after(locked: dict, t: float) -> str | None:
        for (t0, _), p in locked.items():
            if t0 == t:
                return p.moves[0].move
        return None

    def _new_phrase(self, rng, sty, grid: CountGrid, i0: int, i1: int, label: str, triple: bool, close_up: bool,
                    music, ref_rms: float, onsets: np.ndarray, floor, limits, prev: str | None, nxt: str | None,
                    uses: dict, must: str | None, heading: float) -> tuple[Phrase, float]:
        """A new phrase of counts i0 .. i1 - 1 from ``floor`` and where travelling moves head next; its longest
        part dances a move tagged ``must`` where one fits. Travelling moves go one way (``heading``) until the next
        would pass a side of the room, then the other way: the dance crosses the whole room."""
        cfg = self.config
        t0, t1 = float(grid.times[i0]), float(grid.times[i1])
        n = i1 - i0
        energy = min(mean_rms(music, t0, t1) / ref_rms, 1.2)
        level = 0 if energy < cfg.energy_calm else (2 if energy > cfg.energy_loud else 1)
        size = round(float(np.clip(cfg.amp_floor + (1 - cfg.amp_floor) * energy, 0.3, 1.1)), 3)
        options = _layouts(n, triple)
        parts = options[int(rng.integers(len(options)))]
        pool = dict(sty.pools[level])
        style_moves = {m: w for p in sty.pools for m, w in p.items()}
        # the parts that dance the required tag: the longest one (every longest one for travel)
        at_must = {int(np.argmax(parts))} if must is not None else set()
        centre = 0.5 * (floor[0] + floor[1])
        if must == "travel":
            at_must = {k for k, p in enumerate(parts) if p == max(parts)}
            heading = 1.0 if centre < 0.5 * (limits[0] + limits[1]) else -1.0  # across the room
        entries: list[MoveEntry] = []
        for k, part in enumerate(parts):
            names = [m for m in pool if self._fits(m, part, triple, close_up)]
            if not names:
                names = [m for m in MOVES if self._fits(m, part, triple, close_up)]
            fresh = [m for m in names if m != prev and (k < len(parts) - 1 or m != nxt)]
            names = fresh or names
            if k in at_must:
                for source in (pool, style_moves, MOVES):
                    tagged = [m for m in source if m != prev and (k < len(parts) - 1 or m != nxt)
                              and self._fits(m, part, triple, close_up) and _delivers(m, part, triple, must)]
                    if tagged:
                        names = tagged
                        break
            w = np.array([max(pool.get(m, 0.0), 0.3 * style_moves.get(m, 1.0)) / (1.0 + cfg.reuse_penalty * uses.get(m, 0))
                          * (cfg.travel_weight if "travel" in ALL_MOVES[m].tags else 1.0) for m in names])
            name = str(rng.choice(names, p=w / w.sum()))
            travel = _net_travel(name, triple)
            if abs(travel) > 1e-9:
                cycle = len(cycle_of(ALL_MOVES[name], triple))
                amount = abs(travel) * part / cycle / 2 * step_scale("side", size)  # of the feet centre
                if not limits[0] - cfg.side_slack < centre + heading * amount < limits[1] + cfg.side_slack:
                    heading = -heading
                mirrored = bool((travel > 0) != (heading > 0))
                centre = float(np.clip(centre + heading * amount, *limits))
            else:
                mirrored = bool(rng.random() < 0.5)
            move = ALL_MOVES[name]
            variant = int(rng.integers(len(move.variants) + 1)) if move.variants and not triple else 0
            use_size = size
            if k in at_must and must == "level":  # deeper, but a quiet phrase stays smaller than a loud one
                use_size = round(max(size, min(cfg.level_size, size + cfg.level_boost)), 3)
            entries.append(MoveEntry(name, part, mirrored, use_size, variant))
            uses[name] = uses.get(name, 0) + 1
            prev = name
        hits = self._hits(sty, entries, grid, i0, n, onsets)
        return Phrase(t0, t1, label, tuple(entries), floor, hits, "dance"), heading

    @staticmethod
    def _fits(name: str, part: int, triple: bool, close_up: bool) -> bool:
        move = ALL_MOVES[name]
        cyc = cycle_of(move, triple)
        if not cyc or part % len(cyc) != 0 and not (part < len(cyc) and len(cyc) % part == 0 and part > 1):
            return False
        return not close_up or "upper" in move.tags

    def _hits(self, sty, entries: list[MoveEntry], grid: CountGrid, i0: int, n: int, onsets: np.ndarray
              ) -> tuple[int, ...]:
        bars = {c for c in range(n) if grid.downbeat[i0 + c]}
        hits = {0} | bars
        flowing = set()
        at = 0
        for m in entries:
            if ALL_MOVES[m.move].flow or sty.flow:
                flowing |= set(range(at, at + m.counts))
            at += m.counts
        for c in range(n):
            if c in flowing:
                continue
            if grid.meter != 3 and c % 8 in sty.backbeat:
                hits.add(c)
            if sty.onset_hits and onsets[i0 + c]:
                hits.add(c)
        return tuple(sorted(hits))

    def _end_floor(self, ph: Phrase, grid: CountGrid, triple: bool, rest, rig, limits) -> tuple[float, float]:
        count_t = self._count_times(ph, grid, 0, None)
        keys = phrase_keys(ph, count_t, triple, rest, self.config.motion, grid.beats)
        return plan_steps(keys.feet, ph.floor, limits, rig)[1]

    # -- evaluation

    @staticmethod
    def _count_times(ph: Phrase, grid: CountGrid, i: int, where: str | None) -> np.ndarray:
        """Times [n + 1] of a phrase's counts and its end; with ``where`` (its name) the fit is checked."""
        if ph.kind == "ending":
            return np.array([ph.start_s, ph.end_s])
        inside = np.flatnonzero((grid.times >= ph.start_s - 0.01) & (grid.times < ph.end_s - 0.01))
        n = ph.counts
        if where is not None:
            if ph.kind == "dance" and (inside.size == 0 or abs(grid.times[inside[0]] - ph.start_s) > 0.01):
                raise ChoreographyPlanError(f"{where}: does not start on a count of this music")
            if inside.size != n:
                raise ChoreographyPlanError(f"{where}: its moves last {n} counts but the music has {inside.size} "
                                            f"counts from {clock(ph.start_s)} to {clock(ph.end_s)}")
        first = int(inside[0]) if inside.size else grid.index(ph.start_s)
        return np.concatenate([grid.times[first: first + n], [ph.end_s]])

    def check(self, plan: DancePlan, music: MusicAnalysis) -> None:
        """Raise :class:`ChoreographyPlanError` when a phrase's counts do not fit this music's counts."""
        grid = self.grid(music, plan.phrases[-1].end_s)
        for i, ph in enumerate(plan.phrases):
            self._count_times(ph, grid, i, phrase_name(i, ph))
            if i and abs(plan.phrases[i - 1].end_s - ph.start_s) > 1e-6:
                raise ChoreographyPlanError(f"{phrase_name(i, ph)}: does not start where "
                                            f"{phrase_name(i - 1, plan.phrases[i - 1])} ends")
            if ph.kind == "ending" and i != len(plan.phrases) - 1:
                raise ChoreographyPlanError(f"{phrase_name(i, ph)}: the ending must be the last phrase")

    def poses(self, plan: DancePlan, music: MusicAnalysis, body: BodyLayout, fps: float, n_frames: int
              ) -> np.ndarray:
        """Poses [T, 18, 2] float32 canvas px of a plan at frames t / fps, t = 0 .. n_frames - 1; frame 0 is the
        reference pose; joints a detector would not see (a turned-away face) are NaN."""
        self.check(plan, music)
        grid = self.grid(music, plan.phrases[-1].end_s)
        triple = plan.meter == 3
        rig = make_rig(body)
        rest = neutral(rig)
        limits = travel_limits(rig, body, self.config.motion)
        box = frame_box(body)
        t = np.arange(n_frames, dtype=np.float64) / fps
        out = np.empty((n_frames, 18, 2))
        shown = np.ones((n_frames, 18), dtype=bool)
        tail = None  # (time, values) of the next phrase's first key
        P = plan.phrases
        for i in range(len(P) - 1, -1, -1):
            ph = P[i]
            count_t = self._count_times(ph, grid, i, None)
            keys = phrase_keys(ph, count_t, triple, rest, self.config.motion, grid.beats)
            n_tail = 0
            if tail is not None:
                keys.add(tail[0], tail[1])
                n_tail = 1
            if i == 0 and keys.kt[0] > 1e-9:
                r = rest.copy()
                r[np.isnan(keys.kv[0])] = np.nan
                keys.add(0.0, r, first=True)
            last = i == len(P) - 1
            settle = None if last else P[i + 1].floor
            steps, _ = plan_steps(keys.feet, ph.floor, limits, rig, settle,
                                  None if last else (float(count_t[-2]), float(count_t[-1])))
            lo_t = -np.inf if i == 0 else ph.start_s
            hi_t = np.inf if last else P[i + 1].start_s
            sel = (t >= lo_t) & (t < hi_t)
            p_out, p_shown, kv = evaluate_phrase(keys, t[sel], rig, rest, steps, ph.floor, box, n_tail)
            out[sel], shown[sel] = p_out, p_shown
            tail = (keys.kt[0], kv[0])
        out[0] = body.work_keypoints()
        shown[0] = True
        out[~shown] = np.nan
        return (out * np.array([1.0, body.y_stretch])).astype(np.float32)

    def __call__(self, music: MusicAnalysis, fps: float, seed: int, body: BodyLayout,
                 n_frames: int | None = None, style: str | None = None) -> np.ndarray:
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
        plan = self.plan(music, int(seed), body, (n_frames - 1) / fps, style)
        return self.poses(plan, music, body, fps, n_frames)
