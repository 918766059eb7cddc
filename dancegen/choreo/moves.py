"""What a move is, and how one use of a move becomes keys: the move table itself is :mod:`.vocabulary`.

A move is a cycle of count poses (:class:`Count`) repeated over the counts it is given, written for the person's
right side leading and travelling / turning towards the image-right (a mirrored use swaps left and right and the
directions). A pose on a count sets every rig parameter (:mod:`dancegen.choreo.rig`): pelvis offset ``dx`` / ``dy``
and ``lean``, ``head`` turn, shoulder raises ``shr`` / ``shl`` (head heights and radians) and the two arms
(``armr`` / ``arml``: a name from :data:`ARMS` or an (upper-arm, forearm) angle pair). Displacements are scaled by
the use's size and arms move towards :data:`RELAX` as it falls, so a calm verse gets small moves. A count may also
key a few parameters on its "and" (half-way to the next count), move a foot (:class:`FootOp`) or turn the body
(:class:`TurnOp`).

A move may have a 3-count cycle (``triple``) used in triple meter, and variant cycles chosen by number
(``MoveEntry.variant`` of the plan document). ``flow`` moves (sustained, breath-led) are never stopped on a count
other than the phrase's first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .rig import N_PARAMS, P_AL, P_AR, P_BL, P_BR, P_DX, P_DY, P_HEAD, P_LEAN, P_SHL, P_SHR

# arm targets (upper-arm angle from hanging down, forearm relative angle), radians; see the rig's parameter notes
RELAX = (0.15, -0.15)
ARMS = {
    "relax": RELAX,
    "bent": (0.3, -1.0),  # elbows bent, hands in front of the belly
    "hip": (0.55, -1.45),  # hand on hip
    "out": (1.5, 0.0),  # horizontal, to the side
    "low_out": (0.8, 0.0),  # diagonal down
    "open": (1.05, -0.45),  # half open, before a clap
    "clap": (0.25, -2.05),  # hands together in front of the chest
    "high_clap": (2.8, 1.45),  # hands together above the head
    "v_up": (2.35, 0.0),  # diagonal up
    "up": (2.85, 0.1),  # straight up
    "flex": (1.45, 1.45),  # upper arm out, forearm up (goal post)
    "pump_up": (2.7, 0.35),
    "pump_mid": (2.05, 1.2),
    "point_down": (-0.35, 0.0),  # pointing down across the body
    "across": (-0.5, -1.2),  # forearm across the chest
    "knee_touch": (0.55, -1.65),
    "chest": (0.45, -2.3),  # fist at the chest
    "salute": (2.2, 1.9),  # hand at the forehead
    "wave_a": (1.6, 0.6),  # arm wave: wrist leads up
    "wave_b": (1.4, -0.6),  # arm wave: elbow leads
    "wing": (1.2, 0.9),  # Korean palsawi: arm lifted from the back, wrist leading
    "wing_high": (2.1, 0.7),
    "wing_low": (0.7, 0.8),
    "scarf": (1.9, -0.9),  # Korean: arm flung across above the head
}
_ROWS = {"dx": P_DX, "dy": P_DY, "lean": P_LEAN, "head": P_HEAD, "shr": P_SHR, "shl": P_SHL}
FOOT_OPS = ("out", "in", "side", "lift")
TURN_KINDS = ("full", "quarter")


@dataclass(frozen=True)
class FootOp:
    """A foot movement: "out" (away from the other foot), "in" (back to the frame-0 width from the other foot),
    "side" (``size`` towards the image-right: travel) or "lift" (knee up, the foot back in place).

    In a :class:`Count` ``size`` is head heights at size 1 and start / peak / end are counts after the count; in the
    output of :func:`render` they are counts from the move's start and the size is scaled by the move's size."""

    op: str
    foot: int  # 0 = the right foot, 1 = the left
    size: float  # head heights
    start: float = 0.0
    peak: float = 0.5
    end: float = 1.0


@dataclass(frozen=True)
class TurnOp:
    """A body turn: "full" (a whole turn towards the image-right between start and end, quickest in the middle, so
    the back shows for well under a count) or "quarter" (out to ``angle`` by ``peak``, held, back to the front from
    ``back`` to ``end``). Times in counts as for :class:`FootOp`."""

    kind: str
    angle: float  # rad (+ = towards the image-right); ignored for "full" (2 pi)
    start: float = 0.0
    peak: float = 0.5
    back: float = 1.5
    end: float = 2.0


@dataclass(frozen=True)
class Count:
    key: dict  # the pose on the count (keyword arguments of key_row)
    and_: dict | None = None  # parameters keyed half-way to the next count (arms scaled by the size)
    foot: FootOp | None = None  # a foot movement starting on this count (only if it ends within the move)
    foot2: FootOp | None = None  # a second one (the other foot, later in the count)
    turn: TurnOp | None = None  # a body turn starting on this count (only if it ends within the move)


@dataclass(frozen=True)
class Move:
    counts: tuple[Count, ...]  # the cycle in duple / quadruple meter (count c of a use: counts[c % len])
    tags: frozenset = frozenset()  # "travel", "level", "turn", "arms_up", "feet" (steps), "upper" (fits a close-up)
    triple: tuple[Count, ...] | None = None  # the cycle in triple meter (3 or 6 counts); None: not danced in 3
    variants: tuple[tuple[Count, ...], ...] = ()  # other cycles (MoveEntry.variant 1, 2, ...)
    flow: bool = False  # sustained: no stop on its counts (only the phrase's first count is a hit)


@dataclass
class MoveOut:
    """Keys of one use of a move: rows [2 n, N_PARAMS] (row 2c = count c, row 2c + 1 = its "and", NaN = no key)."""

    rows: np.ndarray
    feet: list[FootOp] = field(default_factory=list)  # times in counts from the move's start
    turns: list[TurnOp] = field(default_factory=list)  # times in counts from the move's start


def cycle_of(move: Move, triple: bool, variant: int = 0) -> tuple[Count, ...] | None:
    """The cycle a use dances: the triple one in triple meter, else variant ``variant`` (0 = ``counts``)."""
    if triple:
        return move.triple
    if variant <= 0 or not move.variants:
        return move.counts
    return move.variants[(variant - 1) % len(move.variants)]


def arm(name_or_pair: str | tuple[float, float], amp: float) -> tuple[float, float]:
    """An arm target scaled towards the relaxed arm by ``amp`` (0..1)."""
    a, b = ARMS[name_or_pair] if isinstance(name_or_pair, str) else name_or_pair
    return RELAX[0] + amp * (a - RELAX[0]), RELAX[1] + amp * (b - RELAX[1])


def key_row(amp: float = 1.0, dx: float = 0.0, dy: float = 0.0, lean: float = 0.0, head: float = 0.0,
            shr: float = 0.0, shl: float = 0.0, armr: str | tuple[float, float] = "relax",
            arml: str | tuple[float, float] = "relax") -> np.ndarray:
    """A full key row [N_PARAMS] (yaw NaN: turns are separate): displacements scaled by ``amp``, arms scaled
    towards RELAX by ``amp``."""
    v = np.full(N_PARAMS, np.nan)
    v[P_DX], v[P_DY], v[P_LEAN], v[P_HEAD] = dx * amp, dy * amp, lean * amp, head * amp
    v[P_SHR], v[P_SHL] = shr * amp, shl * amp
    v[[P_AR, P_BR]] = arm(armr, amp)
    v[[P_AL, P_BL]] = arm(arml, amp)
    return v


def _and_row(values: dict, amp: float) -> np.ndarray:
    """The "and" row [N_PARAMS]: only the keyed parameters (others NaN)."""
    row = np.full(N_PARAMS, np.nan)
    for name, v in values.items():
        if name == "armr":
            row[[P_AR, P_BR]] = arm(v, amp)
        elif name == "arml":
            row[[P_AL, P_BL]] = arm(v, amp)
        else:
            row[_ROWS[name]] = v * amp
    return row


def step_scale(op: str, size: float) -> float:
    """How much a foot operation of a use at ``size`` is scaled: "in" not at all (it closes to the frame-0
    width), "side" (travel) half as much as the size falls (a calm phrase still crosses the room), others by the
    size."""
    if op == "in":
        return 1.0
    return 0.5 + 0.5 * size if op == "side" else size


def render(move: Move, n: int, size: float, triple: bool = False, variant: int = 0) -> MoveOut:
    """Keys of ``move`` over ``n`` counts at ``size`` (0..1.2)."""
    cycle = cycle_of(move, triple, variant)
    if not cycle:
        raise ValueError("this move has no cycle for this meter")
    rows = np.full((2 * n, N_PARAMS), np.nan)
    feet, turns = [], []
    for c in range(n):
        count = cycle[c % len(cycle)]
        rows[2 * c] = key_row(size, **count.key)
        if count.and_ is not None:
            rows[2 * c + 1] = _and_row(count.and_, size)
        for f in (count.foot, count.foot2):
            if f is not None and c + f.end <= n + 1e-9:
                scale = step_scale(f.op, size)
                feet.append(FootOp(f.op, f.foot, f.size * scale, c + f.start, c + f.peak, c + f.end))
        r = count.turn
        if r is not None and c + r.end <= n + 1e-9:
            turns.append(replace(r, start=c + r.start, peak=c + r.peak, back=c + r.back, end=c + r.end))
    return MoveOut(rows, feet, turns)


def mirror(out: MoveOut) -> MoveOut:
    """The same keys with left and right swapped (and travel / turns the other way)."""
    r = out.rows.copy()
    r[:, [P_DX, P_LEAN, P_HEAD]] *= -1
    r[:, [P_SHR, P_SHL]] = out.rows[:, [P_SHL, P_SHR]]
    r[:, [P_AR, P_BR, P_AL, P_BL]] = out.rows[:, [P_AL, P_BL, P_AR, P_BR]]
    feet = [replace(f, foot=1 - f.foot, size=-f.size if f.op == "side" else f.size) for f in out.feet]
    turns = [replace(t, angle=-t.angle) for t in out.turns]
    return MoveOut(r, feet, turns)
