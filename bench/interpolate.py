"""Benchmark of the frame interpolation (8 -> 24 fps): time per in-between frame, and how the in-between frames
compare with repeated frames and a cross-fade, on the CPU.

The scene: the astronaut photo with a whole-body skeleton dancing over it (arms and legs swinging, the body
swaying; the drawing the pose encoder sees), plus fresh noise of +-6 grey levels in every generated frame (as a
generated video changes a little everywhere). Generated frames are drawn at 8 fps; the truth is the same dance
drawn at 24 fps without noise. Prints, per size (width x height):
  * ms per in-between frame (the flows are computed once per pair of generated frames and shared by its two
    in-betweens), with OpenCV's thread count;
  * PSNR of the in-between frames against the truth: interpolated, the previous frame repeated, a cross-fade;
  * flicker (the metric of dancegen.metrics.quality: mean |frame t - frame t-1| over pixels the skeleton leaves
    still, grey levels) of the 24 fps videos made by interpolating and by repeating, and of the 8 fps video, and
    the largest frame-to-frame change over all pixels (a repeat holds, then jumps).

    python bench/interpolate.py [--frames 9] [--sizes 512x512 576x1024]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dancegen.io.interpolate import Interpolator, output_positions, sample_linear  # noqa: E402
from dancegen.metrics.quality import FlickerMeter, margin_px  # noqa: E402
from dancegen.pose.layout import body_from_face  # noqa: E402
from dancegen.pose.render import render_whole_body  # noqa: E402

FPS, OUT_FPS = 8, 24
SWING = {2: 1.0, 3: 1.6, 4: 2.2, 5: -1.0, 6: -1.6, 7: -2.2, 9: 0.6, 10: 1.0, 12: -0.6, 13: -1.0}  # joint: arc


def dance(body_keypoints: np.ndarray, n: int, size: tuple[int, int]) -> np.ndarray:
    """Poses [n, 18, 2] at 8 fps: the body sways, the arms and legs swing (px scaled to the canvas)."""
    t = np.arange(n)[:, None] / FPS
    scale = min(size) * 0.06
    poses = np.repeat(body_keypoints[None].astype(np.float64), n, axis=0)
    poses[:, :, 0] += scale * np.sin(2 * np.pi * 0.9 * t)  # sway
    for joint, arc in SWING.items():
        poses[:, joint, 1] += arc * scale * np.sin(2 * np.pi * 1.1 * t[:, 0])
        poses[:, joint, 0] += arc * 0.5 * scale * np.cos(2 * np.pi * 1.1 * t[:, 0])
    return poses


def frames_of(photo: np.ndarray, poses: np.ndarray, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    """-> (frames [n, H, W, 3]: the skeleton over the photo, noise added when rng is given; drawings [n, H, W, 3])."""
    h, w = photo.shape[:2]
    drawings = np.stack([render_whole_body(p.astype(np.float32), w, h) for p in poses])
    lit = drawings.max(axis=3, keepdims=True) > 0
    frames = np.where(lit, drawings, photo[None]).astype(np.int16)
    if rng is not None:
        frames = frames + rng.integers(-6, 7, frames.shape)
    return np.clip(frames, 0, 255).astype(np.uint8), drawings


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return float(10 * np.log10(255 ** 2 / mse)) if mse else float("inf")


def flicker(frames: np.ndarray, drawings: np.ndarray) -> float:
    meter = FlickerMeter(["video"], margin_px(frames.shape[2], frames.shape[1]))
    meter.add({"video": frames}, drawings)
    return meter.score("video")["flicker"]


def largest_step(frames: np.ndarray) -> float:
    return float(max(np.abs(frames[i].astype(np.int16) - frames[i - 1]).mean() for i in range(1, len(frames))))


def bench(width: int, height: int, n: int) -> None:
    with Image.open(ROOT / "assets" / "astronaut.png") as im:
        photo = np.asarray(im.convert("RGB").resize((width, height), Image.Resampling.LANCZOS))
    side = min(width, height) / 9
    box = (width / 2 - side / 2, height * 0.06, width / 2 + side / 2, height * 0.06 + side * 1.2)
    body = body_from_face(box, (width, height), (width, height), fit="scale")
    poses = dance(body.keypoints, n, (width, height))  # [n, 18, 2] at 8 fps
    made, _ = frames_of(photo, poses, np.random.default_rng(0))
    at = output_positions(n, FPS, OUT_FPS)
    at = at[at <= n - 1]  # the frames up to the last generated one
    truth, drawings = frames_of(photo, sample_linear(poses, at), None)  # 24 fps, no noise

    stream = Interpolator(FPS, OUT_FPS, n)
    stream.push(made[0])  # warm-up: the first pair's set-up is not timed
    stream = Interpolator(FPS, OUT_FPS, n)
    clock = time.perf_counter()
    smooth = np.stack([o for f in made for o in stream.push(f)])[:len(at)]
    between = [j for j in range(len(at)) if j % 3]
    ms = (time.perf_counter() - clock) / len(between) * 1000
    repeated = made[np.floor(at).astype(int)]
    faded = np.stack([(1 - (p % 1)) * made[int(p)] + (p % 1) * made[min(int(p) + 1, n - 1)] for p in at])
    faded = np.rint(faded).astype(np.uint8)

    def mean_psnr(video: np.ndarray) -> float:
        return float(np.mean([psnr(video[j], truth[j]) for j in between]))

    print(f"{width} x {height}: {ms:.0f} ms per in-between frame (OpenCV threads {cv2.getNumThreads()}); "
          f"PSNR vs the true 24 fps frames: interpolated {mean_psnr(smooth):.2f} dB, repeated "
          f"{mean_psnr(repeated):.2f} dB, cross-fade {mean_psnr(faded):.2f} dB")
    print(f"  flicker (grey levels): interpolated 24 fps {flicker(smooth, drawings):.3f}, repeated 24 fps "
          f"{flicker(repeated, drawings):.3f}, generated 8 fps {flicker(made, drawings[::3]):.3f}; largest "
          f"frame-to-frame change: interpolated {largest_step(smooth):.2f}, repeated {largest_step(repeated):.2f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=9, help="generated frames (8 fps)")
    p.add_argument("--sizes", nargs="+", default=["512x512", "576x1024"], help="WxH")
    args = p.parse_args(argv)
    print(f"{args.frames} generated frames at {FPS} fps -> {OUT_FPS} fps")
    for size in args.sizes:
        width, height = (int(v) for v in size.lower().split("x"))
        bench(width, height, args.frames)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
