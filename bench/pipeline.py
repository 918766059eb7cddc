"""Pipeline benchmarks, each measured side by side in one run (ratios, not absolute goals).

1. A/B in one batch vs two separate runs (baseline-only + identity-only), repetitions interleaved.
   Goal: A/B <= 0.65 x the two runs.
2. Peak RSS of a whole generation against the length of the music (10, 60 and 180 s, tiny preset, 8 fps, one
   step, a fresh process each), and the time per frame spent writing the four mp4s and decoding. Goal: flat
   within 15 % of the 10 s figure (the frames stream from the VAE into the writers).
3. Per-stage timings of one end-to-end studio run (face, music, choreography, encoding, denoising, decoding,
   muxing, metrics) from assets/astronaut.png and assets/sample_music.wav.
4. With a CUDA GPU only: full-size random-weight StableAnimator models, 512x512, 16 frames, 25 steps, fp16:
   seconds per A/B pair, A/B vs two separate runs, peak VRAM, and peak VRAM with UNet batches of 1 and with
   model CPU offload, with the GPU's name.

    python bench/pipeline.py [--reps 3] [--skip-gpu]
    python bench/pipeline.py --only-memory                      # section 2 alone
    python bench/pipeline.py --only-full                        # section 4 alone (on a GPU host)
    python bench/pipeline.py --only-full --full-device cpu --full-preset tiny --full-size 64 --full-steps 2
                                                                # section 4's code on the CPU (no measurement)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import PIL.Image
import torch

from dancegen import models
from dancegen.pipeline import DancePipeline

ROOT = Path(__file__).resolve().parent.parent


def inputs(frames: int, size: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    reference = PIL.Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    poses = [rng.integers(0, 255, (size, size, 3), dtype=np.uint8) for _ in range(frames)]
    face = rng.normal(size=512).astype(np.float32) * 20
    return reference, poses, face


def bench_ab(reps: int) -> None:
    pipe = DancePipeline.from_models(models.build("tiny"))
    pipe.set_progress_bar_config(disable=True)
    reference, poses, face = inputs(16, 128)
    kw = dict(num_inference_steps=4, tile_frames=8, tile_overlap=2, decode_chunk_size=8)

    def ab():
        pipe(reference, poses, face, mode="ab", **kw)

    def two_runs():
        pipe(reference, poses, face, mode="baseline", **kw)
        pipe(reference, poses, face, mode="identity", **kw)

    ab(), two_runs()  # warm-up
    times = {"ab": [], "two": []}
    for _ in range(reps):
        for name, fn in (("ab", ab), ("two", two_runs)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    a, t = statistics.median(times["ab"]), statistics.median(times["two"])
    print(f"[A/B] tiny, 16 frames 128x128, 4 steps: A/B {a:.2f} s, two runs {t:.2f} s, ratio {a / t:.3f} "
          f"(goal <= 0.65)")


MEMORY = textwrap.dedent("""
    import json, resource, sys, tempfile
    import soundfile as sf
    sys.path.insert(0, sys.argv[3] + "/tests")
    from support.audio_synth import synth_track
    from dancegen.config import GenerationSettings, StudioConfig
    from dancegen.studio import DanceStudio
    seconds, fps = float(sys.argv[1]), float(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        samples, _, _ = synth_track(118.0, seconds + 1.0, sr=22050, style="drums", seed=2)
        sf.write(tmp + "/song.wav", samples, 22050)
        studio = DanceStudio(StudioConfig(preset="tiny", max_music_s=seconds, output_root=tmp, progress_bar=False))
        result = studio.generate(sys.argv[3] + "/assets/astronaut.png", tmp + "/song.wav",
                                 GenerationSettings(seconds=seconds, steps=1, fps=fps))
    t = result.report["timings_s"]
    print(json.dumps({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "frames": result.report["frames"], "muxing_s": t["muxing"], "decoding_s": t["decoding"]}))
""")


def bench_memory(fps: float = 8.0) -> None:
    """Peak RSS of a whole generation (fresh process each) against the length of the music, and the time spent
    writing the four mp4s per frame: the frames stream from the VAE into the writers, so memory stays flat."""
    rows = {}
    for seconds in (10, 60, 180):
        out = subprocess.run([sys.executable, "-c", MEMORY, str(seconds), str(fps), str(ROOT)], capture_output=True,
                             text=True, check=True)
        rows[seconds] = json.loads(out.stdout.strip().splitlines()[-1])
    base = rows[10]["peak_mib"]
    print(f"[memory] tiny preset, CPU, 128x128, {fps:g} fps, 1 step, A/B + side by side + skeleton mp4s:")
    for seconds, r in rows.items():
        print(f"    {seconds:4d} s of music ({r['frames']:5d} frames): peak RSS {r['peak_mib']:6.0f} MiB "
              f"(x{r['peak_mib'] / base:.3f} of 10 s; goal <= 1.15), writing {1000 * r['muxing_s'] / r['frames']:.1f} "
              f"ms/frame, decoding {1000 * r['decoding_s'] / r['frames']:.1f} ms/frame")


def bench_stages() -> None:
    from dancegen import music
    from dancegen.config import GenerationSettings, StudioConfig
    from dancegen.studio import DanceStudio

    music.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        studio = DanceStudio(StudioConfig(preset="tiny", output_root=tmp))
        studio.pipe.set_progress_bar_config(disable=True)
        settings = GenerationSettings(seconds=8.0, fps=8.0)
        # Warm-up on another photo and music segment, so the measured run hits no cache but no cold start either.
        studio.generate(ROOT / "assets" / "group.png", ROOT / "assets" / "sample_music.wav",
                        GenerationSettings(seconds=3.0, fps=8.0, music_offset_s=20.0))
        result = studio.generate(ROOT / "assets" / "astronaut.png", ROOT / "assets" / "sample_music.wav", settings)
    timings = result.report["timings_s"]
    total = sum(timings.values())
    print(f"[stages] tiny preset, CPU, 8 s of music at 8 fps (64 frames, 128x128, 4 steps, A/B): total {total:.2f} s")
    for stage, seconds in timings.items():
        print(f"    {stage:<13} {seconds:7.3f} s  {100 * seconds / total:5.1f} %")


def _peak_reset(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def _peak_gib(device: torch.device) -> float:
    if device.type != "cuda":
        return float("nan")  # RSS is not comparable within one process; the memory section measures CPU peaks
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) / 2**30


def _timed(device: torch.device, fn) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def bench_full(device: str, preset: str, size: int, steps: int, reps: int) -> None:
    """Full-size random weights in fp16 (on CUDA): seconds per A/B pair, A/B vs two runs, peak VRAM, and the
    two memory savers (UNet batches of 1, model CPU offload) side by side. With --full-device cpu --full-preset
    tiny the same code runs on the CPU (a check of this script, not a measurement)."""
    device = torch.device(device)
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    p = models.get_preset(preset)
    pipe = DancePipeline.from_models(models.build(preset, device=device, dtype=dtype))
    pipe.set_progress_bar_config(disable=True)
    reference, poses, face = inputs(p.tile_frames, size)
    kw = dict(num_inference_steps=steps, tile_frames=p.tile_frames, tile_overlap=p.tile_overlap,
              decode_chunk_size=p.decode_chunk)
    pipe(reference, poses, face, **{**kw, "num_inference_steps": 1})  # warm-up (kernels, allocator)
    print(f"[full] {name}: {preset} preset, random weights, {size}x{size}, {len(poses)} frames, {steps} steps, "
          f"{str(dtype).split('.')[-1]}")

    times = {"ab": [], "two": []}
    for _ in range(reps):  # interleaved
        times["ab"].append(_timed(device, lambda: pipe(reference, poses, face, mode="ab", **kw)))
        times["two"].append(_timed(device, lambda: (pipe(reference, poses, face, mode="baseline", **kw),
                                                    pipe(reference, poses, face, mode="identity", **kw))))
    a, t = statistics.median(times["ab"]), statistics.median(times["two"])
    print(f"    A/B pair {a:.1f} s ({a / 2:.1f} s per video); two separate runs {t:.1f} s; ratio {a / t:.3f} "
          f"(goal <= 0.65)")

    # Peak memory does not depend on the step count: two steps each.
    short = {**kw, "num_inference_steps": 2}
    for label, extra in (("whole A/B batch (4 samples per UNet call)", {}),
                         ("unet_batch_size=1", {"unet_batch_size": 1})):
        _peak_reset(device)
        seconds = _timed(device, lambda: pipe(reference, poses, face, **short, **extra))
        print(f"    {label}: peak {_peak_gib(device):.2f} GiB allocated, {seconds:.1f} s for 2 steps")
    pipe.enable_model_cpu_offload(device=device)  # last: the hooks stay on this pipeline
    pipe(reference, poses, face, **{**short, "num_inference_steps": 1})  # first call moves every model once
    _peak_reset(device)
    seconds = _timed(device, lambda: pipe(reference, poses, face, **short))
    print(f"    model CPU offload: peak {_peak_gib(device):.2f} GiB allocated, {seconds:.1f} s for 2 steps")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--skip-gpu", action="store_true", help="skip the CUDA sections even with a GPU")
    parser.add_argument("--only-full", action="store_true", help="run the full-size section only")
    parser.add_argument("--only-memory", action="store_true", help="run the memory section only")
    parser.add_argument("--full-device", default="cuda", help="device of the full-size section (runs if present)")
    parser.add_argument("--full-preset", default="stableanimator")
    parser.add_argument("--full-size", type=int, default=512, help="canvas side of the full-size section (px)")
    parser.add_argument("--full-steps", type=int, default=25)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"CUDA: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
    if args.only_memory:
        bench_memory()
        return
    if not args.only_full:
        bench_ab(args.reps)
        bench_memory()
        bench_stages()
    full_on_cuda = args.full_device.startswith("cuda")
    if full_on_cuda and torch.cuda.is_available() and not args.skip_gpu:
        bench_full(args.full_device, args.full_preset, args.full_size, args.full_steps, max(1, args.reps // 3))
    elif not full_on_cuda:
        bench_full(args.full_device, args.full_preset, args.full_size, args.full_steps, max(1, args.reps // 3))


if __name__ == "__main__":
    main()
