"""The reference body as a kinematic rig: pose parameters in, poses out (forward kinematics, leg IK), and steps.

Poses are built with the bone lengths of the reference body (rigid torso and head, two-bone arms, two-bone inverse
kinematics for the legs towards planted ankles), so bone lengths never change while the dancer faces the camera; a
:class:`Step` moves one foot along a lifted arc while the other stays planted. Everything here is in "work" px (see
:mod:`dancegen.pose.layout`).

Turning: ``P_YAW`` turns the body about the vertical axis (rad, 0 = facing the camera). The x of every shoulder,
hip and arm offset is scaled by cos(yaw) (past 90 degrees the sides swap by themselves), the head points get a
depth (nose in front, ears behind) and are projected, and :func:`forward` also says which head joints a detector
would not see (behind the head: the far eye and ear in profile, the face seen from behind). The feet stay where
they are (a pivot on the balls of the feet); the knees follow by IK. Projected bone lengths shrink during a turn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..pose.layout import BodyLayout
from ..pose.topology import HEAD_JOINTS, J

# pose parameters, one column each in the key tables
P_DX, P_DY, P_LEAN, P_HEAD, P_SHR, P_SHL, P_AR, P_BR, P_AL, P_BL, P_YAW = range(11)
N_PARAMS = 11
# DX, DY: pelvis offset in head heights (DY > 0 = down); LEAN: torso rotation about the pelvis (rad, + = image
# clockwise); HEAD: head rotation on top of the lean (rad); SHR / SHL: shoulder raise (rad); AR / AL: upper-arm angle
# from hanging down, positive away from the body (rad, pi = straight up); BR / BL: forearm angle relative to the upper
# arm, same sign convention (negative folds the forearm across the body); YAW: body turn (rad, + = the dancer turns
# to the image-right), see the module notes.

# depth of the head points (nose, REye, LEye, REar, LEar) in front of the neck's vertical axis, in head heights
HEAD_DEPTH = (0.35, 0.2, 0.2, -0.1, -0.1)
# a head point is hidden when its depth after the turn falls below this (head heights): eyes and nose behind the
# head's centre plane, ears a little further back (they show from the front)
HIDE_DEPTH = (0.0, 0.0, 0.0, -0.15, -0.15)


def _rot(v: np.ndarray, ang: np.ndarray) -> np.ndarray:
    """Rotate vectors v [..., 2] by angles ang [...] (image coordinates: + is clockwise on screen)."""
    c, s = np.cos(ang), np.sin(ang)
    return np.stack([c * v[..., 0] - s * v[..., 1], s * v[..., 0] + c * v[..., 1]], axis=-1)


def _outward_angle(vec: np.ndarray, out: float) -> float:
    """Angle of ``vec`` from straight down, positive towards ``out`` (-1 image-left, +1 image-right), in
    (-pi/2, 3pi/2] so arm paths go round the outside of the body."""
    a = math.atan2(out * vec[0], vec[1])
    return a + 2 * math.pi if a < -math.pi / 2 else a


@dataclass(frozen=True, eq=False)
class Rig:
    """The reference body as a kinematic model (work px)."""

    pelvis0: np.ndarray  # [2] mid-hips at frame 0
    neck_off: np.ndarray  # [2] neck - pelvis at frame 0
    sh_off: np.ndarray  # [2, 2] (R, L) shoulder - neck
    hip_off: np.ndarray  # [2, 2] (R, L) hip - pelvis
    head_off: np.ndarray  # [5, 2] nose, REye, LEye, REar, LEar - neck
    upper: np.ndarray  # [2] upper-arm lengths (R, L)
    fore: np.ndarray  # [2] forearm lengths
    thigh: np.ndarray  # [2] hip-knee lengths
    shin: np.ndarray  # [2] knee-ankle lengths
    reach: np.ndarray  # [2] longest allowed hip-ankle distance
    arm0: np.ndarray  # [2, 2] (R, L) x (upper angle, forearm relative angle) at frame 0
    ankle0: np.ndarray  # [2, 2] frame-0 ankles
    knee_dir: np.ndarray  # [2] +1: knee bends towards the image-left of the hip->ankle direction, -1: right
    out: np.ndarray  # [2] image-x sign of "outward" for (R, L) sides: (-1, +1) when facing the camera
    head: float  # head height (work px)




def make_rig(body: BodyLayout) -> Rig:
    k = body.work_keypoints()
    rh, lh = k[J["RHip"]], k[J["LHip"]]
    pelvis = (rh + lh) / 2
    neck = k[J["Neck"]]
    out_r = -1.0 if k[J["RShoulder"], 0] <= k[J["LShoulder"], 0] else 1.0
    out = np.array([out_r, -out_r])
    arm0, upper, fore, thigh, shin, reach, knee_dir = [], [], [], [], [], [], []
    for i, (s, e, w, h, kn, a) in enumerate(((2, 3, 4, 8, 9, 10), (5, 6, 7, 11, 12, 13))):
        u, f = k[e] - k[s], k[w] - k[e]
        upper.append(np.hypot(*u))
        fore.append(np.hypot(*f))
        au = _outward_angle(u, out[i])
        af = _outward_angle(f, out[i])
        rel = (af - au + math.pi) % (2 * math.pi) - math.pi
        arm0.append((au, rel))
        t_len, s_len = np.hypot(*(k[kn] - k[h])), np.hypot(*(k[a] - k[kn]))
        thigh.append(t_len)
        shin.append(s_len)
        d0 = np.hypot(*(k[a] - k[h]))
        reach.append(max(0.985 * (t_len + s_len), d0))
        ha, hk = k[a] - k[h], k[kn] - k[h]
        cross = ha[0] * hk[1] - ha[1] * hk[0]  # > 0: knee is clockwise (on screen) of hip->ankle
        if abs(cross) < 0.05 * (t_len * np.hypot(*ha) + 1e-9):  # within ~3 degrees of straight
            knee_dir.append(-out[i])  # straight leg: let it bend outwards
        else:
            knee_dir.append(1.0 if cross > 0 else -1.0)
    return Rig(pelvis0=pelvis, neck_off=neck - pelvis,
                sh_off=np.stack([k[J["RShoulder"]] - neck, k[J["LShoulder"]] - neck]),
                hip_off=np.stack([rh - pelvis, lh - pelvis]),
                head_off=np.stack([k[j] - neck for j in HEAD_JOINTS]),
                upper=np.array(upper), fore=np.array(fore), thigh=np.array(thigh), shin=np.array(shin),
                reach=np.array(reach), arm0=np.array(arm0),
                ankle0=np.stack([k[J["RAnkle"]], k[J["LAnkle"]]]), knee_dir=np.array(knee_dir), out=out,
                head=float(body.head_height))


def neutral(rig: Rig) -> np.ndarray:
    """Parameter vector [N_PARAMS] of the frame-0 pose."""
    v = np.zeros(N_PARAMS)
    v[[P_AR, P_BR]] = rig.arm0[0]
    v[[P_AL, P_BL]] = rig.arm0[1]
    return v


def forward(rig: Rig, prm: np.ndarray, feet_x: np.ndarray, lift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poses [T, 18, 2] (work px) from parameters prm [T, N_PARAMS], foot x offsets feet_x [T, 2] (work px from the
    frame-0 ankles) and foot lifts lift [T, 2] (work px, up), and which joints show: [T, 18] bool (False: a head
    point turned away from the camera)."""
    T = prm.shape[0]
    h = rig.head
    out = np.empty((T, 18, 2))
    ankles = rig.ankle0[None] + np.stack([feet_x, -lift], axis=-1)  # [T, 2, 2]
    lean = prm[:, P_LEAN]
    yaw = prm[:, P_YAW]
    cy, sy = np.cos(yaw), np.sin(yaw)  # [T]
    narrow = np.stack([cy, np.ones(T)], axis=-1)  # [T, 2] x scale of body-plane offsets
    pelvis = rig.pelvis0 + np.stack([feet_x.mean(axis=1) + prm[:, P_DX] * h, prm[:, P_DY] * h], axis=-1)  # [T, 2]
    hips_rel = _rot(rig.hip_off[None] * narrow[:, None], lean[:, None])  # [T, 2, 2]
    # keep both hips within reach of their ankles: first horizontally, then by lowering the pelvis
    for i in range(2):
        hip_x = pelvis[:, 0] + hips_rel[:, i, 0]
        dx = hip_x - ankles[:, i, 0]
        lim = 0.8 * rig.reach[i]
        pelvis[:, 0] -= dx - np.clip(dx, -lim, lim)
    for i in range(2):
        hip = pelvis + hips_rel[:, i]
        dx = hip[:, 0] - ankles[:, i, 0]
        need_y = ankles[:, i, 1] - np.sqrt(np.maximum(rig.reach[i] ** 2 - dx ** 2, 0.0))
        pelvis[:, 1] = np.maximum(pelvis[:, 1], pelvis[:, 1] + (need_y - hip[:, 1]))
    neck = pelvis + _rot(rig.neck_off[None], lean)  # [T, 2]
    out[:, J["Neck"]] = neck
    for i, (sh, el, wr) in enumerate(((2, 3, 4), (5, 6, 7))):
        o = rig.out[i]
        raise_ = prm[:, P_SHR + i]
        shoulder = neck + _rot(_rot(rig.sh_off[i][None], -o * raise_) * narrow, lean)
        a_up = prm[:, P_AR + 2 * i]
        a_fo = a_up + prm[:, P_BR + 2 * i]
        d_up = _rot(np.stack([o * np.sin(a_up) * cy, np.cos(a_up)], axis=-1), lean)
        d_fo = _rot(np.stack([o * np.sin(a_fo) * cy, np.cos(a_fo)], axis=-1), lean)
        out[:, sh] = shoulder
        out[:, el] = shoulder + rig.upper[i] * d_up
        out[:, wr] = out[:, el] + rig.fore[i] * d_fo
    depth = np.array(HEAD_DEPTH) * h  # [5]
    hx = rig.head_off[None, :, 0] * cy[:, None] + depth[None] * sy[:, None]  # [T, 5] projected x
    hz = -rig.head_off[None, :, 0] * sy[:, None] + depth[None] * cy[:, None]  # [T, 5] depth after the turn
    head_pts = np.stack([hx, np.broadcast_to(rig.head_off[None, :, 1], hx.shape)], axis=-1)
    out[:, HEAD_JOINTS] = neck[:, None] + _rot(head_pts, (lean + prm[:, P_HEAD])[:, None])
    shown = np.ones((T, 18), dtype=bool)
    shown[:, HEAD_JOINTS] = hz >= np.array(HIDE_DEPTH)[None] * h - 1e-9
    for i, (hp, kn, an) in enumerate(((8, 9, 10), (11, 12, 13))):
        hip = pelvis + hips_rel[:, i]
        a, b = rig.thigh[i], rig.shin[i]
        v = ankles[:, i] - hip
        d = np.linalg.norm(v, axis=-1)
        d_ok = np.clip(d, abs(a - b) + 1e-6, a + b - 1e-9)
        u = v / np.maximum(d, 1e-9)[:, None]
        cos_g = np.clip((a * a + d_ok ** 2 - b * b) / (2 * a * d_ok), -1.0, 1.0)
        knee = hip + a * _rot(u, rig.knee_dir[i] * np.arccos(cos_g))
        out[:, hp] = hip
        out[:, kn] = knee
        # the ankle sits at its target whenever the target is reachable (always, by the pelvis constraint)
        out[:, an] = knee + b * (ankles[:, i] - knee) / np.maximum(
            np.linalg.norm(ankles[:, i] - knee, axis=-1), 1e-9)[:, None]
    return out, shown



@dataclass(frozen=True)
class Step:
    """One foot movement of a plan (times in seconds, offsets and lift in head heights, image x)."""

    foot: int  # 0 = the right foot, 1 = the left
    t0: float  # lift-off
    t_peak: float  # highest point of the arc
    t1: float  # landing
    x_from: float  # offset from the frame-0 ankle before the step
    x_to: float  # offset after it (= x_from for a tap or a knee lift)
    lift: float  # height of the arc


def foot_paths(t: np.ndarray, steps: tuple[Step, ...], head: float, start: tuple[float, float] = (0.0, 0.0)
               ) -> tuple[np.ndarray, np.ndarray]:
    """Foot x offsets and lifts [T, 2] (work px) at times ``t`` [T], the feet at ``start`` (head heights) before
    their first step; a foot moves sideways only in the middle 70% of its step, while it is off the ground, and
    rises and falls with cosine easing. Steps of one foot must not overlap in time."""
    x = np.broadcast_to(np.asarray(start, dtype=np.float64), (t.size, 2)).copy()
    lift = np.zeros((t.size, 2))
    for foot in (0, 1):
        for s in (s for s in steps if s.foot == foot):
            t0, tm, t1, x0, x1 = s.t0, s.t_peak, s.t1, s.x_from, s.x_to
            x[t >= t0, foot] = x0
            sel = (t >= t0) & (t < t1)
            if not sel.any():
                continue
            tt = t[sel]
            u = np.clip(((tt - t0) / max(t1 - t0, 1e-9) - 0.15) / 0.7, 0.0, 1.0)
            x[sel, foot] = x0 + (x1 - x0) * (0.5 - 0.5 * np.cos(np.pi * u))
            rise = np.where(tt < tm, (tt - t0) / max(tm - t0, 1e-9), (t1 - tt) / max(t1 - tm, 1e-9))
            lift[sel, foot] = s.lift * (0.5 - 0.5 * np.cos(np.pi * np.clip(rise, 0.0, 1.0)))
            x[t >= t1, foot] = x1
    return x * head, lift * head
