"""The move vocabulary, as a table: :data:`MOVES` name -> :class:`~dancegen.choreo.moves.Move`.

Written from a dancer's description of each move (counts in brackets): commercial pop / K-pop (step touch,
grapevine, box step, body roll, pivot turn, ...), hip-hop groove (bounce, running man, Charleston, cabbage patch,
...) and Korean traditional-inspired moves (gulsin knee pulse, didimsae heel steps, palsawi arm flings, dolgi
turns, jeongjungdong held breath, ...), plus a waltz box and balance for triple meter. Each is written for the
right side leading, travelling and turning towards the image-right (the planner mirrors it). Sizes are head
heights; ``dy`` > 0 is down (a squat of 1.2 lowers the hips by 1.2 head heights).

Tags: "travel" (the feet carry the body sideways), "level" (the hips drop by half a head height or more), "turn"
(the body turns), "arms_up" (a hand goes above the shoulders), "feet" (steps or kicks), "upper" (all of it shows
above the waist: a close-up may use it).
"""

from __future__ import annotations

import math

from .moves import Count, FootOp, Move, TurnOp

TAU = 2 * math.pi
QUARTER = 1.2  # rad of a quarter turn as drawn: the shoulders narrow to cos(1.2) = 0.36 of their width


def C(foot=None, foot2=None, turn=None, and_=None, **key) -> Count:
    """One count's pose (``key_row`` keywords) with its optional "and" keys, foot and turn operations."""
    return Count(key=key, and_=and_, foot=foot, foot2=foot2, turn=turn)


def F(op: str, foot: int, size: float = 0.0, start: float = 0.0, peak: float = 0.5, end: float = 1.0) -> FootOp:
    return FootOp(op, foot, size, start, peak, end)


def M(counts, *tags, triple=None, variants=(), flow=False) -> Move:
    return Move(counts=tuple(counts), tags=frozenset(tags), triple=None if triple is None else tuple(triple),
                variants=tuple(tuple(v) for v in variants), flow=flow)


R, L = 0, 1  # feet
FULL = TurnOp("full", TAU, 0.0, 0.5, 0.5, 1.0)  # a whole turn within one count


def _quarter(sign: float = 1.0, back: float = 1.5, end: float = 2.0, peak: float = 0.6) -> TurnOp:
    return TurnOp("quarter", sign * QUARTER, 0.0, peak, back, end)


MOVES: dict[str, Move] = {
    # ------------------------------------------------------------------ commercial pop / K-pop
    "step_touch": M([
        C(dy=0.15, lean=0.06, armr="out", arml="bent", foot=F("out", R, 0.8)),
        C(dy=0.2, armr="clap", arml="clap", foot=F("in", L)),
        C(dy=0.15, lean=-0.06, armr="bent", arml="out", foot=F("out", L, 0.8)),
        C(dy=0.2, armr="clap", arml="clap", foot=F("in", R)),
    ], "feet", triple=[
        C(dy=0.15, lean=0.06, armr="out", arml="bent", foot=F("out", R, 0.8)),
        C(dy=0.25, armr="clap", arml="clap", foot=F("in", L)),
        C(dy=0.1, armr="open", arml="open"),
    ]),
    "grapevine": M([
        C(dy=0.15, lean=-0.05, armr="out", arml="out", foot=F("side", L, 0.9)),
        C(dy=0.2, armr="bent", arml="bent", foot=F("side", R, 0.9)),
        C(dy=0.15, lean=-0.05, armr="v_up", arml="out", foot=F("side", L, 0.9)),
        C(dy=0.2, head=0.1, armr="clap", arml="clap", foot=F("in", R)),
    ], "travel", "feet", "arms_up"),
    "box_step": M([
        C(dy=0.2, lean=0.05, armr="bent", arml="open", foot=F("out", R, 0.6)),
        C(dy=0.15, armr="open", arml="bent", foot=F("out", L, 0.6)),
        C(dy=0.25, lean=-0.05, armr="bent", arml="bent", foot=F("in", R)),
        C(dy=0.15, armr="hip", arml="hip", foot=F("in", L)),
    ], "feet"),
    "body_roll": M([
        C(dy=0.1, lean=-0.06, head=0.1, armr="hip", arml="hip", and_=dict(dy=0.3, lean=0.05)),
        C(dy=0.45, lean=0.08, head=-0.08, armr="hip", arml="hip"),
        C(dy=0.1, lean=-0.06, head=0.1, armr="v_up", arml="hip", and_=dict(dy=0.3, lean=0.05)),
        C(dy=0.45, lean=0.08, head=-0.08, armr="relax", arml="relax"),
    ], "upper"),
    "hip_roll": M([
        C(dx=0.35, dy=0.15, lean=-0.08, armr="hip", arml="out", and_=dict(dx=0.0, dy=0.3)),
        C(dx=-0.35, dy=0.15, lean=0.08, armr="out", arml="hip", and_=dict(dx=0.0, dy=0.3)),
    ]),
    "shoulder_shimmy": M([
        C(dy=0.1, shr=0.3, shl=0.0, head=0.05, armr="bent", arml="bent", and_=dict(shr=0.0, shl=0.3)),
        C(dy=0.15, shr=0.3, shl=0.0, head=-0.05, armr="open", arml="open", and_=dict(shr=0.0, shl=0.3)),
    ], "upper"),
    "chest_pop": M([C(dy=0.05, lean=-0.05, head=-0.08, armr="flex", arml="flex", and_=dict(lean=0.02))], "upper"),
    "kick_ball_change": M([
        C(dy=0.05, armr="out", arml="bent", foot=F("lift", R, 0.8, 0.0, 0.4, 0.8)),
        C(dy=0.2, armr="bent", arml="out", foot=F("lift", L, 0.3, 0.0, 0.3, 0.6)),
    ], "feet"),
    "arm_wave": M([
        C(dy=0.08, head=-0.04, armr="out", arml="relax", and_=dict(armr="wave_a")),
        C(dy=0.1, head=0.04, armr="v_up", arml="wave_b", and_=dict(arml="wave_a")),
        C(dy=0.08, head=-0.04, armr="wave_b", arml="v_up", and_=dict(armr="wave_a")),
        C(dy=0.1, head=0.04, armr="out", arml="out"),
    ], "upper", "arms_up", triple=[
        C(dy=0.08, armr="out", arml="relax", and_=dict(armr="wave_a")),
        C(dy=0.1, armr="v_up", arml="wave_b", and_=dict(arml="wave_a")),
        C(dy=0.1, armr="wave_b", arml="v_up"),
    ]),
    "point_pose": M([
        C(dy=0.1, lean=0.08, head=-0.1, armr="v_up", arml="hip"),
        C(dy=0.15, lean=-0.05, head=0.1, armr="point_down", arml="hip"),
    ], "upper", "arms_up"),
    "pivot_turn": M([
        C(dy=0.15, armr="clap", arml="clap", turn=FULL),
        C(dy=0.1, head=0.08, armr="v_up", arml="out"),
    ], "turn", "arms_up", triple=[
        C(dy=0.15, armr="clap", arml="clap", turn=FULL),
        C(dy=0.1, armr="v_up", arml="out"),
        C(dy=0.2, armr="hip", arml="hip"),
    ]),
    "chaine": M([
        C(dy=0.1, armr="bent", arml="bent", turn=FULL, foot=F("side", L, 0.6, 0.1, 0.4, 0.9)),
        C(dy=0.15, lean=-0.05, armr="out", arml="v_up", foot=F("in", R)),
    ], "turn", "travel", "arms_up"),
    "lunge_reach": M([
        C(dy=0.9, lean=0.1, armr="v_up", arml="out", foot=F("out", R, 1.0)),
        C(dy=1.45, lean=0.12, head=0.1, armr="up", arml="low_out"),
        C(dy=0.3, armr="bent", arml="bent", foot=F("in", R)),
        C(dy=0.2, armr="hip", arml="hip"),
    ], "level", "arms_up", "feet", triple=[
        C(dy=0.9, lean=0.1, armr="v_up", arml="out", foot=F("out", R, 1.0)),
        C(dy=1.45, lean=0.12, armr="up", arml="low_out"),
        C(dy=0.3, armr="bent", arml="bent", foot=F("in", R)),
    ]),
    "rise_jack": M([
        C(dy=0.7, armr="bent", arml="bent"),
        C(dy=-0.05, head=0.1, armr="up", arml="up"),
    ], "level", "arms_up", "upper"),
    "clap": M([
        C(dy=0.05, armr="open", arml="open"),
        C(dy=0.2, head=0.06, armr="clap", arml="clap"),
    ], "upper", variants=[[
        C(dy=0.05, armr="v_up", arml="v_up"),
        C(dy=0.2, head=0.06, armr="high_clap", arml="high_clap"),
    ]], triple=[
        C(dy=0.05, armr="open", arml="open"),
        C(dy=0.2, armr="clap", arml="clap"),
        C(dy=0.1, armr="high_clap", arml="high_clap"),
    ]),
    "reach": M([
        C(dy=0.08, lean=0.12, head=0.08, armr="up", arml="hip"),
        C(dy=0.2, armr="bent", arml="bent"),
        C(dy=0.08, lean=-0.12, head=-0.08, armr="hip", arml="up"),
        C(dy=0.2, armr="bent", arml="bent"),
    ], "upper", "arms_up", triple=[
        C(dy=0.08, lean=0.12, armr="up", arml="hip"),
        C(dy=0.08, lean=-0.12, armr="hip", arml="up"),
        C(dy=0.2, armr="bent", arml="bent"),
    ]),
    "disco": M([
        C(dx=0.2, dy=0.05, lean=-0.05, head=-0.1, armr="v_up", arml="hip"),
        C(dx=-0.2, dy=0.15, lean=0.05, head=0.06, armr="point_down", arml="hip"),
    ], "upper", "arms_up"),
    "pump": M([C(dy=0.15, head=0.08, armr="pump_up", arml="hip", and_=dict(dy=0.0, armr="pump_mid"))],
              "upper", "arms_up"),
    "sway": M([
        C(dx=0.3, dy=0.05, lean=-0.08, head=-0.06, armr="low_out", arml="bent"),
        C(dx=0.3, dy=0.15, lean=-0.08, head=-0.06, armr="out", arml="bent"),
        C(dx=-0.3, dy=0.05, lean=0.08, head=0.06, armr="bent", arml="low_out"),
        C(dx=-0.3, dy=0.15, lean=0.08, head=0.06, armr="bent", arml="out"),
    ], "upper", triple=[
        C(dx=0.3, dy=0.2, lean=-0.08, armr="low_out", arml="bent"),
        C(dx=0.0, dy=0.05, armr="out", arml="out"),
        C(dx=-0.3, dy=0.1, lean=0.08, armr="bent", arml="low_out"),
    ]),
    "quarter_turn": M([
        C(dy=0.1, armr="out", arml="bent", turn=_quarter()),
        C(dy=0.15, head=0.1, armr="v_up", arml="hip"),
        C(dy=0.2, armr="bent", arml="bent"),
        C(dy=0.1, armr="flex", arml="flex"),
    ], "turn", "arms_up", "upper", triple=[
        C(dy=0.1, armr="out", arml="bent", turn=_quarter(back=1.5, end=2.4)),
        C(dy=0.15, armr="v_up", arml="hip"),
        C(dy=0.2, armr="bent", arml="bent"),
    ]),
    "walk": M([
        C(dy=0.15, armr="low_out", arml="bent", foot=F("side", L, 0.8)),
        C(dy=0.2, armr="bent", arml="low_out", foot=F("side", R, 0.8)),
    ], "travel", "feet"),
    "chasse": M([
        C(dy=0.2, armr="out", arml="out", foot=F("side", L, 0.8, 0.0, 0.25, 0.5),
          foot2=F("side", R, 0.8, 0.5, 0.75, 1.0)),
        C(dy=0.15, head=0.08, armr="v_up", arml="out", foot=F("side", L, 0.8)),
    ], "travel", "feet", "arms_up"),
    "squat": M([
        C(dy=0.6, armr="out", arml="out", foot=F("out", R, 0.5)),
        C(dy=1.5, head=0.05, armr="flex", arml="flex"),
        C(dy=0.5, head=-0.05, armr="v_up", arml="v_up", foot=F("in", R)),
        C(dy=0.15, armr="relax", arml="relax"),
    ], "level", "arms_up", triple=[
        C(dy=1.5, armr="out", arml="out"),
        C(dy=0.6, armr="flex", arml="flex"),
        C(dy=0.15, armr="v_up", arml="v_up"),
    ]),
    "knee_lift": M([
        C(dy=0.06, armr="flex", arml="flex", foot=F("lift", R, 1.0, 0.0, 1.0, 2.0)),
        C(dy=0.15, lean=-0.05, armr="out", arml="knee_touch"),
        C(dy=0.06, armr="flex", arml="flex", foot=F("lift", L, 1.0, 0.0, 1.0, 2.0)),
        C(dy=0.15, lean=0.05, armr="knee_touch", arml="out"),
    ], "feet", "arms_up"),
    "head_nod": M([
        C(dy=0.1, head=0.12, armr="hip", arml="hip", and_=dict(head=0.0)),
        C(dy=0.15, head=-0.12, armr="hip", arml="hip", and_=dict(head=0.0)),
    ], "upper"),
    "frame": M([
        C(dy=0.1, armr="high_clap", arml="high_clap"),
        C(dy=0.2, lean=0.06, armr="salute", arml="out"),
    ], "upper", "arms_up"),
    # ------------------------------------------------------------------ hip-hop groove
    "bounce": M([
        C(dy=0.3, head=0.06, armr="bent", arml="low_out", and_=dict(dy=0.05, head=0.0)),
        C(dy=0.3, head=0.06, armr="low_out", arml="bent", and_=dict(dy=0.05, head=0.0)),
    ], "upper", triple=[
        C(dy=0.3, armr="bent", arml="low_out"),
        C(dy=0.1, armr="low_out", arml="bent"),
        C(dy=0.1, armr="bent", arml="bent"),
    ]),
    "two_step": M([
        C(dy=0.25, lean=0.05, armr="bent", arml="low_out", foot=F("out", R, 0.6)),
        C(dy=0.3, lean=-0.05, armr="low_out", arml="bent", foot=F("in", R)),
    ], "feet"),
    "running_man": M([
        C(dy=0.35, lean=0.08, armr="pump_mid", arml="bent", foot=F("lift", R, 0.9, 0.0, 0.5, 1.0)),
        C(dy=0.35, lean=0.08, armr="bent", arml="pump_mid", foot=F("lift", L, 0.9, 0.0, 0.5, 1.0)),
    ], "feet", "arms_up"),
    "charleston": M([
        C(dy=0.2, armr="low_out", arml="bent", foot=F("lift", R, 0.6, 0.0, 0.5, 1.0)),
        C(dy=0.3, armr="bent", arml="low_out"),
        C(dy=0.2, armr="bent", arml="low_out", foot=F("lift", L, 0.6, 0.0, 0.5, 1.0)),
        C(dy=0.3, armr="low_out", arml="bent"),
    ], "feet"),
    "cabbage_patch": M([
        C(dx=0.15, dy=0.25, armr="across", arml="chest", and_=dict(dx=0.0, dy=0.35)),
        C(dx=-0.15, dy=0.25, armr="chest", arml="across", and_=dict(dx=0.0, dy=0.35)),
    ], "upper"),
    "wop": M([
        C(dx=0.25, dy=0.2, lean=-0.1, head=0.1, armr="low_out", arml="low_out"),
        C(dx=-0.25, dy=0.2, lean=0.1, head=-0.1, armr="bent", arml="bent"),
    ], "upper"),
    "roger_rabbit": M([
        C(dy=0.3, lean=0.1, armr="bent", arml="bent", foot=F("side", L, -0.5)),
        C(dy=0.3, lean=0.1, armr="bent", arml="bent", foot=F("side", R, -0.5)),
    ], "travel", "feet"),
    "kick_step": M([
        C(dy=0.1, armr="out", arml="bent", foot=F("lift", L, 0.9, 0.0, 0.4, 0.8)),
        C(dy=0.3, armr="bent", arml="out", foot=F("side", L, 0.5)),
    ], "feet", "travel"),
    "chest_pump": M([C(dy=0.2, lean=-0.08, armr="chest", arml="chest", and_=dict(lean=0.03, dy=0.3))], "upper"),
    "tutting": M([
        C(dy=0.15, armr="flex", arml="across"),
        C(dy=0.2, armr="salute", arml="out"),
        C(dy=0.15, armr="across", arml="flex"),
        C(dy=0.2, armr="out", arml="salute"),
    ], "upper", "arms_up"),
    "shuffle": M([
        C(dy=0.25, armr="bent", arml="low_out", foot=F("side", L, 0.6, 0.0, 0.25, 0.5),
          foot2=F("side", R, 0.6, 0.5, 0.75, 1.0)),
        C(dy=0.3, armr="low_out", arml="bent", foot=F("lift", L, 0.4)),
    ], "feet", "travel"),
    "freeze": M([C(dy=0.4, lean=0.1, head=-0.12, armr="v_up", arml="across")], "upper", "arms_up"),
    "knee_drop": M([
        C(dy=0.8, lean=0.05, armr="out", arml="out", foot=F("out", R, 0.5)),
        C(dy=1.6, lean=0.1, head=0.1, armr="low_out", arml="knee_touch"),
        C(dy=0.9, armr="v_up", arml="v_up", foot=F("in", R)),
        C(dy=0.2, armr="bent", arml="bent"),
    ], "level", "arms_up"),
    "up_rock": M([
        C(dy=0.2, lean=0.1, armr="across", arml="out", foot=F("lift", R, 0.5)),
        C(dy=0.3, lean=-0.05, armr="out", arml="across", foot=F("lift", L, 0.5)),
    ], "feet"),
    "pump_up": M([
        C(dy=0.3, armr="pump_mid", arml="pump_mid"),
        C(dy=0.05, head=0.1, armr="up", arml="up"),
    ], "upper", "arms_up"),
    # ------------------------------------------------------------------ Korean traditional-inspired
    "gulsin": M([  # the knee pulse: down on the count, rising through
        C(dy=0.55, head=0.05, armr="wing_low", arml="bent", and_=dict(dy=0.2)),
        C(dy=0.55, head=-0.05, armr="bent", arml="wing_low", and_=dict(dy=0.2)),
    ], "level", "upper", triple=[
        C(dy=0.7, armr="wing_low", arml="bent"),
        C(dy=0.35, armr="wing", arml="wing_low"),
        C(dy=0.2, armr="wing_low", arml="wing"),
    ]),
    "didimsae": M([  # heel-first gliding steps
        C(dy=0.45, lean=-0.04, armr="wing", arml="wing_low", foot=F("side", L, 0.9, 0.0, 0.4, 1.0)),
        C(dy=0.3, armr="wing_low", arml="wing", foot=F("side", R, 0.9, 0.0, 0.4, 1.0)),
    ], "travel", "feet", flow=True, triple=[
        C(dy=0.5, armr="wing", arml="wing_low", foot=F("side", L, 0.9, 0.0, 0.4, 1.0)),
        C(dy=0.3, armr="wing_low", arml="wing", foot=F("side", R, 0.9, 0.0, 0.4, 1.0)),
        C(dy=0.2, armr="wing_high", arml="wing_low"),
    ]),
    "palsawi": M([  # arms lifted from the back, wrists leading: flung out, wound in
        C(dy=0.3, lean=0.06, armr="wing_low", arml="wing_low"),
        C(dy=0.2, lean=0.06, head=-0.1, armr="wing_high", arml="wing"),
        C(dy=0.35, lean=-0.06, armr="wing", arml="wing_high"),
        C(dy=0.25, head=0.1, armr="bent", arml="bent"),
    ], "upper", "arms_up", flow=True, triple=[
        C(dy=0.35, armr="wing_low", arml="wing_low"),
        C(dy=0.2, head=-0.1, armr="wing_high", arml="wing"),
        C(dy=0.25, armr="wing", arml="wing_high"),
    ]),
    "dolgi": M([  # a slow turn to the side and back
        C(dy=0.35, armr="wing", arml="wing_low", turn=_quarter(back=2.6, end=3.6, peak=1.2)),
        C(dy=0.45, head=0.1, armr="wing_high", arml="wing"),
        C(dy=0.35, armr="wing", arml="wing_high"),
        C(dy=0.3, armr="wing_low", arml="wing_low"),
    ], "turn", "upper", "arms_up", flow=True, triple=[
        C(dy=0.35, armr="wing", arml="wing_low", turn=_quarter(back=1.6, end=2.6, peak=1.0)),
        C(dy=0.45, armr="wing_high", arml="wing"),
        C(dy=0.3, armr="wing_low", arml="wing_low"),
    ]),
    "jeongjungdong": M([  # stillness that still moves: a held pose, breathing
        C(dy=0.4, lean=0.05, head=0.08, armr="wing", arml="bent"),
        C(dy=0.3, lean=0.04, head=0.06, armr="wing", arml="bent"),
    ], "upper", flow=True, triple=[
        C(dy=0.4, lean=0.05, armr="wing", arml="bent"),
        C(dy=0.32, lean=0.04, armr="wing", arml="bent"),
        C(dy=0.36, lean=0.05, armr="wing", arml="bent"),
    ]),
    "scarf_fling": M([
        C(dy=0.4, lean=-0.08, armr="scarf", arml="wing_low"),
        C(dy=0.25, lean=0.08, head=0.1, armr="wing_low", arml="scarf"),
    ], "upper", "arms_up", flow=True, triple=[
        C(dy=0.4, lean=-0.08, armr="scarf", arml="wing_low"),
        C(dy=0.25, armr="wing_high", arml="wing"),
        C(dy=0.3, lean=0.08, armr="wing_low", arml="scarf"),
    ]),
    "plie": M([
        C(dy=0.5, armr="wing_low", arml="wing_low", foot=F("out", R, 0.6)),
        C(dy=1.45, armr="wing", arml="wing"),
        C(dy=0.6, armr="wing_high", arml="wing_high"),
        C(dy=0.2, armr="wing_low", arml="wing_low", foot=F("in", R)),
    ], "level", "arms_up", flow=True, triple=[
        C(dy=1.45, armr="wing", arml="wing", foot=F("out", R, 0.5)),
        C(dy=0.6, armr="wing_high", arml="wing_high"),
        C(dy=0.2, armr="wing_low", arml="wing_low", foot=F("in", R)),
    ]),
    # ------------------------------------------------------------------ triple meter: rise and fall
    "rise_fall": M([
        C(dy=0.6, armr="low_out", arml="low_out"),
        C(dy=0.0, armr="out", arml="out"),
    ], "level", "upper", triple=[
        C(dy=0.7, armr="low_out", arml="low_out"),
        C(dy=0.05, armr="out", arml="v_up"),
        C(dy=0.0, armr="v_up", arml="out"),
    ]),
    "balance": M([
        C(dy=0.35, lean=0.06, armr="out", arml="low_out", foot=F("side", L, 0.8)),
        C(dy=0.1, armr="low_out", arml="out", foot=F("side", R, 0.8)),
    ], "feet", "travel", triple=[
        C(dy=0.4, lean=0.06, armr="out", arml="low_out", foot=F("side", L, 1.0)),
        C(dy=0.1, armr="v_up", arml="out", foot=F("in", R)),
        C(dy=0.1, armr="out", arml="v_up"),
    ]),
    "waltz_box": M([
        C(dy=0.4, armr="out", arml="bent", foot=F("out", L, 0.6)),
        C(dy=0.1, armr="v_up", arml="out", foot=F("in", R)),
        C(dy=0.4, armr="bent", arml="out", foot=F("out", R, 0.6)),
        C(dy=0.1, armr="out", arml="v_up", foot=F("in", L)),
    ], "feet", "arms_up", triple=[
        C(dy=0.4, armr="out", arml="bent", foot=F("out", L, 0.6)),
        C(dy=0.1, armr="v_up", arml="out", foot=F("in", R)),
        C(dy=0.1, armr="out", arml="out"),
        C(dy=0.4, armr="bent", arml="out", foot=F("out", R, 0.6)),
        C(dy=0.1, armr="out", arml="v_up", foot=F("in", L)),
        C(dy=0.1, armr="out", arml="out"),
    ]),
}

# moves the planner places itself (not drawn from the style pools)
GROOVE = M([C(dy=0.25, armr="bent", arml="low_out", and_=dict(dy=0.05))], "upper",
           triple=[C(dy=0.25, armr="bent", arml="low_out", and_=dict(dy=0.05))])  # a pick-up beat's bounce
FINISH = M([C(dy=0.15, lean=0.06, head=-0.1, armr="up", arml="hip")], "upper", "arms_up",
           triple=[C(dy=0.15, lean=0.06, head=-0.1, armr="up", arml="hip")])  # the ending pose, held
SPECIAL = {"groove": GROOVE, "finish": FINISH}
ALL_MOVES = {**MOVES, **SPECIAL}
