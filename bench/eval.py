"""Benchmark of the video metrics on the CPU: what each costs per frame of a generated video.

Prints, from one run (after a warm-up: face sessions opened, torchmetrics imported):
  * CSIM: identity similarity of a 16-frame video whose frames show the astronaut (the offline models, every frame
    scored as the studio scores up to 32), the whole video and per frame, against the goal (< 2 s on 2 cores);
  * stability: the frame-to-frame similarity from the stored embeddings (score());
  * flicker: the still-pixel mask from two skeleton drawings and the masked frame difference, per frame;
  * PSNR + SSIM (torchmetrics) against a ground truth, per frame;
each as the median of --repeats runs, at --size px (the real preset's 512 by default).

    python bench/eval.py [--size 512] [--frames 16] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dancegen.face import FaceAnalyser  # noqa: E402
from dancegen.metrics.identity import IdentityMeter  # noqa: E402
from dancegen.metrics.quality import FlickerMeter, GroundTruthMeter, margin_px  # noqa: E402
from dancegen.pose.layout import body_from_face  # noqa: E402
from dancegen.pose.render import render_whole_body  # noqa: E402

CSIM_GOAL_S = 2.0  # a 16-frame video on 2 cores


def timed(fn, repeats: int) -> float:
    """Median wall time of fn() in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=512, help="frame side, px")
    p.add_argument("--frames", type=int, default=16, help="frames of the video")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    size, n = args.size, args.frames

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{n} frames of {size} x {size}, {cpus} CPUs (1-min load {load:.1f}), torch threads "
          f"{torch.get_num_threads()}, median of {args.repeats}")

    with Image.open(ROOT / "assets" / "astronaut.png") as im:
        photo = im.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    rng = np.random.default_rng(0)
    base = np.asarray(photo, dtype=np.int16)
    frames = np.clip(base + rng.integers(-6, 7, (n, size, size, 3)), 0, 255).astype(np.uint8)  # [n, S, S, 3]
    truth = np.repeat(np.asarray(photo)[None], n, axis=0)

    analyser = FaceAnalyser()
    reference = analyser.analyse(photo)
    body = body_from_face(reference.largest.bbox, photo.size, (size, size), fit="scale")
    wave = np.sin(np.arange(n) / 2.0)[:, None, None] * np.array([size * 0.05, 0.0])  # [n, 1, 2] sway
    skeletons = np.stack([render_whole_body(body.keypoints + wave[t], size, size) for t in range(n)])

    def csim() -> IdentityMeter:
        meter = IdentityMeter(analyser, reference, n, max_frames=32)
        meter.add(0, frames)
        return meter

    def flicker() -> None:
        meter = FlickerMeter(["video"], margin_px(size, size))
        meter.add({"video": frames}, skeletons)
        meter.score("video")

    def ground_truth() -> None:
        meter = GroundTruthMeter()
        for start in range(0, n, 8):  # the studio's decode chunk
            meter.add(frames[start:start + 8], truth[start:start + 8])
        meter.score()

    meter = csim()  # warm-up: sessions open, torchmetrics imported
    ground_truth()
    found = meter.score().face_found
    csim_s = timed(csim, args.repeats)
    stability_s = timed(lambda: meter.score(), args.repeats)
    flicker_s = timed(flicker, args.repeats)
    truth_s = timed(ground_truth, args.repeats)
    verdict = "meets" if csim_s < CSIM_GOAL_S else "misses"
    print(f"CSIM (offline w600k_mbf, every frame scored; face found in {found:.0%}): {csim_s:.2f} s for {n} frames, "
          f"{1000 * csim_s / n:.0f} ms/frame ({verdict} the goal of < {CSIM_GOAL_S:g} s for 16 frames)")
    print(f"stability (score() from stored embeddings): {1000 * stability_s:.2f} ms for {n} frames")
    print(f"flicker (mask + masked difference): {1000 * flicker_s / n:.1f} ms/frame")
    print(f"PSNR + SSIM (torchmetrics): {1000 * truth_s / n:.1f} ms/frame")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
