"""Benchmark of the choreography stage: the dance measures of six varied songs against the goals, and speed, on CPU.

Prints, from one run:
  * per synthetic song (70-170 BPM, 3/4 and 4/4, the drum / chord / click styles of tests/support/audio_synth.py,
    two built as A B A B by concatenating pieces, one quiet then loud), analysed with
    ``dancegen.music.analyse_samples``, 30 s danced at whole-body framing on a 320 x 576 canvas at 24 fps in the
    style the music picks (and, on the first song, in each style forced): the measures of
    ``dancegen.metrics.dance.dance_metrics`` against the true beats and, for the A B A B songs, the true sections;
  * a goals table: each goal of the choreographer, the figure measured (min / median over the six songs as fits)
    and whether it is met;
  * speed on a synthesised 3-minute song written to a WAV file: music.warm_up(), then music.analyse(wav),
    choreography of every frame, and rendering of the first N frames, seconds per stage (goal: analysis +
    choreography under 5 s on 2 CPU cores after warm-up).

Framing ("inside") counts only the joints the pose shows: a head point hidden by a turn (NaN) is not drawn, so it
is neither inside nor outside (``dance_metrics``' ``fraction_inside`` counts it as outside).

    python bench/choreo.py [--seed 0] [--render-frames 64] [--no-speed]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.audio_synth import synth_track, write_wav  # noqa: E402

from dancegen import music  # noqa: E402
from dancegen.choreo import STYLES, ProceduralChoreographer  # noqa: E402
from dancegen.metrics.dance import BEAT_ALIGNMENT_NOTE, dance_metrics  # noqa: E402
from dancegen.pose.layout import body_from_face  # noqa: E402
from dancegen.pose.render import render_pose  # noqa: E402

SR = 22050
FPS = 24.0
SECONDS = 30.0
W, H = 320, 576
# (label, bpm, meter, pieces: [(audio style, seconds, gain, section label)], quiet_until_s or None); the A B A B
# pieces are 4 (4/4) or 6 (3/4) bars long, long enough for music.sections to find them
SONGS = [
    ("120 4/4 ABAB drums|chords", 120.0, 4, [("drums", 8.0, 1.0, "A"), ("chords", 8.0, 0.7, "B")] * 2, None),
    ("144 3/4 ABAB chords|drums", 144.0, 3, [("chords", 7.5, 0.7, "A"), ("drums", 7.5, 1.0, "B")] * 2, None),
    ("70 4/4 chords", 70.0, 4, [("chords", SECONDS, 1.0, "A")], None),
    ("100 4/4 drums", 100.0, 4, [("drums", SECONDS, 1.0, "A")], None),
    ("152 4/4 drums (half time)", 152.0, 4, [("drums", SECONDS, 1.0, "A")], None),
    ("170 4/4 clicks quiet->loud", 170.0, 4, [("clicks", SECONDS, 1.0, "A")], 12.0),
]
FORCED_ON = 0  # the song danced in every style


def build_song(bpm: float, meter: int, pieces, seed: int) -> tuple[np.ndarray, np.ndarray, list]:
    """(samples [n], true beats [B] s, true sections [(label, start_s, end_s)]) of the pieces played one after the
    other; each piece is a whole number of bars, so the beat grid runs on across the joins."""
    parts, beats, sections, t = [], [], [], 0.0
    for k, (style, seconds, gain, label) in enumerate(pieces):
        y, b, _ = synth_track(bpm, seconds, sr=SR, meter=meter, style=style, seed=seed + k % 2)
        parts.append(gain * y)
        beats.append(t + b)
        sections.append((label, t, t + seconds))
        t += seconds
    return np.concatenate(parts).astype(np.float32), np.concatenate(beats), sections


def shown_inside(poses: np.ndarray) -> float:
    """Share of the shown (finite) joint positions inside the canvas."""
    q = poses[np.isfinite(poses[..., 0])]
    return float(((q[:, 0] >= 0) & (q[:, 0] < W) & (q[:, 1] >= 0) & (q[:, 1] < H)).mean())


def measure(dancer, m, beats, sections, body, seed: int, style: str | None) -> dict:
    n = int(round(SECONDS * FPS))
    plan = dancer.plan(m, seed, body, (n - 1) / FPS, style)
    poses = dancer.poses(plan, m, body, FPS, n)
    names = [mv.move for p in plan.phrases if p.kind == "dance" for mv in p.moves]
    d = dance_metrics(poses, FPS, beats, W, H, sections if len({s[0] for s in sections}) > 1 else (), names)
    d["moves"] = len(set(names))
    d["move_set"] = set(names)
    d["inside"] = shown_inside(poses)
    d["style"] = plan.style
    d["sections_found"] = "".join(s.label for s in m.sections) or "-"
    return d


COLS = [("style", "style", "{:>6}"), ("sec", "sections_found", "{:>5}"), ("travel", "travel_bh", "{:6.2f}"),
        ("level", "level_range_bh", "{:5.2f}"), ("turns", "turns", "{:5.0f}"),
        ("minSh", "min_shoulder_ratio", "{:5.2f}"), ("handsUp", "hands_up_share", "{:7.2f}"),
        ("wrist", "wrist_speed_median_bh_s", "{:5.2f}"), ("BA", "beat_alignment", "{:5.3f}"),
        ("BAmot", "beat_alignment_motion", "{:5.3f}"), ("prec", "beat_precision", "{:5.2f}"),
        ("kin/b", "kinematic_beats_per_music_beat", "{:5.2f}"), ("moves", "moves", "{:5d}"),
        ("repeat", "repeat_ratio", "{:6.2f}"), ("inside", "inside", "{:6.3f}"), ("slide", "foot_sliding_px", "{:5.2f}"),
        ("back_s", "back_view_s", "{:6.2f}")]


def row(label: str, d: dict) -> str:
    cells = []
    for head, key, fmt in COLS:
        v = d.get(key)
        width = len(fmt.format(0) if "d" in fmt or "f" in fmt else fmt.format(""))
        cells.append("-".rjust(width) if v is None else fmt.format(v))
    return f"{label:<34} " + " ".join(cells)


def header() -> str:
    cells = []
    for head, _, fmt in COLS:
        width = len(fmt.format(0) if "d" in fmt or "f" in fmt else fmt.format(""))
        cells.append(head.rjust(width))
    return f"{'song':<34} " + " ".join(cells)


def goals(results: list[dict]) -> list[tuple[str, str, bool]]:
    """(goal, figure, met) rows over the songs danced in their own style."""
    def col(key):
        return np.array([np.nan if r[key] is None else r[key] for r in results], dtype=np.float64)

    def mm(key, fmt="{:.2f}"):
        v = col(key)
        return f"min {fmt.format(np.nanmin(v))}, median {fmt.format(np.nanmedian(v))}", v

    out = []
    turned = col("min_shoulder_ratio") <= 0.5
    out.append(("turn (shoulders <= 0.5 width) in most songs", f"{int(turned.sum())}/{len(results)} songs, "
                f"narrowest {np.nanmin(col('min_shoulder_ratio')):.2f}", turned.sum() > len(results) / 2))
    for goal, key, lim in (("level range >= 0.2 bh", "level_range_bh", 0.2), ("travel >= 0.5 bh", "travel_bh", 0.5),
                           ("hand above shoulders >= 15 % of frames", "hands_up_share", 0.15),
                           ("median wrist speed >= 0.8 bh/s", "wrist_speed_median_bh_s", 0.8),
                           ("beat alignment >= 0.24", "beat_alignment", 0.24)):
        text, v = mm(key)
        out.append((goal, text, bool(np.nanmin(v) >= lim)))
    text, v = mm("moves", "{:.0f}")
    out.append((">= 5 distinct moves per 30 s", text, bool(v.min() >= 5)))
    union = set().union(*(r["move_set"] for r in results))
    out.append((">= 25 distinct moves across six songs", f"{len(union)}", len(union) >= 25))
    rr = col("repeat_ratio")
    rr = rr[np.isfinite(rr)]
    out.append(("repeats danced alike: repeat_ratio <= 0.5", ", ".join(f"{x:.2f}" for x in rr) + " (A B A B songs)" if rr.size
                else "no A B A B song", bool(rr.size and rr.max() <= 0.5)))
    v = col("inside")
    out.append(("every shown joint inside the canvas", f"min {v.min():.4f}", bool(v.min() >= 1.0)))
    v = col("foot_sliding_px")
    out.append(("planted feet slide < 1 px/frame", f"max {np.nanmax(v):.2f} px/frame", bool(np.nanmax(v) < 1.0)))
    v = col("back_view_s")
    out.append(("no back view longer than a beat", f"max {np.nanmax(v):.2f} s", True))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--render-frames", type=int, default=64, help="frames rendered in the speed test")
    p.add_argument("--no-speed", action="store_true", help="skip the 3-minute speed test")
    args = p.parse_args(argv)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"CPU cores available: {cpus}; {SECONDS:g} s per song at {FPS:g} fps; canvas {W} x {H}, whole body")
    t0 = time.perf_counter()
    music.warm_up()
    print(f"music.warm_up: {time.perf_counter() - t0:.2f} s")

    body = body_from_face((140, 90, 168, 124), (W, H), (W, H))  # whole body with room around it
    dancer = ProceduralChoreographer()
    print(header())
    results = []
    back_limit = []
    for k, (label, bpm, meter, pieces, quiet_until) in enumerate(SONGS):
        y, beats, sections = build_song(bpm, meter, pieces, args.seed)
        if quiet_until is not None:
            y = y * np.where(np.arange(y.size) / SR < quiet_until, 0.15, 1.0).astype(np.float32)
        m = music.analyse_samples(y, SR)
        d = measure(dancer, m, beats, sections, body, args.seed, None)
        results.append(d)
        back_limit.append(60.0 / bpm)
        print(row(label, d))
        if k == FORCED_ON:
            for style in STYLES:
                print(row(f"  forced {style}", measure(dancer, m, beats, sections, body, args.seed, style)))
    print(f"({BEAT_ALIGNMENT_NOTE})")
    print("\ngoals (six songs in their own style):")
    table = goals(results)
    over = [r["back_view_s"] is not None and r["back_view_s"] > b + 1e-9 for r, b in zip(results, back_limit)]
    table[-1] = (table[-1][0], table[-1][1], not any(over))
    for goal, figure, met in table:
        print(f"  {goal:<44} {figure:<40} {'met' if met else 'NOT MET'}")

    if args.no_speed:
        return 0
    samples, _, _ = synth_track(124.0, 180.0, sr=SR, style="drums", seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "three_minutes.wav"
        write_wav(wav, samples, SR)
        t0 = time.perf_counter()
        m = music.analyse(str(wav))
        t_analyse = time.perf_counter() - t0
    t0 = time.perf_counter()
    poses = dancer(m, FPS, args.seed, body)
    t_choreo = time.perf_counter() - t0
    t0 = time.perf_counter()
    frames = np.stack([render_pose(q, W, H) for q in poses[: args.render_frames]])
    t_render = time.perf_counter() - t0
    print(f"\n3-minute song ({m.duration_s:.0f} s, {poses.shape[0]} frames):")
    print(f"  analyse  {t_analyse:6.2f} s")
    print(f"  choreo   {t_choreo:6.2f} s")
    print(f"  analysis + choreography {t_analyse + t_choreo:6.2f} s (goal < 5 s)")
    print(f"  render   {t_render:6.2f} s for {frames.shape[0]} frames at {W} x {H} "
          f"({1000 * t_render / max(frames.shape[0], 1):.1f} ms / frame)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
