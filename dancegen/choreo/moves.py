"""The dance moves, as a table: each move is a cycle of count poses, repeated over the counts it is given.

A pose on a count (:class:`Count`) sets every rig parameter (:mod:`dancegen.choreo.rig`): pelvis offset ``dx`` /
``dy`` and ``lean``, ``head`` turn, shoulder raises ``shr`` / ``shl`` (head heights and radians) and the two arms
(``armr`` / ``arml``: a name from :data:`ARMS` or an (upper-arm, forearm) angle pair). Displacements are scaled by
the count's amplitude and arms move towards :data:`RELAX` as it falls, so quiet music gives small moves. Some
counts also key a few parameters on the "and" between counts, or move a foot (:class:`FootOp`).

Variety within a move comes from one random number per use: a :class:`Lin` value depends on ``r =
rng.uniform(*Move.draw)``, or ``Move.variant`` swaps in another cycle with probability p. Every move is written for
the person's right side leading; the planner mirrors it at random.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .rig import N_PARAMS, P_AL, P_AR, P_BL, P_BR, P_DX, P_DY, P_HEAD, P_LEAN, P_SHL, P_SHR

# arm targets (upper-arm angle, forearm relative angle), see the parameter notes in the rig
RELAX = (0.15, -0.15)
ARMS = {
    "relax": RELAX,
    "bent": (0.3, -1.0),  # elbows bent, hands in front of the belly
    "hip": (0.55, -1.45),  # hand on hip
    "out": (1.5, 0.0),  # horizontal, to the side
    "open": (1.05, -0.45),  # half open, before a clap
    "clap": (0.25, -2.05),  # hands together in front of the chest
    "high_clap": (2.8, 1.45),  # hands together above the head
    "v_up": (2.35, 0.0),  # diagonal up
    "up": (2.85, 0.1),  # straight up
    "flex": (1.45, 1.45),  # upper arm out, forearm up (goal post)
    "pump_up": (2.7, 0.35),
    "pump_mid": (2.05, 1.2),
    "point_down": (-0.35, 0.0),  # pointing down across the body
    "knee_touch": (0.55, -1.65),
}
_ROWS = {"dx": P_DX, "dy": P_DY, "lean": P_LEAN, "head": P_HEAD, "shr": P_SHR, "shl": P_SHL}


@dataclass(frozen=True)
class Lin:
    """A value that depends on the move's random number r: ``base + coef * r``."""

    base: float = 0.0
    coef: float = 1.0


@dataclass(frozen=True)
class FootOp:
    """A foot movement: "out" (step away), "in" (close to the other foot) or "lift" (knee up, foot back in place).

    In a :class:`Count`, ``size`` is per unit of amplitude and start / peak / end are counts after the count; in a
    :class:`MoveOut` they are the size in head heights and counts from the move's start; the planner turns them into
    seconds."""

    op: str
    foot: int  # 0 = the right foot, 1 = the left
    size: float  # head heights
    start: float = 0.0
    peak: float = 0.5
    end: float = 1.0


@dataclass(frozen=True)
class Count:
    key: dict  # the pose on the count (keyword arguments of key_row; values may be Lin)
    and_: dict | None = None  # parameters keyed half-way to the next count (arms scaled by the amplitude)
    flick: bool = False  # on the "and", the forearms flick out by r x amplitude from the count's arms
    foot: FootOp | None = None  # a foot movement starting on this count (only if it ends within the move)


@dataclass(frozen=True)
class Move:
    counts: tuple[Count, ...]  # one cycle; count c of a use takes counts[c % len(counts)]
    draw: tuple[float, float] | None = None  # r = rng.uniform(*draw), once per use
    variant: tuple[float, tuple[Count, ...]] | None = None  # (p, cycle): used instead when rng.random() < p


@dataclass
class MoveOut:
    """Keys of one use of a move: rows [2 n, N_PARAMS] (row 2c = count c, row 2c + 1 = its "and", NaN = no key)."""

    rows: np.ndarray
    feet: list[FootOp] = field(default_factory=list)  # sizes in head heights, times in counts from the start


def arm(name_or_pair: str | tuple[float, float], amp: float) -> tuple[float, float]:
    """An arm target scaled towards the relaxed arm by ``amp`` (0..1)."""
    a, b = ARMS[name_or_pair] if isinstance(name_or_pair, str) else name_or_pair
    return RELAX[0] + amp * (a - RELAX[0]), RELAX[1] + amp * (b - RELAX[1])


def key_row(amp: float = 1.0, dx: float = 0.0, dy: float = 0.0, lean: float = 0.0, head: float = 0.0,
            shr: float = 0.0, shl: float = 0.0, armr: str | tuple[float, float] = "relax",
            arml: str | tuple[float, float] = "relax") -> np.ndarray:
    """A full key row [N_PARAMS]: displacements scaled by ``amp``, arms scaled towards RELAX by ``amp``."""
    v = np.empty(N_PARAMS)
    v[P_DX], v[P_DY], v[P_LEAN], v[P_HEAD] = dx * amp, dy * amp, lean * amp, head * amp
    v[P_SHR], v[P_SHL] = shr * amp, shl * amp
    v[[P_AR, P_BR]] = arm(armr, amp)
    v[[P_AL, P_BL]] = arm(arml, amp)
    return v


def _value(v: float | str | Lin | tuple, r: float | None) -> float | str | tuple:
    """A table value with the move's random number filled in (Lin -> float; pairs element by element)."""
    if isinstance(v, Lin):
        return v.base + v.coef * r
    if isinstance(v, tuple):
        return tuple(_value(x, r) for x in v)
    return v


def _and_row(count: Count, key: dict, amp: float, r: float | None) -> np.ndarray:
    """The "and" row [N_PARAMS]: only the keyed parameters (others NaN)."""
    row = np.full(N_PARAMS, np.nan)
    for name, v in (count.and_ or {}).items():
        if name == "armr":
            row[[P_AR, P_BR]] = arm(v, amp)
        elif name == "arml":
            row[[P_AL, P_BL]] = arm(v, amp)
        else:
            row[_ROWS[name]] = v
    if count.flick:
        row[P_BR] = arm(key.get("armr", "relax"), amp)[1] + r * amp
        row[P_BL] = arm(key.get("arml", "relax"), amp)[1] - r * amp
    return row


def render(move: Move, n: int, amps: np.ndarray, rng: np.random.Generator) -> MoveOut:
    """Keys of ``move`` over ``n`` counts with amplitudes ``amps`` [n]."""
    r = rng.uniform(*move.draw) if move.draw is not None else None
    cycle = move.counts
    if move.variant is not None and rng.random() < move.variant[0]:
        cycle = move.variant[1]
    rows = np.full((2 * n, N_PARAMS), np.nan)
    feet = []
    for c in range(n):
        count, a = cycle[c % len(cycle)], amps[c]
        key = {name: _value(v, r) for name, v in count.key.items()}
        rows[2 * c] = key_row(a, **key)
        if count.and_ is not None or count.flick:
            rows[2 * c + 1] = _and_row(count, key, a, r)
        f = count.foot
        if f is not None and c + f.end <= n:
            feet.append(FootOp(f.op, f.foot, f.size * a, c, c + f.peak, c + f.end))
    return MoveOut(rows, feet)


def mirror(out: MoveOut) -> MoveOut:
    """The same keys with left and right swapped."""
    r = out.rows.copy()
    r[:, [P_DX, P_LEAN, P_HEAD]] *= -1
    r[:, [P_SHR, P_SHL]] = out.rows[:, [P_SHL, P_SHR]]
    r[:, [P_AR, P_BR, P_AL, P_BL]] = out.rows[:, [P_AL, P_BL, P_AR, P_BR]]
    return MoveOut(r, [replace(f, foot=1 - f.foot) for f in out.feet])


# ------------------------------------------------------------------------------------------------ the table

_SWING = (Lin(RELAX[0]), -0.3 - 0.4)  # bounce: the swinging arm, forward by r
_STILL = (RELAX[0], -0.3)  # bounce: the other arm

MOVES: dict[str, Move] = {
    "bounce": Move(draw=(0.15, 0.35), counts=(
        Count(dict(dy=0.13, head=0.05, armr=_STILL, arml=_SWING), and_=dict(dy=0.0, head=0.0)),
        Count(dict(dy=0.13, head=0.05, armr=_SWING, arml=_STILL), and_=dict(dy=0.0, head=0.0)),
    )),
    "sway": Move(draw=(0.06, 0.1), counts=(  # r: the lean
        Count(dict(dx=0.3, dy=0.03, lean=Lin(coef=-1.0), head=-0.06, armr=(0.3 + 0.35, -0.3), arml=(0.3, -0.3))),
        Count(dict(dx=0.3, dy=0.1, lean=Lin(coef=-1.0), head=-0.06, armr=(0.3 + 0.35, -0.3), arml=(0.3, -0.3))),
        Count(dict(dx=-0.3, dy=0.03, lean=Lin(), head=0.06, armr=(0.3, -0.3), arml=(0.3 + 0.35, -0.3))),
        Count(dict(dx=-0.3, dy=0.1, lean=Lin(), head=0.06, armr=(0.3, -0.3), arml=(0.3 + 0.35, -0.3))),
    )),
    "shoulder_pop": Move(draw=(0.22, 0.32), counts=(  # r: how far the shoulder pops up
        Count(dict(dy=0.06, head=0.08, shr=Lin(), shl=0.0, armr=(0.3 + 0.15, -1.0), arml=(0.3, -1.0)),
              and_=dict(shr=0.0, shl=0.0, dy=0.0)),
        Count(dict(dy=0.06, head=-0.08, shr=0.0, shl=Lin(), armr=(0.3, -1.0), arml=(0.3 + 0.15, -1.0)),
              and_=dict(shr=0.0, shl=0.0, dy=0.0)),
    )),
    "hip_shift": Move(draw=(0.28, 0.4), counts=(  # r: the sideways shift
        Count(dict(dx=Lin(), dy=0.05, lean=-0.07, head=0.05, armr="hip", arml="hip")),
        Count(dict(dx=Lin(coef=-1.0), dy=0.05, lean=0.07, head=-0.05, armr="hip", arml="hip")),
    )),
    "arm_wave": Move(draw=(0.35, 0.6), counts=(  # r: the forearm flick on the "and"
        Count(dict(dy=0.08, head=-0.04, armr="out", arml="relax"), and_=dict(dy=0.0), flick=True),
        Count(dict(dy=0.08, head=0.04, armr="v_up", arml="out"), and_=dict(dy=0.0), flick=True),
        Count(dict(dy=0.08, head=-0.04, armr="up", arml="v_up"), and_=dict(dy=0.0), flick=True),
        Count(dict(dy=0.08, head=0.04, armr="out", arml="out"), and_=dict(dy=0.0), flick=True),
    )),
    "clap": Move(counts=(
        Count(dict(dy=0.03, armr="open", arml="open")),
        Count(dict(dy=0.15, head=0.06, armr="clap", arml="clap")),
    ), variant=(0.35, (  # a clap above the head
        Count(dict(dy=0.03, armr="v_up", arml="v_up")),
        Count(dict(dy=0.15, head=0.06, armr="high_clap", arml="high_clap")),
    ))),
    "step_touch": Move(counts=(
        Count(dict(dy=0.1, lean=0.06, armr="out", arml="bent"), foot=FootOp("out", 0, 0.9)),
        Count(dict(dy=0.16, lean=0.06 * 0.5, armr="bent", arml="bent"), foot=FootOp("in", 1, 0.0)),
        Count(dict(dy=0.1, lean=-0.06, armr="bent", arml="out"), foot=FootOp("out", 1, 0.9)),
        Count(dict(dy=0.16, lean=-0.06 * 0.5, armr="bent", arml="bent"), foot=FootOp("in", 0, 0.0)),
    ), variant=(0.5, (  # clapping on the closing steps
        Count(dict(dy=0.1, lean=0.06, armr="open", arml="open"), foot=FootOp("out", 0, 0.9)),
        Count(dict(dy=0.16, lean=0.06 * 0.5, armr="clap", arml="clap"), foot=FootOp("in", 1, 0.0)),
        Count(dict(dy=0.1, lean=-0.06, armr="open", arml="open"), foot=FootOp("out", 1, 0.9)),
        Count(dict(dy=0.16, lean=-0.06 * 0.5, armr="clap", arml="clap"), foot=FootOp("in", 0, 0.0)),
    ))),
    "reach": Move(counts=(
        Count(dict(dy=0.08, lean=0.1, head=0.08, armr="v_up", arml="hip")),
        Count(dict(dy=0.14, armr="bent", arml="bent")),
        Count(dict(dy=0.08, lean=-0.1, head=-0.08, armr="hip", arml="v_up")),
        Count(dict(dy=0.14, armr="bent", arml="bent")),
    )),
    "squat": Move(draw=(0.45, 0.65), counts=(  # r: the depth
        Count(dict(dy=Lin(), head=0.0, armr="out", arml="out")),
        Count(dict(dy=Lin(0.08), head=0.05, armr="flex", arml="flex")),
        Count(dict(dy=0.08, head=-0.05, armr="v_up", arml="v_up")),
        Count(dict(dy=0.14, head=0.0, armr="relax", arml="relax")),
    )),
    "pump": Move(counts=(
        Count(dict(dy=0.12, head=0.08, armr="pump_up", arml="hip"), and_=dict(dy=0.0, head=0.0, armr="pump_mid")),
    )),
    "knee_lift": Move(counts=(  # the knee is highest on the count after the lift starts
        Count(dict(dy=0.06, armr="flex", arml="flex"), foot=FootOp("lift", 0, 1.0, peak=1.0, end=2.0)),
        Count(dict(dy=0.1, lean=-0.05, armr="out", arml="knee_touch")),
        Count(dict(dy=0.06, armr="flex", arml="flex"), foot=FootOp("lift", 1, 1.0, peak=1.0, end=2.0)),
        Count(dict(dy=0.1, lean=0.05, armr="knee_touch", arml="out")),
    )),
    "disco": Move(counts=(
        Count(dict(dx=0.2, dy=0.05, lean=-0.05, head=-0.1, armr="v_up", arml="hip")),
        Count(dict(dx=-0.2, dy=0.1, lean=0.05, head=0.06, armr="point_down", arml="hip")),
    )),
}

# move pools by phrase energy (calm, medium, loud) with relative weights
POOLS = (
    {"bounce": 1.0, "sway": 1.5, "shoulder_pop": 1.2, "hip_shift": 1.2, "arm_wave": 0.6},
    {"arm_wave": 1.0, "clap": 1.0, "step_touch": 1.0, "reach": 1.0, "shoulder_pop": 0.6, "hip_shift": 0.6,
     "disco": 0.8, "sway": 0.4},
    {"clap": 1.0, "step_touch": 1.2, "reach": 0.8, "squat": 0.8, "pump": 1.0, "knee_lift": 0.9, "disco": 0.9,
     "arm_wave": 0.6},
)

# a close-up (legs outside the frame) draws from moves that show in the arms, shoulders and head
CLOSE_UP_POOLS = (
    {"sway": 1.2, "shoulder_pop": 1.5, "arm_wave": 1.0, "bounce": 0.5},
    {"arm_wave": 1.2, "clap": 1.2, "reach": 1.0, "shoulder_pop": 1.0, "disco": 0.8},
    {"clap": 1.2, "pump": 1.2, "reach": 1.0, "disco": 1.0, "arm_wave": 0.8},
)
