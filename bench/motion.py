"""Benchmark of the motion stage on the CPU: poses per second from a video, and the cleaning, fitting and warp of
3 minutes of motion at 30 fps.

Prints, from one run:
  * video -> poses: DWPose (:class:`dancegen.pose.detect.BodyDetector`) on every frame of a synthetic clip
    (``--frames`` frames at 512 x 512 by default), frames per second, with the real weights when ``--weights DIR``
    holds ``DWPose/`` (or ``DANCEGEN_WEIGHTS`` does), else the stand-in test models (constant outputs: they time
    the decoding, pre-processing and onnxruntime's overhead, not the networks), saying which;
  * 3 minutes of a synthetic dancer at 30 fps (5400 frames, with jitter, gaps and a second person) through
    tracking, cleaning (fill + Savitzky-Golay), fitting to a standard body and the warp onto a 120 BPM song's
    beats (motion_beats, plan_warp, apply_warp to 8 fps), seconds per stage.

    python bench/motion.py [--weights DIR] [--frames 30] [--size 512]
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

from support.motion import dancer, stand_in_standing_dwpose  # noqa: E402

from dancegen.dance import standard_body  # noqa: E402
from dancegen.io.video import write_mp4  # noqa: E402
from dancegen.motion.clean import clean_motion  # noqa: E402
from dancegen.motion.fit import fit_to_body  # noqa: E402
from dancegen.motion.sources import load_detector, read_motion  # noqa: E402
from dancegen.motion.track import track  # noqa: E402
from dancegen.motion.warp import apply_warp, motion_beats, plan_warp  # noqa: E402
from dancegen.pose.detect import dwpose_folder  # noqa: E402


def video_rate(weights: str | None, frames: int, size: int, work: Path) -> tuple[float, str]:
    """(frames per second of video -> poses, which models)."""
    found = dwpose_folder(weights) if weights else None
    which = f"DWPose weights in {found}" if found else "stand-in test models (no real weights found)"
    root = found.parent if found is not None and found.name == "DWPose" else found
    detector = load_detector(root if found else stand_in_standing_dwpose(work / "weights"))
    rng = np.random.default_rng(0)
    clip = rng.integers(0, 255, (frames, size, size, 3), dtype=np.uint8)
    path = write_mp4(iter(clip), 30, work / "clip.mp4")
    read_motion(path, detector=detector)  # once to warm up onnxruntime
    start = time.perf_counter()
    read_motion(path, detector=detector)
    return frames / (time.perf_counter() - start), which


def motion_stages(seconds: float = 180.0, fps: float = 30.0) -> dict[str, float]:
    """Seconds per stage for ``seconds`` of motion at ``fps``."""
    n = int(seconds * fps)
    rng = np.random.default_rng(1)
    a = dancer(n, head=20.0, x0=100.0, fps=fps) + rng.normal(0, 1.5, (n, 18, 2))
    b = dancer(n, head=16.0, x0=400.0, phase=1.0, fps=fps)
    a[rng.random((n, 18)) < 0.05] = np.nan  # lost joints
    frames = [(np.stack([a[t], b[t]]), np.full((2, 18), 0.9)) for t in range(n)]
    for t in range(1000, 1030):
        frames[t] = (np.zeros((0, 18, 2)), np.zeros((0, 18)))  # a second with nobody
    times = {}
    start = time.perf_counter()
    tracked = track(frames)
    times["tracking"] = time.perf_counter() - start
    start = time.perf_counter()
    clean, _ = clean_motion(tracked.poses, tracked.scores, tracked.found, fps)
    times["cleaning"] = time.perf_counter() - start
    body = standard_body((512, 512))
    start = time.perf_counter()
    fitted = fit_to_body(clean, body)
    times["fitting"] = time.perf_counter() - start
    start = time.perf_counter()
    beats = motion_beats(fitted, fps)
    song_beats = np.arange(0.25, seconds, 0.5)
    segments = plan_warp(beats, seconds, song_beats, seconds, song_beats[::4])
    apply_warp(fitted, fps, segments, 8.0, int(seconds * 8), 512)
    times["warp"] = time.perf_counter() - start
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=os.environ.get("DANCEGEN_WEIGHTS"), help="folder holding DWPose/")
    ap.add_argument("--frames", type=int, default=30, help="video frames to read")
    ap.add_argument("--size", type=int, default=512, help="video side, px")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rate, which = video_rate(args.weights, args.frames, args.size, Path(tmp))
    print(f"video -> poses: {rate:.1f} frames/s at {args.size} x {args.size} on the CPU ({which})")
    times = motion_stages()
    print("3 min of motion at 30 fps (5400 frames): " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
          + f"; total {sum(times.values()):.2f} s")


if __name__ == "__main__":
    main()
