"""Benchmark of the choreography stage: music analysis -> dance poses -> skeleton frames, on CPU.

Prints, from one run:
  * per synthetic song (several tempos and meters, a tempo change, a half-time tempo, a quiet-then-loud song):
    beat alignment against the true beats (Bailando-style, sigma 0.05 s; real AIST++ dance scores about 0.24),
    the same score without speed smoothing, the score against beats shifted by half a beat (should be low),
    foot sliding while planted (px / frame), bone-length variation, fraction of joints inside the frame, number of
    distinct moves, and the time to choreograph;
  * speed on a synthesised 3-minute song written to a WAV file: music.warm_up(), then music.analyse(wav),
    choreography of every frame, and rendering of the first N frames at 512 x 512, seconds per stage.

Goal: analysis + choreography of a 3-minute song under 5 s on 2 CPU cores after warm-up.

    python bench/choreo.py [--fps 25] [--render-frames 64] [--seed 0]
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
from dancegen.choreo import ProceduralChoreographer  # noqa: E402
from dancegen.metrics.motion import (beat_alignment_score, bone_length_variation, foot_sliding_px,  # noqa: E402
                                     fraction_inside)
from dancegen.pose.layout import body_from_face  # noqa: E402
from dancegen.pose.render import render_pose  # noqa: E402

SR = 22050
SONGS = [  # (label, tempo or tempo map, meter, style, seconds, loudness envelope or None)
    ("120 bpm 4/4 drums", 120.0, 4, "drums", 30.0, None),
    ("96 bpm 3/4 chords", 96.0, 3, "chords", 30.0, None),
    ("152 bpm 4/4 drums (half time)", 152.0, 4, "drums", 30.0, None),
    ("74 bpm 4/4 chords", 74.0, 4, "chords", 30.0, None),
    ("100->128 bpm clicks", [(0.0, 100.0), (15.0, 128.0)], 4, "clicks", 30.0, None),
    ("110 bpm quiet 15 s then loud", 110.0, 4, "drums", 30.0, 15.0),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fps", type=float, default=25.0)
    p.add_argument("--render-frames", type=int, default=64, help="frames rendered in the speed test")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"CPU cores available: {cpus}; fps {args.fps:g}; canvas 512 x 512")

    t0 = time.perf_counter()
    music.warm_up()
    print(f"music.warm_up: {time.perf_counter() - t0:.2f} s")

    body = body_from_face((230, 60, 282, 122), (1024, 1024), (512, 512))  # full body, head near the top
    dancer = ProceduralChoreographer()
    header = f"{'song':<32} {'BA':>5} {'BA raw':>6} {'BA off':>6} {'slide px':>8} {'bones':>7} {'inside':>6} " \
             f"{'moves':>5} {'choreo s':>8}"
    print(header)
    scores = []
    for label, bpm, meter, style, seconds, quiet_until in SONGS:
        samples, beats, _ = synth_track(bpm, seconds, sr=SR, meter=meter, style=style, seed=args.seed)
        if quiet_until is not None:
            samples = samples * np.where(np.arange(samples.size) / SR < quiet_until, 0.12, 1.0).astype(np.float32)
        m = music.analyse_samples(samples, SR)
        t0 = time.perf_counter()
        poses = dancer(m, args.fps, args.seed, body)
        dt = time.perf_counter() - t0
        plan = dancer.plan(m, args.seed, body, (poses.shape[0] - 1) / args.fps)
        ba = beat_alignment_score(poses, args.fps, beats)
        scores.append(ba)
        raw = beat_alignment_score(poses, args.fps, beats, smooth_s=0.0)
        off = beat_alignment_score(poses, args.fps, (beats[1:] + beats[:-1]) / 2)
        print(f"{label:<32} {ba:5.3f} {raw:6.3f} {off:6.3f} {foot_sliding_px(poses):8.3f} "
              f"{bone_length_variation(poses):7.1e} {fraction_inside(poses, 512, 512):6.3f} "
              f"{len({mv.move for p in plan.phrases for mv in p.moves}):5d} {dt:8.3f}")
    print(f"mean beat alignment: {np.mean(scores):.3f}")

    samples, _, _ = synth_track(124.0, 180.0, sr=SR, style="drums", seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "three_minutes.wav"
        write_wav(wav, samples, SR)
        t0 = time.perf_counter()
        m = music.analyse(str(wav))
        t_analyse = time.perf_counter() - t0
    t0 = time.perf_counter()
    poses = dancer(m, args.fps, args.seed, body)
    t_choreo = time.perf_counter() - t0
    t0 = time.perf_counter()
    frames = np.stack([render_pose(p, 512, 512) for p in poses[: args.render_frames]])
    t_render = time.perf_counter() - t0
    print(f"3-minute song ({m.duration_s:.0f} s, {poses.shape[0]} frames):")
    print(f"  analyse  {t_analyse:6.2f} s")
    print(f"  choreo   {t_choreo:6.2f} s")
    print(f"  analysis + choreography {t_analyse + t_choreo:6.2f} s (goal < 5 s)")
    print(f"  render   {t_render:6.2f} s for {frames.shape[0]} frames at 512 x 512 "
          f"({1000 * t_render / max(frames.shape[0], 1):.1f} ms / frame)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
