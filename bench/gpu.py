"""GPU benchmark of the full-size pipeline with random weights: seconds per video, UNet seconds per step, peak
VRAM, torch.compile, model CPU offload, the identity branch's share of the UNet time, and MFU.

    python bench/gpu.py --out DIR                                       # CUDA: under ~8 min, building included
    python bench/gpu.py --device cpu --preset tiny --out /tmp/gpu_out   # the same code on the CPU, small sizes

On CUDA the defaults are the stableanimator preset with random weights built on the GPU (nothing downloaded),
float16 then bfloat16, 512 x 512 and 576 x 1024 (width x height), 16 frames (one temporal window), 25 steps,
guidance 3 (so an A/B step is one UNet batch of 4 samples and a single video's step a batch of 2). Every
configuration is timed between two torch.cuda.synchronize() calls; its peak is torch.cuda.max_memory_allocated()
(absolute: the models' weights included) after torch.cuda.reset_peak_memory_stats(). An out-of-memory error is
recorded for that configuration and the run goes on. A configuration whose estimated time would overrun
--budget-s (keeping time for the ones after it) is skipped and listed under "skipped".

What is measured (run order: for each dtype 1-3 at each size, then 6 on the last dtype and 4 on the first
(offload hooks must not be compiled), then 5):
1. FLOPs (first dtype): UNet FLOPs of one denoising step, torch.utils.flop_counter.FlopCounterMode around the
   step's UNet calls at the run's shapes: A/B (one batch of 4) and single video (one batch of 2).
2. UNet alone, per dtype and size: one A/B step with the pipeline's packed conditioning (the identity branch on
   the identity sample's rows only), the same with the CLIP token alone (no branch), and with the branch on every
   sample (the previous code's work); one single-video step with and without the branch. The identity branch's
   share of the UNet time = 1 - plain / with branch.
3. Pipeline end to end, eager, per dtype and size: an A/B pair and a single video with the whole batch per UNet
   call (first dtype: --steps; others: --short-steps), then the A/B pair with unet_batch_size 2 and 1 at
   --short-steps. Seconds per video (measured; "seconds_full_est" extrapolates a short run to --steps with the
   measured step time), seconds per step (callback_on_step_end, synchronised: UNet calls + guidance + Euler step),
   peak VRAM, MFU = UNet FLOPs per step / seconds per step / the device's dense peak.
4. torch.compile (first dtype, each size while the budget lasts): the UNet compiled in place (default mode,
   dynamic=False); compile time = first compiled 1-step A/B run - the eager 1-step warm-up; then an A/B pair at
   --steps; the compiled 1-step frames against eager's (8-bit levels).
5. Temporal context broadcast (first dtype, no model): diffusers' TransformerSpatioTemporalModel copies the
   conditioning to every pixel before its temporal blocks, packed identity tokens included; a zero-layer
   transformer runs exactly that code with packed vs plain conditioning at each of the UNet's transformer
   resolutions: extra seconds and bytes per UNet forward.
6. Model CPU offload (last dtype, first size): the A/B pair at --short-steps after pipe.enable_model_cpu_offload().

The JSON (DIR/gpu_bench.json) holds "meta", "measurements" (one flat record per configuration), "skipped" and
"errors"; the same is printed as a table. On the CPU (a check of this script) peaks and MFU are null and the
compile backend defaults to aot_eager (inductor needs minutes there).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import re
import statistics
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import PIL.Image
import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: this checkout's dancegen
    sys.path.insert(0, str(ROOT))

from dancegen import models  # noqa: E402
from dancegen.models.identity import pack_conditioning  # noqa: E402
from dancegen.pipeline import DancePipeline  # noqa: E402

# Dense (no sparsity) float16 / bfloat16 tensor-core peaks in TFLOP/s, by a pattern of torch's device name.
PEAK_TFLOPS = [(r"H200", 989.0), (r"H100.*PCIe", 756.0), (r"H100", 989.0), (r"A100", 312.0), (r"A10G", 125.0),
               (r"\bL4\b", 121.0)]


# ----------------------------------------------------------------------------------------------- 0. helpers

def peak_tflops(device: torch.device) -> float | None:
    """The device's dense half-precision peak, or None (CPU, or a GPU not in the table: MFU is then omitted)."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for pattern, peak in PEAK_TFLOPS if re.search(pattern, name)), None)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def gib(n_bytes: float) -> float:
    return round(n_bytes / 2**30, 3)


class Budget:
    """Wall-clock budget of the whole run: a configuration runs only if its estimate fits what is left."""

    def __init__(self, seconds: float):
        self.start, self.seconds = time.perf_counter(), seconds
        self.skipped: list[str] = []

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.start)

    def allows(self, label: str, estimate_s: float, reserve_s: float = 0.0) -> bool:
        if estimate_s + reserve_s <= self.left():
            return True
        self.skipped.append(f"{label} (estimated {estimate_s:.0f} s, {self.left():.0f} s left, "
                            f"{reserve_s:.0f} s kept for later sections)")
        print(f"    skipped {label}: over budget")
        return False


class Bench:
    """Runs configurations, each timed and peaked on its own, and collects the records."""

    def __init__(self, args: argparse.Namespace, device: torch.device):
        self.args, self.device = args, device
        self.budget = Budget(args.budget_s)
        self.peak = peak_tflops(device)
        self.records: list[dict] = []
        self.errors: list[str] = []

    def measure(self, fn) -> tuple[float, float | None]:
        """(seconds, peak GiB or None on the CPU) of fn(), synchronised on both sides."""
        if self.device.type == "cuda":
            sync(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        start = time.perf_counter()
        fn()
        sync(self.device)
        seconds = time.perf_counter() - start
        peak = gib(torch.cuda.max_memory_allocated(self.device)) if self.device.type == "cuda" else None
        return seconds, peak

    def record(self, record: dict, fn) -> dict:
        """Run fn(record) (it fills the record); an out-of-memory error is recorded and the run goes on."""
        try:
            fn(record)
        except torch.cuda.OutOfMemoryError as exc:
            record["error"] = f"out of memory: {str(exc).splitlines()[0]}"
            self.errors.append(f"{record['section']} {record.get('variant')}: out of memory")
            torch.cuda.empty_cache()
        except Exception as exc:  # a broken configuration must not cost the rest of the device time
            record["error"] = f"{type(exc).__name__}: {exc}"
            self.errors.append(f"{record['section']} {record.get('variant')}: {traceback.format_exc(limit=3)}")
        self.records.append(record)
        print("    " + describe(record))
        return record

    def mfu(self, flops: float | None, step_s: float | None) -> float | None:
        if not (flops and step_s and self.peak):
            return None
        return round(flops / step_s / (self.peak * 1e12), 4)


def describe(r: dict) -> str:
    """One line of the printed table."""
    parts = [f"{r['section']:<9}", f"{r.get('dtype', ''):<9}", f"{r.get('size', ''):<9}", f"{r.get('variant', ''):<22}"]
    for key, fmt in (("seconds", "{:.2f} s"), ("seconds_per_video", "{:.2f} s/video"),
                     ("seconds_full_est", "~{:.1f} s at full steps"), ("step_s", "{:.3f} s/step"),
                     ("compile_s", "compile {:.1f} s"), ("peak_vram_gib", "peak {:.2f} GiB"), ("mfu", "MFU {:.1%}"),
                     ("identity_share", "identity share {:.1%}"), ("tflops_per_step", "{:.4g} TFLOP/step"),
                     ("extra_ms_per_unet", "{:+.2f} ms/UNet"), ("extra_mib_peak", "{:+.1f} MiB peak"),
                     ("max_abs_diff", "max |compiled - eager| {:g} levels")):
        if r.get(key) is not None:
            parts.append(fmt.format(r[key]))
    if r.get("error"):
        parts.append(f"ERROR {r['error'][:100]}")
    return "  ".join(parts)


def parse_size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def size_label(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


# ------------------------------------------------------------------------------------------------- inputs

def pipeline_inputs(size: tuple[int, int], frames: int, seed: int = 0):
    """A random reference photo, random skeleton frames (uint8 RGB, H x W) and a random raw face embedding."""
    rng = np.random.default_rng(seed)
    width, height = size
    reference = PIL.Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
    poses = [rng.integers(0, 255, (height, width, 3), dtype=np.uint8) for _ in range(frames)]
    face = rng.normal(size=512).astype(np.float32) * 20
    return reference, poses, face


def unet_step_inputs(preset, batch: int, frames: int, size: tuple[int, int], device, dtype):
    """The UNet inputs of one pipeline call at these shapes (values random): sample [b, F, 8 + C0, h, w] (noisy
    and reference latents, then pose features), a 0-dim timestep, added time ids [b, 3], and the CLIP and identity
    tokens [b, 1, C] / [b, N, C] to pack."""
    g = torch.Generator(device=device).manual_seed(0)
    channels = 8 + preset.unet["block_out_channels"][0]
    cross = preset.unet["cross_attention_dim"]
    h, w = size[1] // 8, size[0] // 8
    sample = torch.randn(batch, frames, channels, h, w, generator=g, device=device, dtype=dtype)
    clip = torch.randn(batch, 1, cross, generator=g, device=device, dtype=dtype)
    ids = torch.randn(batch, preset.num_id_tokens, cross, generator=g, device=device, dtype=dtype)
    added = torch.tensor([[6.0, 127.0, 0.02]], device=device, dtype=dtype).repeat(batch, 1)
    timestep = torch.tensor(1.5, device=device)  # as the scheduler hands it over: a 0-dim float32 tensor
    return sample, timestep, added, clip, ids


# Conditioning variants of one denoising step, as (batch, alpha per sample): Python alphas are what the pipeline
# packs (the branch on the identity sample's rows only); a tensor packs the branch on every row (E = 1).
STEP_VARIANTS = {
    "ab": (4, [0.0, 0.0, 0.0, 1.0]),  # [uncond base, uncond id, cond base, cond id]: the branch on 1 sample
    "ab_plain": (4, None),  # CLIP token only: no identity branch at all
    "ab_branch_everywhere": (4, "tensor"),  # the branch computed on all 4 samples (alpha-0 rows thrown away)
    "single": (2, [0.0, 1.0]),  # [uncond id, cond id]
    "single_plain": (2, None),
}


def step_states(variant: str, clip: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """encoder_hidden_states of a STEP_VARIANTS entry."""
    _, alphas = STEP_VARIANTS[variant]
    if alphas is None:
        return clip
    if alphas == "tensor":
        return pack_conditioning(clip, ids, torch.tensor([0.0, 0.0, 0.0, 1.0], device=clip.device))
    return pack_conditioning(clip, ids, alphas)


def sdpa_cpu_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """FlopCounterMode has formulas for the CUDA attention kernels; the CPU one is counted the same way."""
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def count_flops(unet, inputs: tuple, states: torch.Tensor) -> int:
    sample, timestep, added, _, _ = inputs
    mapping = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: sdpa_cpu_flops}
    with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        unet(sample, timestep, encoder_hidden_states=states, added_time_ids=added)
    return counter.get_total_flops()


# ------------------------------------------------------------------------------------------------ sections

def section_flops(bench: Bench, pipe, preset, size, frames, dtype) -> dict[str, int]:
    """1. UNet FLOPs of one A/B step and one single-video step."""
    flops = {}
    for kind, variant in (("ab", "ab"), ("single", "single")):
        batch = STEP_VARIANTS[variant][0]
        record = {"section": "flops", "dtype": str(dtype).split(".")[-1], "size": size_label(size), "variant": kind,
                  "unet_batch": batch, "frames": frames}

        def run(r, variant=variant, batch=batch):
            inputs = unet_step_inputs(preset, batch, frames, size, bench.device, dtype)
            r["flops_per_step"] = count_flops(pipe.unet, inputs, step_states(variant, inputs[3], inputs[4]))
            r["tflops_per_step"] = r["flops_per_step"] / 1e12
            flops[kind] = r["flops_per_step"]

        bench.record(record, run)
    return flops


def section_unet(bench: Bench, pipe, preset, size, frames, dtype, flops: dict) -> dict[str, float]:
    """2. The UNet alone, one step per variant: median of --reps after a warm-up; the identity branch's share."""
    step_s: dict[str, float] = {}
    dt = str(dtype).split(".")[-1]
    for variant, (batch, _) in STEP_VARIANTS.items():
        record = {"section": "unet", "dtype": dt, "size": size_label(size), "variant": variant, "unet_batch": batch,
                  "frames": frames, "compiled": False}
        estimate = 3 * (bench.args.reps + 1) * step_s.get("ab", 1.0)
        if not bench.budget.allows(f"unet {dt} {size_label(size)} {variant}", estimate):
            continue

        def run(r, variant=variant, batch=batch):
            inputs = unet_step_inputs(preset, batch, frames, size, bench.device, dtype)
            sample, timestep, added, clip, ids = inputs
            states = step_states(variant, clip, ids)

            def call():
                with torch.no_grad():
                    pipe.unet(sample, timestep, encoder_hidden_states=states, added_time_ids=added)

            call()  # warm-up
            times, peaks = zip(*(bench.measure(call) for _ in range(bench.args.reps)))
            r["step_s"] = statistics.median(times)
            r["peak_vram_gib"] = max(peaks) if peaks[0] is not None else None
            kind = "ab" if variant.startswith("ab") else "single"
            r["mfu"] = bench.mfu(flops.get(kind), r["step_s"])
            step_s[variant] = r["step_s"]

        bench.record(record, run)
    for kind in ("ab", "single"):
        if kind in step_s and f"{kind}_plain" in step_s:
            share = {"section": "unet", "dtype": dt, "size": size_label(size), "variant": f"{kind}_identity_share",
                     "identity_share": 1 - step_s[f"{kind}_plain"] / step_s[kind]}
            if kind == "ab" and "ab_branch_everywhere" in step_s:
                share["identity_share_branch_everywhere"] = 1 - step_s["ab_plain"] / step_s["ab_branch_everywhere"]
            bench.records.append(share)
            print("    " + describe(share))
    return step_s


def timed_pipeline(bench: Bench, pipe, inputs, record: dict, steps: int, **kw) -> dict[str, np.ndarray]:
    """One pipeline call: seconds, seconds per step (synchronised callback marks), peak, timings. -> its videos"""
    reference, poses, face = inputs
    marks: list[float] = []

    def mark(p, step, t, tensors):
        sync(bench.device)
        marks.append(time.perf_counter())
        return tensors

    out = {}

    def call():
        out["result"] = pipe(reference, poses, face, num_inference_steps=steps,
                             generator=torch.Generator().manual_seed(0), callback_on_step_end=mark, **kw)

    seconds, peak = bench.measure(call)
    gaps = np.diff(marks)
    record.update(steps=steps, seconds=seconds, peak_vram_gib=peak,
                  timings_s={k: round(v, 3) for k, v in out["result"].timings_s.items()})
    record["step_s"] = float(np.median(gaps)) if len(gaps) else out["result"].timings_s["denoise"] / steps
    videos = len(out["result"].videos)
    record["seconds_per_video"] = seconds / videos
    if steps != bench.args.steps:
        full = seconds + (bench.args.steps - steps) * record["step_s"]
        record["seconds_full_est"] = full
        record["seconds_per_video_full_est"] = full / videos
    return out["result"].videos


def section_pipeline(bench: Bench, pipe, preset, size, frames, dtype, flops: dict, full: bool,
                     reserve_s: float) -> tuple[dict, dict]:
    """3. End to end, eager: A/B and single at the whole batch, A/B at unet_batch_size 2 and 1.
    -> (the 1-step A/B warm-up's record, its videos)"""
    args = bench.args
    dt = str(dtype).split(".")[-1]
    inputs = pipeline_inputs(size, frames)
    kw = dict(tile_frames=min(preset.tile_frames, frames), tile_overlap=preset.tile_overlap,
              decode_chunk_size=preset.decode_chunk, min_guidance_scale=preset.guidance,
              max_guidance_scale=preset.guidance)
    warm = {"section": "pipeline", "dtype": dt, "size": size_label(size), "variant": "ab warm-up (1 step)",
            "unet_batch": 4}
    frames_out: dict[str, dict] = {}  # the warm-up's videos, for the compiled run to compare with

    def run_warm(r):
        frames_out["ab"] = timed_pipeline(bench, pipe, inputs, r, 1, mode="ab", **kw)
        r["mfu"] = bench.mfu(flops.get("ab"), r["step_s"])

    bench.record(warm, run_warm)
    if "error" in warm:
        return warm, {}
    fixed_s, step_s = warm["seconds"], warm["step_s"]  # encode + decode (+ one step): what does not scale
    configs = [("ab", "ab", None, args.steps if full else args.short_steps),
               ("single", "identity", None, args.steps if full else args.short_steps),
               ("ab unet_batch_size=2", "ab", 2, args.short_steps),
               ("ab unet_batch_size=1", "ab", 1, args.short_steps)]
    for label, mode, batch, steps in configs:
        record = {"section": "pipeline", "dtype": dt, "size": size_label(size), "variant": label,
                  "unet_batch": batch or (4 if mode == "ab" else 2), "compiled": False}
        estimate = fixed_s + steps * step_s * 1.3
        if not bench.budget.allows(f"pipeline {dt} {size_label(size)} {label}", estimate, reserve_s):
            continue

        def run(r, mode=mode, batch=batch, steps=steps):
            timed_pipeline(bench, pipe, inputs, r, steps, mode=mode, unet_batch_size=batch, **kw)
            r["mfu"] = bench.mfu(flops.get("ab" if mode == "ab" else "single"), r["step_s"])

        bench.record(record, run)
    return warm, frames_out["ab"]


def section_compile(bench: Bench, pipe, preset, size, frames, dtype, flops: dict, eager_warm: tuple,
                    estimate_s: float, reserve_s: float) -> float | None:
    """4. torch.compile of the UNet in place; compile time apart; an A/B pair at --steps; compiled vs eager (the
    1-step A/B videos, in 8-bit levels: the same calls, so nothing is compiled twice)."""
    eager_warm, eager_videos = eager_warm
    args = bench.args
    dt = str(dtype).split(".")[-1]
    label = f"compile {dt} {size_label(size)}"
    if not bench.budget.allows(label, estimate_s + eager_warm["seconds"] + args.steps * eager_warm["step_s"],
                               reserve_s):
        return None
    inputs = pipeline_inputs(size, frames)
    kw = dict(tile_frames=min(preset.tile_frames, frames), tile_overlap=preset.tile_overlap,
              decode_chunk_size=preset.decode_chunk, min_guidance_scale=preset.guidance,
              max_guidance_scale=preset.guidance, mode="ab")
    record = {"section": "compile", "dtype": dt, "size": size_label(size), "variant": "ab", "unet_batch": 4,
              "compiled": True, "backend": args.compile_backend}

    def run(r):
        if pipe.unet._compiled_call_impl is None:  # nn.Module.compile: the pipeline's calls go through it
            pipe.unet.compile(backend=args.compile_backend, dynamic=False)
        torch._dynamo.utils.counters.clear()
        first = {}
        videos = timed_pipeline(bench, pipe, inputs, first, 1, **kw)  # compiles the A/B call's graph
        r["compile_s"] = first["seconds"] - eager_warm["seconds"]
        r["graph_breaks"] = sum(torch._dynamo.utils.counters["graph_break"].values())
        diffs = [np.abs(videos[k].astype(np.int16) - eager_videos[k].astype(np.int16)) for k in eager_videos]
        r["max_abs_diff"] = float(max(d.max() for d in diffs))  # 8-bit levels, 1-step A/B frames
        r["mean_abs_diff"] = float(np.mean([d.mean() for d in diffs]))
        timed_pipeline(bench, pipe, inputs, r, args.steps, **kw)
        r["mfu"] = bench.mfu(flops.get("ab"), r["step_s"])
        r["graphs"] = torch._dynamo.utils.counters["stats"].get("unique_graphs", 0)

    bench.record(record, run)
    return record.get("compile_s")


def unet_transformer_levels(preset, size: tuple[int, int]) -> list[tuple[int, int, int]]:
    """(latent height, width, number of spatio-temporal transformers) at each resolution of the preset's UNet."""
    cfg = preset.unet
    h, w = size[1] // 8, size[0] // 8
    depth = len(cfg["down_block_types"])
    levels = {}
    for i, kind in enumerate(cfg["down_block_types"]):
        if "CrossAttn" in kind:
            levels[i] = levels.get(i, 0) + cfg["layers_per_block"]
    levels[depth - 1] = levels.get(depth - 1, 0) + 1  # the mid block
    for i, kind in enumerate(cfg["up_block_types"]):
        if "CrossAttn" in kind:
            level = depth - 1 - i
            levels[level] = levels.get(level, 0) + cfg["layers_per_block"] + 1
    return [(h >> level, w >> level, count) for level, count in sorted(levels.items())]


def section_temporal(bench: Bench, preset, size, frames, dtype) -> None:
    """5. diffusers' per-pixel copy of the context for the temporal blocks: packed (CLIP + N identity tokens,
    C + E channels) vs plain (CLIP only), at every transformer resolution of the UNet, A/B batch of 4."""
    from diffusers.models.transformers.transformer_temporal import TransformerSpatioTemporalModel

    dt = str(dtype).split(".")[-1]
    record = {"section": "temporal", "dtype": dt, "size": size_label(size), "variant": "context broadcast, ab",
              "unet_batch": 4, "frames": frames}

    def run(r):
        batch, cross = 4, preset.unet["cross_attention_dim"]
        with torch.device(bench.device):  # the smallest transformer: 32 channels, no blocks, diffusers' forward
            module = TransformerSpatioTemporalModel(num_attention_heads=1, attention_head_dim=32, in_channels=32,
                                                    num_layers=0, cross_attention_dim=cross).to(dtype).eval()
        _, _, _, clip, ids = unet_step_inputs(preset, batch, 1, (8, 8), bench.device, dtype)
        contexts = {"plain": clip, "packed": pack_conditioning(clip, ids, STEP_VARIANTS["ab"][1])}
        indicator = torch.zeros(batch, frames, device=bench.device, dtype=dtype)
        extra_s = extra_peak = 0.0
        per_level = []
        for height, width, count in unet_transformer_levels(preset, size):
            pixels = height * width
            hidden = torch.randn(batch * frames, 32, height, width, device=bench.device, dtype=dtype)
            seconds, peaks = {}, {}
            for name, context in contexts.items():
                states = context.repeat_interleave(frames, dim=0)  # as the UNet hands it over: [B*F, L, C']

                def call(states=states):
                    with torch.no_grad():
                        module(hidden, encoder_hidden_states=states, image_only_indicator=indicator)

                call()
                base = torch.cuda.memory_allocated(bench.device) if bench.device.type == "cuda" else 0
                times, peak = zip(*(bench.measure(call) for _ in range(max(3, bench.args.reps))))
                seconds[name] = statistics.median(times)
                peaks[name] = (max(peak) * 2**30 - base) if peak[0] is not None else None
            copied = {name: batch * pixels * c.shape[1] * c.shape[2] * c.element_size() for name, c in contexts.items()}
            level = {"pixels": pixels, "transformers": count,
                     "context_mib": {k: round(v / 2**20, 2) for k, v in copied.items()},
                     "extra_ms": round(1e3 * (seconds["packed"] - seconds["plain"]), 3)}
            if peaks["plain"] is not None:
                level["extra_peak_mib"] = round((peaks["packed"] - peaks["plain"]) / 2**20, 2)
                extra_peak = max(extra_peak, level["extra_peak_mib"])
            extra_s += count * (seconds["packed"] - seconds["plain"])
            per_level.append(level)
        r["levels"] = per_level
        r["extra_ms_per_unet"] = 1e3 * extra_s
        r["extra_mib_peak"] = extra_peak if bench.device.type == "cuda" else max(
            lv["context_mib"]["packed"] - lv["context_mib"]["plain"] for lv in per_level)
        r["extra_mib_copied_per_unet"] = sum(
            lv["transformers"] * (lv["context_mib"]["packed"] - lv["context_mib"]["plain"]) for lv in per_level)

    if bench.budget.allows(f"temporal {dt} {size_label(size)}", 10.0):
        bench.record(record, run)


def section_offload(bench: Bench, pipe, preset, size, frames, dtype, flops: dict, eager_warm: tuple) -> None:
    """6. Model CPU offload: every model goes to the GPU only while it runs; the hooks are removed afterwards."""
    args = bench.args
    eager_warm = eager_warm[0]
    dt = str(dtype).split(".")[-1]
    if not bench.budget.allows(f"offload {dt} {size_label(size)}", 3 * eager_warm["seconds"] +
                               args.short_steps * eager_warm["step_s"] * 1.5):
        return
    inputs = pipeline_inputs(size, frames)
    kw = dict(tile_frames=min(preset.tile_frames, frames), tile_overlap=preset.tile_overlap,
              decode_chunk_size=preset.decode_chunk, min_guidance_scale=preset.guidance,
              max_guidance_scale=preset.guidance, mode="ab")
    record = {"section": "offload", "dtype": dt, "size": size_label(size), "variant": "ab model_cpu_offload",
              "unet_batch": 4}

    def run(r):
        pipe.enable_model_cpu_offload(device=bench.device)
        try:
            timed_pipeline(bench, pipe, inputs, {}, 1, **kw)  # the first call moves every model once
            timed_pipeline(bench, pipe, inputs, r, args.short_steps, **kw)
            r["mfu"] = bench.mfu(flops.get("ab"), r["step_s"])
        finally:
            pipe.remove_all_hooks()
            pipe.to(bench.device)

    bench.record(record, run)


# ------------------------------------------------------------------------------------------------------ main

def build(bench: Bench, preset_name: str, dtype) -> tuple[DancePipeline | None, dict]:
    dt = str(dtype).split(".")[-1]
    record = {"section": "build", "dtype": dt, "variant": f"{preset_name} random weights"}
    holder = {}

    def run(r):
        seconds, peak = bench.measure(lambda: holder.update(
            models=models.build(preset_name, device=bench.device, dtype=dtype)))
        r.update(seconds=seconds, peak_vram_gib=peak)
        pipe = DancePipeline.from_models(holder["models"])
        pipe.set_progress_bar_config(disable=True)
        holder["pipe"] = pipe

    bench.record(record, run)
    return holder.get("pipe"), record


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for gpu_bench.json")
    parser.add_argument("--device", default=None, help="cuda (default when there is one) or cpu")
    parser.add_argument("--preset", default="stableanimator")
    parser.add_argument("--dtypes", default=None, help="comma-separated (CUDA: float16,bfloat16; CPU: float32)")
    parser.add_argument("--sizes", default=None, help="WxH, comma-separated (CUDA: 512x512,576x1024; CPU: 64x64)")
    parser.add_argument("--frames", type=int, default=None, help="frames per video (CUDA: 16; CPU: 8)")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps of full runs (CUDA: 25; CPU: 2)")
    parser.add_argument("--short-steps", type=int, default=None, help="steps of the other runs (CUDA: 5; CPU: 1)")
    parser.add_argument("--reps", type=int, default=None, help="timed repetitions of UNet steps (CUDA: 3; CPU: 1)")
    parser.add_argument("--compile-backend", default=None, help="CUDA: inductor; CPU: aot_eager")
    parser.add_argument("--compile-estimate-s", type=float, default=150.0,
                        help="expected first compile time, for the budget (later ones use the measured one)")
    parser.add_argument("--sections", default="flops,unet,pipeline,compile,temporal,offload")
    parser.add_argument("--budget-s", type=float, default=450.0, help="wall-clock budget of the whole run")
    args = parser.parse_args(argv)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    cuda = device.type == "cuda"
    defaults = dict(dtypes="float16,bfloat16" if cuda else "float32", sizes="512x512,576x1024" if cuda else "64x64",
                    frames=16 if cuda else 8, steps=25 if cuda else 2, short_steps=5 if cuda else 1,
                    reps=3 if cuda else 1, compile_backend="inductor" if cuda else "aot_eager")
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.device = str(device)
    args.dtype_list = [getattr(torch, d.strip()) for d in args.dtypes.split(",")]
    args.size_list = [parse_size(s) for s in args.sizes.split(",")]
    args.section_list = {s.strip() for s in args.sections.split(",")}
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    device = torch.device(args.device)
    bench = Bench(args, device)
    import diffusers

    meta = {"command": " ".join([Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)]),
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "CPU",
            "peak_tflops": bench.peak, "torch": torch.__version__, "diffusers": diffusers.__version__,
            "preset": args.preset, "dtypes": [str(d).split(".")[-1] for d in args.dtype_list],
            "sizes": [size_label(s) for s in args.size_list], "frames": args.frames, "steps": args.steps,
            "short_steps": args.short_steps, "reps": args.reps, "compile_backend": args.compile_backend,
            "budget_s": args.budget_s}
    print(f"[gpu bench] {meta['device']}, torch {meta['torch']}, diffusers {meta['diffusers']}, preset "
          f"{args.preset}, {args.frames} frames, {args.steps} steps (short runs {args.short_steps}), "
          f"peak {bench.peak} TFLOP/s")
    preset = models.get_preset(args.preset)
    sections = args.section_list
    flops: dict[str, dict] = {}
    model_sections = sections & {"flops", "unet", "pipeline", "compile", "offload"}
    for index, dtype in enumerate(args.dtype_list):
        first, last = index == 0, index == len(args.dtype_list) - 1
        if not model_sections:
            break
        print(f"[{str(dtype).split('.')[-1]}]")
        pipe, built = build(bench, args.preset, dtype)
        if pipe is None:
            continue
        # time kept for the later dtypes' core and for offload: a share of what this dtype's core took
        core_start = time.perf_counter()
        warm = {}
        for size in args.size_list:
            label = size_label(size)
            if first and "flops" in sections:
                flops[label] = section_flops(bench, pipe, preset, size, args.frames, dtype)
            if "unet" in sections:
                section_unet(bench, pipe, preset, size, args.frames, dtype, flops.get(label, {}))
            if "pipeline" in sections:
                later = (len(args.dtype_list) - 1 - index) * built.get("seconds", 20.0)
                warm[label] = section_pipeline(bench, pipe, preset, size, args.frames, dtype, flops.get(label, {}),
                                               full=first, reserve_s=later)
        core_s = time.perf_counter() - core_start
        if last and "offload" in sections:  # before compile: offload hooks must not be traced
            size = args.size_list[0]
            eager = warm.get(size_label(size))
            if eager is not None and "error" not in eager[0]:
                section_offload(bench, pipe, preset, size, args.frames, dtype, flops.get(size_label(size), {}),
                                eager)
        if first and "compile" in sections:  # last on this pipeline: its UNet stays compiled
            estimate = args.compile_estimate_s
            reserve = (len(args.dtype_list) - 1) * (core_s * 0.7 + built.get("seconds", 20.0)) + 30.0
            for size in args.size_list:
                eager = warm.get(size_label(size))
                if eager is None or "error" in eager[0]:
                    continue
                measured = section_compile(bench, pipe, preset, size, args.frames, dtype,
                                           flops.get(size_label(size), {}), eager, estimate, reserve)
                if measured is None:
                    break
                estimate = max(measured, 1.0) * 1.2
        del pipe
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
    if "temporal" in sections:
        print("[temporal context broadcast]")
        for size in args.size_list:
            section_temporal(bench, preset, size, args.frames, args.dtype_list[0])

    meta["total_s"] = round(time.perf_counter() - bench.budget.start, 1)
    result = {"meta": meta, "measurements": bench.records, "skipped": bench.budget.skipped, "errors": bench.errors}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_bench.json").write_text(json.dumps(result, indent=1, default=str))
    print(f"[gpu bench] {meta['total_s']} s in all; {len(bench.records)} records, {len(bench.budget.skipped)} "
          f"skipped, {len(bench.errors)} errors -> {out / 'gpu_bench.json'}")
    for line in bench.budget.skipped:
        print(f"    skipped: {line}")
    for line in bench.errors:
        print(f"    error: {line.strip().splitlines()[-1]}")
    return result


if __name__ == "__main__":
    main()
