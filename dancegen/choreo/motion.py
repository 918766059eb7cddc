"""A plan's phrases -> poses: keys on the counts, splines between them, steps, turns, and room on the canvas.

* Keys: every count of a move keys every parameter; some counts also key a few on their "and". Between counts
  the arms the move leaves free get loop keys (about every ``MotionConfig.arm_flow_s``): each loop leaves the
  arm's path on a beat, lifts the upper arm early and folds the forearm late (``arm_flow_rad``) and rejoins the
  path on the next beat (slow beats get two loops, ``arm_loop_s``), so the wrists keep circling through every
  count and slow down on the beats. A count listed in the phrase's ``hits`` is a sharp stop (zero speed: a cubic
  ease in and out); every other key is passed through with a monotone cubic (Fritsch-Carlson) slope, so the
  motion flows over weak counts and never overshoots a key.
* A phrase is evaluated from its own keys only, plus the first key of the next phrase as its last (fixed) key,
  starting from the floor position written in it: an edit changes that phrase and, at most, the last count
  before it. Frames from the last phrase's end on hold its last key.
* Turns (:class:`~dancegen.choreo.moves.TurnOp`) make the body yaw of the rig; steps
  (:class:`~dancegen.choreo.moves.FootOp`) become foot paths inside the travel limits of the canvas.
* Staying inside the frame: while some frame of a phrase has a joint outside the canvas (minus the margin), the
  phrase's keys around that frame shrink by 15 % towards the reference pose; an arm first swings its loops across
  the body instead of out (a low arm), then turns its upper arm towards down or up, whichever is nearer (up to
  ``_ARM_TURN``), so that its loops stay as large; feet are never moved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..pose.layout import BodyLayout, margin
from ..pose.topology import J
from .moves import FootOp, TurnOp, key_row, mirror, render
from .rig import N_PARAMS, P_AL, P_AR, P_BL, P_BR, P_DY, P_YAW, Rig, Step, forward, foot_paths
from .vocabulary import ALL_MOVES


@dataclass(frozen=True)
class MotionConfig:
    and_keys_below_bpm: float = 150.0  # "and" keys (between counts) only when counts are slower than this
    soft_knees_heads: float = 0.06  # the pelvis stays this much (head heights) below standing after the start
    intro_s: float = 1.2  # keys earlier than this are shrunk towards the reference pose (no jump at the start)
    step_margin_heads: float = 0.8  # room (head heights) kept at the sides when travelling
    blend_arm_rad: float = 1.6  # arms differing more than this between two moves blend through a neutral stance
    arm_flow_rad: tuple[float, float] = (0.85, -1.4)  # (upper-arm lift, forearm fold) at the top of an arm loop,
    # times the move's size: between the beats the wrists circle off the arm's path (waves, pumps)
    arm_loop_s: float = 0.45  # about this long (s) an arm loop lasts: a beat, split in two when it is slow
    arm_flow_s: float = 0.12  # about this many seconds between the arm keys of a loop (an even number of them)


@dataclass
class PhraseKeys:
    kt: np.ndarray  # [K] key times (s), increasing
    kv: np.ndarray  # [K, N_PARAMS] values (NaN = parameter not keyed there)
    hit: np.ndarray  # [K] bool: a sharp stop
    feet: list[FootOp]  # foot operations, times in seconds
    turns: list[TurnOp]  # turns, times in seconds
    lift: np.ndarray  # [K, 2] upper-arm lift (rad) of the arm loops (right, left arm), added to kv's angles

    def add(self, t: float, values: np.ndarray, first: bool = False) -> None:
        """Add a hit key (no loop) at the end or, with ``first``, at the start."""
        at = 0 if first else self.kt.size
        self.kt, self.kv = np.insert(self.kt, at, t), np.insert(self.kv, at, values, axis=0)
        self.hit = np.insert(self.hit, at, True)
        self.lift = np.insert(self.lift, at, 0.0, axis=0)


def phrase_keys(phrase, count_t: np.ndarray, triple: bool, rest: np.ndarray, cfg: MotionConfig,
                beats: np.ndarray | None = None) -> PhraseKeys:
    """Keys of one phrase whose counts are at ``count_t`` [n + 1] (the last: the phrase's end); ``beats`` [B] (s):
    the music's beats, so that a count of two beats (half time) gets an arm loop per beat."""
    n = count_t.size - 1
    rows = np.full((2 * n, N_PARAMS), np.nan)
    feet, turns = [], []

    def at(c: float) -> float:
        return float(np.interp(c, np.arange(n + 1), count_t))

    first, prev_last = 0, None
    for m in phrase.moves:
        out = render(ALL_MOVES[m.move], m.counts, m.size, triple, m.variant)
        if m.mirrored:
            out = mirror(out)
        if prev_last is not None and np.isnan(rows[2 * first - 1]).all():
            arms = [P_AR, P_BR, P_AL, P_BL]
            if np.abs(out.rows[0, arms] - prev_last[arms]).max() > cfg.blend_arm_rad:
                rows[2 * first - 1] = key_row(m.size, dy=0.2)  # through a neutral stance
        rows[2 * first: 2 * (first + m.counts)] = out.rows
        feet += [FootOp(f.op, f.foot, f.size, at(first + f.start), at(first + f.peak), at(first + f.end))
                 for f in out.feet]
        turns += [TurnOp(r.kind, r.angle, at(first + r.start), at(first + r.peak), at(first + r.back),
                         at(first + r.end)) for r in out.turns]
        prev_last = out.rows[2 * m.counts - 2]
        first += m.counts
    sizes = np.concatenate([np.full(m.counts, m.size) for m in phrase.moves])  # [n]
    flow = phrase.kind == "dance"
    hits = set(phrase.hits) | {0}
    kt, kv, hit, lift = [], [], [], []
    for c in range(n):
        kt.append(count_t[c])
        kv.append(rows[2 * c])
        hit.append(c in hits)
        lift.append(np.zeros(2))
        dt = count_t[c + 1] - count_t[c]
        if 60.0 / max(dt, 1e-6) > cfg.and_keys_below_bpm:
            continue
        loops = 1
        if beats is not None:
            loops = max(1, int(((beats >= count_t[c] - 0.02) & (beats < count_t[c + 1] - 0.02)).sum()))
        loops *= max(1, int(round(dt / loops / cfg.arm_loop_s)))  # a slow beat gets two loops (or more)
        per_loop = 2 * max(1, int(round(dt / loops / (2 * cfg.arm_flow_s)))) if flow else 2
        n_sub = loops * per_loop if flow else 2
        nxt = rows[2 * min(c + 1, n - 1)]
        for k in range(1, n_sub):
            row = rows[2 * c + 1].copy() if 2 * k == n_sub else np.full(N_PARAMS, np.nan)
            up = np.zeros(2)
            if flow:
                up = _arm_sub_key(row, rows[2 * c], rows[2 * c + 1], nxt, k / n_sub, (k % per_loop) / per_loop,
                                  np.asarray(cfg.arm_flow_rad) * sizes[c])
            if np.isfinite(row).any():
                kt.append(count_t[c] + dt * k / n_sub)
                kv.append(row)
                hit.append(False)
                lift.append(up)
    if phrase.kind == "ending":  # the finishing pose, held to the end
        kt.append(count_t[-1])
        kv.append(rows[2 * (n - 1)])
        hit.append(True)
        lift.append(np.zeros(2))
    kt_a, kv_a = np.array(kt), np.array(kv)
    kv_a[:, P_DY] += cfg.soft_knees_heads
    ramp = np.clip(kt_a / cfg.intro_s, 0.0, 1.0)[:, None]
    kv_a = rest + ramp * (kv_a - rest)  # NaN stays NaN
    return PhraseKeys(kt_a, kv_a, np.array(hit), feet, turns, ramp * np.array(lift).reshape(-1, 2))


_ARM_COLS = ((P_AR, P_BR), (P_AL, P_BL))
_ARM_UP = [P_AR, P_AL]  # the upper-arm angle of each arm
_ARM_TURN = (1.2, 0.2)  # (most, step) rad an upper arm leaving the frame is turned towards down or up
_LOOP = 1.0243  # max of sin(pi u)^2 (1.5 - u) over 0..1: the loop's offsets reach flow[0] and flow[1]


def _arm_sub_key(row: np.ndarray, key: np.ndarray, and_: np.ndarray, nxt: np.ndarray, u: float, phase: float,
                 flow: np.ndarray) -> np.ndarray:
    """Key each arm the moves leave free at fraction ``u`` of a count (row [N_PARAMS], in place): the arm's path
    from the count's key through its "and" key (if any) to the next count's, plus a loop off it at ``phase`` (0..1)
    of a loop that leaves and rejoins the path on a beat: the upper arm lifts by up to ``flow[0]`` early in the
    loop, the forearm folds by up to ``flow[1]`` late in it, so the wrist circles between the beats and slows on
    them only. Returns the upper-arm lifts [2] (rad; right, left arm), which the row leaves out."""
    lifts = np.zeros(2)
    for arm_i, (a, b) in enumerate(_ARM_COLS):
        if np.isfinite(row[[a, b]]).any():
            continue
        if np.isfinite(and_[[a, b]]).all():
            lo, hi, f = (key, and_, 2 * u) if u <= 0.5 else (and_, nxt, 2 * u - 1)
        else:
            lo, hi, f = key, nxt, u
        up, fold = lo[[a, b]] + f * (hi[[a, b]] - lo[[a, b]])
        bump = np.sin(np.pi * phase) ** 2 / _LOOP
        lifts[arm_i] = flow[0] * bump * (1.5 - phase)
        fold += flow[1] * bump * (0.5 + phase)
        row[a], row[b] = up, max(fold, -2.3)
    return lifts


def hermite(t: np.ndarray, kt: np.ndarray, kv: np.ndarray, hit: np.ndarray, n_tail: int = 0) -> np.ndarray:
    """Values at ``t`` [T] of the cubic through keys (kt [K], kv [K]): zero slope at hits, at both ends and at
    local extremes, a Fritsch-Carlson limited slope elsewhere (no overshoot); constant outside the keys. The last
    ``n_tail`` keys belong to the next phrase: the slope at the key before them is one-sided (half the secant from
    its own previous key), so nothing before the last own key depends on the next phrase."""
    if kt.size == 1:
        return np.full(t.shape, kv[0])
    h = np.diff(kt)
    d = np.diff(kv) / np.maximum(h, 1e-9)  # [K-1]
    m = np.zeros(kt.size)
    a, b = d[:-1], d[1:]
    w = (h[1:] * a + h[:-1] * b) / (h[:-1] + h[1:])
    ok = (a * b > 0) & ~hit[1:-1]
    lim = 3.0 * np.minimum(np.abs(a), np.abs(b))
    m[1:-1] = np.where(ok, np.sign(w) * np.minimum(np.abs(w), lim), 0.0)
    last = kt.size - 1 - n_tail  # the last own key
    if n_tail > 0 and 0 < last:
        m[last] = 0.0 if hit[last] else 0.5 * d[last - 1]
    i = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, kt.size - 2)
    u = np.clip((t - kt[i]) / np.maximum(h[i], 1e-9), 0.0, 1.0)
    u2, u3 = u * u, u * u * u
    return ((2 * u3 - 3 * u2 + 1) * kv[i] + (u3 - 2 * u2 + u) * h[i] * m[i] + (-2 * u3 + 3 * u2) * kv[i + 1]
            + (u3 - u2) * h[i] * m[i + 1])


def yaw_at(t: np.ndarray, turns: list[TurnOp]) -> np.ndarray:
    """Body yaw [T] (rad) from turns: a full turn is quickest in the middle (u - sin(2 pi u) / 2 pi), a quarter
    turn eases out, holds and eases back."""
    yaw = np.zeros(t.shape)
    for r in turns:
        if r.kind == "full":
            u = np.clip((t - r.start) / max(r.end - r.start, 1e-9), 0.0, 1.0)
            inside = (t > r.start) & (t < r.end)
            yaw += np.where(inside, r.angle * (u - np.sin(2 * np.pi * u) / (2 * np.pi)), 0.0)
        else:
            up = np.clip((t - r.start) / max(r.peak - r.start, 1e-9), 0.0, 1.0)
            down = np.clip((t - r.back) / max(r.end - r.back, 1e-9), 0.0, 1.0)
            yaw += r.angle * (0.5 - 0.5 * np.cos(np.pi * up)) * (0.5 + 0.5 * np.cos(np.pi * down))
    return yaw


def travel_limits(rig: Rig, body: BodyLayout, cfg: MotionConfig) -> tuple[float, float]:
    """How far (head heights) the whole frame-0 body may travel sideways, always allowing 0."""
    h = rig.head
    k = body.work_keypoints()
    inside = (k[:, 0] >= 0) & (k[:, 0] < body.canvas_w)
    xs = k[inside, 0] if inside.any() else k[:, 0]
    m = margin(body.canvas_w, body.canvas_h) + cfg.step_margin_heads * h
    return min(0.0, (m - xs.min()) / h), max(0.0, (body.canvas_w - 1 - m - xs.max()) / h)


def plan_steps(ops: list[FootOp], floor: tuple[float, float], limits: tuple[float, float], rig: Rig,
               settle: tuple[float, float] | None = None, settle_t: tuple[float, float] | None = None
               ) -> tuple[list[Step], tuple[float, float]]:
    """Foot operations (seconds) from ``floor`` -> concrete steps and where the feet end (head heights), keeping the
    feet apart and the body's mean foot offset within ``limits``; with ``settle`` the feet then step there within
    ``settle_t`` (the phrase's last count), each one that is free."""
    h = rig.head
    lo, hi = limits
    base = rig.ankle0[:, 0] / h  # frame-0 ankle x (head heights)
    width0 = abs(base[1] - base[0])
    min_w, max_w = max(0.35, 0.7 * width0), width0 + 1.6
    x = np.array(floor, dtype=np.float64)
    steps, busy = [], [-np.inf, -np.inf]
    for f in sorted(ops, key=lambda o: (o.start, o.foot)):
        op, foot, size, t0, tm, t1 = f.op, f.foot, f.size, f.start, f.peak, f.end
        if t0 < busy[foot] - 1e-9:
            continue  # never two steps of one foot at once
        busy[foot] = t1
        o, other = rig.out[foot], 1 - foot
        if op == "lift":
            steps.append(Step(foot, t0, tm, t1, x[foot], x[foot], float(size)))
            continue
        if op == "out":
            target = x[foot] + o * size
        elif op == "side":
            target = x[foot] + size
        else:  # close towards the other foot at the frame-0 width
            target = (base[other] + x[other]) + o * width0 - base[foot]
        sep = (base[foot] + target - base[other] - x[other]) * o
        target = base[other] + x[other] + o * float(np.clip(sep, min_w, max_w)) - base[foot]
        centre = 0.5 * (target + x[other])
        target += 2 * (float(np.clip(centre, lo, hi)) - centre)
        sep = (base[foot] + target - base[other] - x[other]) * o
        if sep < min_w - 1e-6 or sep > max_w + 1e-6 or abs(target - x[foot]) < 0.05:
            steps.append(Step(foot, t0, tm, t1, x[foot], x[foot], 0.25 * abs(size) + 0.1))  # a tap in place
            continue
        steps.append(Step(foot, t0, tm, t1, x[foot], float(target), 0.35))
        x[foot] = target
    if settle is not None and settle_t is not None:
        mid = 0.5 * (settle_t[0] + settle_t[1])
        for foot, (a, b) in ((0, (settle_t[0], mid)), (1, (mid, settle_t[1]))):
            if abs(settle[foot] - x[foot]) > 1e-12:
                a = max(a, busy[foot])
                if a < b - 1e-3:
                    steps.append(Step(foot, a, 0.5 * (a + b), b, x[foot], float(settle[foot]), 0.3))
                    x[foot] = settle[foot]
    steps.sort(key=lambda s: (s.foot, s.t0))
    return steps, (float(x[0]), float(x[1]))


_CLOSE_UP_KEPT = [J[n] for n in ("Nose", "Neck", "RShoulder", "LShoulder", "REye", "LEye", "REar", "LEar")]


def frame_box(body: BodyLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Work-space box every relevant joint must stay in, and which joints are relevant (inside the canvas at
    frame 0). The box is the canvas minus the margin, widened to include the frame-0 joints. A close-up (some
    joints outside the canvas at frame 0) keeps only the head, neck and shoulders in frame."""
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


def evaluate_phrase(keys: PhraseKeys, t: np.ndarray, rig: Rig, rest: np.ndarray, steps: list[Step],
                    floor: tuple[float, float], box: tuple, n_fixed_tail: int = 0) -> tuple[np.ndarray, np.ndarray,
                                                                                          np.ndarray]:
    """Poses [T, 18, 2] (work px) and shown joints [T, 18] of a phrase at times ``t``, with its keys shrunk where
    frames leave the box; the last ``n_fixed_tail`` keys (the next phrase's) are never shrunk. Also returns the
    final key values [K, N_PARAMS]."""
    lo, hi, relevant = box
    feet_x, lift = foot_paths(t, tuple(steps), rig.head, floor)
    yaw = yaw_at(t, keys.turns)
    K = keys.kt.size
    seg = np.clip(np.searchsorted(keys.kt, t, side="right") - 1, 0, K - 1)  # [T]
    own = np.arange(K) < K - n_fixed_tail
    # frames after the last own key run into the next phrase's keys: they never shrink this phrase's keys (a frame
    # there that leaves the box is moved in by the last resort), so nothing before them depends on the next phrase
    into_next = seg >= K - 1 - n_fixed_tail if n_fixed_tail else np.zeros(t.size, bool)  # [T]
    cfg_turn_max, cfg_turn_step = _ARM_TURN

    def run(kv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        prm = np.empty((t.size, N_PARAMS))
        for p in range(N_PARAMS):
            ok = np.isfinite(kv[:, p])
            n_tail = int((ok & ~own).sum())
            prm[:, p] = hermite(t, keys.kt[ok], kv[ok, p], keys.hit[ok], n_tail) if ok.any() else rest[p]
        prm[:, P_YAW] = yaw
        return forward(rig, prm, feet_x, lift)

    a = np.ones((K, 3))  # per key: right arm, left arm, the rest of the body
    rot = np.zeros((K, 2))  # per key: how far (rad) each upper arm is turned up (+) or down / across (-) to fit
    flip = np.ones((K, 2))  # per key: the loops' lift of each arm, times this (-1: the loop swings across)

    def values() -> np.ndarray:
        kv = rest + a[:, _PARAM_GROUP] * (keys.kv - rest)
        kv[:, _ARM_UP] = np.clip(kv[:, _ARM_UP] + rot + flip * a[:, :2] * keys.lift, -0.6, 2.9)
        return kv

    kv = values()
    for _ in range(40):
        out, shown = run(kv)
        bad = _outside(out, shown, lo, hi, relevant) & ~into_next[:, None]  # [T, 3]
        if not bad.any():
            break
        changed = False
        for g in range(3):
            if not bad[:, g].any():
                continue
            hitk = np.zeros(K, bool)
            for d in (-1, 0, 1, 2):
                hitk[np.clip(seg[bad[:, g]] + d, 0, K - 1)] = True
            hitk &= own
            changed |= bool(hitk.any())
            if g < 2:  # an arm: its loops swing across, it turns away from the side, and only then it shrinks
                up = keys.kv[hitk, _ARM_UP[g]]
                way = 1.0 if np.isfinite(up).any() and np.nanmean(up) > 0.5 * np.pi else -1.0
                if way < 0:
                    swing = hitk & (flip[:, g] > -1.0 + 1e-9)
                    flip[:, g] = np.where(swing, flip[:, g] - 0.5, flip[:, g])
                    hitk &= ~swing
                turn = hitk & (np.abs(rot[:, g] + way * cfg_turn_step) <= cfg_turn_max + 1e-9)
                rot[:, g] = np.where(turn, rot[:, g] + way * cfg_turn_step, rot[:, g])
                hitk &= ~turn
            a[:, g] = np.where(hitk, a[:, g] * 0.85, a[:, g])
        if not changed:
            break
        a = np.where(a < 0.03, 0.0, a)
        kv = values()
    else:
        out, shown = run(kv)
    out = _knees_inside(out, lo, hi, relevant)
    bad = _outside(out, shown, lo, hi, relevant).any(axis=1)
    if bad.any():  # last resort (the reference pose itself does not fit): move the whole body in
        out[bad] = _shift_inside(out[bad], shown[bad], lo, hi, relevant)
    return out, shown, kv


# shrink groups: the parameters and the joints of the right arm (0), the left arm (1) and the rest (2)
_PARAM_GROUP = np.full(N_PARAMS, 2)
_PARAM_GROUP[[P_AR, P_BR]] = 0
_PARAM_GROUP[[P_AL, P_BL]] = 1
_JOINT_GROUP = np.full(18, 2)
_JOINT_GROUP[[J["RElbow"], J["RWrist"]]] = 0
_JOINT_GROUP[[J["LElbow"], J["LWrist"]]] = 1
_KNEES = [J["RKnee"], J["LKnee"]]
_JOINT_GROUP[_KNEES] = 3  # never shrinks anything: a knee past a side points more forwards (_knees_inside)


def _outside(out: np.ndarray, shown: np.ndarray, lo: np.ndarray, hi: np.ndarray, relevant: np.ndarray
             ) -> np.ndarray:
    """Which frames have a relevant shown joint of each shrink group outside the box: [T, 3] bool."""
    q = np.where(shown[..., None], out, 0.5 * (lo + hi))
    off = ~((q >= lo - 1e-3) & (q <= hi + 1e-3)).all(axis=2) & relevant[None]  # [T, 18]
    return np.stack([off[:, _JOINT_GROUP == g].any(axis=1) for g in range(3)], axis=1)


def _knees_inside(out: np.ndarray, lo: np.ndarray, hi: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Poses [T, 18, 2] with each relevant knee moved sideways into the box (in place): a bent knee seen pointing
    more towards the camera (shorter thigh and shin on screen), so a deep squat near a side keeps its depth."""
    for k in _KNEES:
        if relevant[k]:
            out[:, k, 0] = np.clip(out[:, k, 0], lo[0], hi[0])
    return out


def _shift_inside(poses: np.ndarray, shown: np.ndarray, lo: np.ndarray, hi: np.ndarray, relevant: np.ndarray
                  ) -> np.ndarray:
    """Shrink (about the centre of the box) and shift whole poses [N, 18, 2] so the relevant shown joints fit."""
    q = np.where((shown & relevant[None])[..., None], poses, np.nan)[:, relevant]
    qmax, qmin = np.nanmax(q, axis=1), np.nanmin(q, axis=1)
    size = np.maximum(qmax - qmin, 1e-9)  # [N, 2]
    s = np.minimum(1.0, ((hi - lo) / size).min(axis=1))[:, None, None]  # [N, 1, 1]
    centre = (qmax + qmin)[:, None] / 2
    poses = centre + s * (poses - centre)
    q = centre + s * (q - centre)
    shift = np.maximum(lo - np.nanmin(q, axis=1), 0.0) + np.minimum(hi - np.nanmax(q, axis=1), 0.0)  # [N, 2]
    return poses + shift[:, None]
