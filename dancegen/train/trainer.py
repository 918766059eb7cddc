"""The training loop: Hugging Face Accelerate for devices, mixed precision, gradient accumulation and several
processes or machines (``accelerate launch ... -m dancegen train ...``); AdamW on the chosen parts; a resumable
checkpoint every K steps and at the end; loss and learning rate in ``train_log.csv`` (and TensorBoard when it is
installed) with a progress bar.

What is trained, as StableAnimator's ``train.py`` does unless noted: the face encoder and the identity projections
(``id_to_k`` / ``id_to_v``) always; the pose net and every UNet attention layer on request (StableAnimator trains
both, and the identity projections are among the attention layers); everything else (the UNet's other layers, the
VAE, the CLIP image encoder) is frozen and, with mixed precision, held in the low precision while the trained
parameters stay float32. Its optimiser is AdamW (betas 0.9 / 0.999, eps 1e-8, weight decay 1e-2) with a constant
learning rate; with --resume the run continues at the saved step with the saved optimiser and schedule state and
draws exactly the samples and noise an uninterrupted run would (see :mod:`.data`).
"""

from __future__ import annotations

import csv
import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..config import PresetName, TrainSettings
from ..errors import SettingsError, UserError
from ..face import FaceAnalyser, FaceAnalyserConfig, antelopev2_folder
from ..models import get_preset, load_models, pick_device, read_trained, resolve_models, write_trained
from ..models.build import DanceModels
from ..models.trained import PARTS, part_keys
from .checkpoint import (CHECKPOINTS, check_resumable, latest_checkpoint, load_states, read_state, resumed_base,
                         save_checkpoint)
from .data import ClipDataset, PositionSampler, scan_clips
from .data import batches as data_batches
from .step import Denoiser, micro_step_loss

LOG = "train_log.csv"
LOG_FIELDS = ("step", "loss", "lr", "seconds", "samples")
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8


@dataclass
class TrainResult:
    out: Path  # the trained folder (manifest and parts)
    step: int  # optimiser steps done
    losses: list[float]  # loss of every step this run made (mean over the global batch and accumulation)
    skipped: list[str]  # "clip: reason" for every clip left out
    parts: list[str]  # what was trained


def trained_parts(settings: TrainSettings) -> list[str]:
    parts = ["face_encoder", "identity"]
    if settings.train_unet_attention:
        parts.append("unet_attention")
    if settings.train_pose_net:
        parts.append("pose_net")
    return parts


def select_trainable(models: DanceModels, parts: list[str]) -> list[tuple[str, torch.nn.Parameter]]:
    """Freeze every network, then unfreeze the parameters of ``parts``; -> those, as (module.key, parameter)."""
    for module in models.modules().values():
        module.requires_grad_(False)
    chosen = []
    for module_name, keys in part_keys(models, parts).items():
        params = dict(getattr(models, module_name).named_parameters())
        for key in keys:
            params[key].requires_grad_(True)
            chosen.append((f"{module_name}.{key}", params[key]))
    return chosen


def _settings_record(settings: TrainSettings) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(settings).items()}


def make_accelerator(settings: TrainSettings, out: Path):
    from accelerate import Accelerator
    from accelerate.utils import is_tensorboard_available

    cpu = settings.device is not None and pick_device(settings.device).type == "cpu"
    if settings.device is not None and not cpu:
        pick_device(settings.device)  # SettingsError when CUDA was asked for and there is none
    try:
        return Accelerator(cpu=cpu, mixed_precision=str(settings.mixed_precision),
                           gradient_accumulation_steps=settings.grad_accum,
                           log_with="tensorboard" if is_tensorboard_available() else None, project_dir=str(out))
    except ValueError as exc:  # e.g. fp16 where the device has no fp16 autocast
        raise SettingsError(f"mixed precision {settings.mixed_precision} cannot run here: {exc}") from None


def _identity_faces(settings: TrainSettings, root: Path | None) -> FaceAnalyser:
    """The face models whose embeddings the face encoder is trained on: antelopev2 for the stableanimator preset
    (the published encoder only understands them), the offline models for tiny (as the studio does)."""
    if settings.preset == PresetName.STABLEANIMATOR:
        folder = antelopev2_folder(root, download=settings.download)
        return FaceAnalyser(FaceAnalyserConfig(source="antelopev2", model_dir=str(folder)))
    return FaceAnalyser(FaceAnalyserConfig(source="offline"))


def _cast_frozen(models: DanceModels, dtype: torch.dtype) -> None:
    """Hold every frozen parameter in ``dtype`` (the trained ones stay float32, as their optimiser needs)."""
    for module in models.modules().values():
        for param in module.parameters():
            if not param.requires_grad:
                param.data = param.data.to(dtype)


def setup_networks(models: DanceModels, settings: TrainSettings
                   ) -> tuple[list[tuple[str, torch.nn.Parameter]], torch.dtype, Denoiser]:
    """Ready ``models`` for training: the chosen parts trainable (float32), everything else frozen (in the mixed
    precision's dtype), gradient checkpointing as asked. -> (trainable parameters, frozen dtype, the Denoiser)."""
    trainable = select_trainable(models, trained_parts(settings))
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(str(settings.mixed_precision), torch.float32)
    _cast_frozen(models, dtype)
    if settings.gradient_checkpointing:
        models.unet.enable_gradient_checkpointing()
    return trainable, dtype, Denoiser(models.unet, models.face_encoder, models.pose_net).train()


def optimiser_step(accelerator, denoiser: torch.nn.Module, optimizer, models: DanceModels,
                   batches: Iterator[dict[str, torch.Tensor]], settings: TrainSettings,
                   trainable: list[tuple[str, torch.nn.Parameter]], dtype: torch.dtype) -> float:
    """grad_accum micro-steps (forward under autocast, backward), clipping, one optimiser update. -> the loss,
    averaged over every process's samples and the micro-steps."""
    losses = []
    for _ in range(settings.grad_accum):
        batch = next(batches)
        with accelerator.accumulate(denoiser):
            with accelerator.autocast():
                slots = accelerator.num_processes * settings.batch * settings.grad_accum  # samples per update
                loss, _ = micro_step_loss(denoiser, models, batch, slots=slots,
                                          sigma_sampling=settings.sigma_sampling, dropout=settings.conditioning_dropout,
                                          face_weight=settings.face_weight, device=accelerator.device, dtype=dtype)
            accelerator.backward(loss)
            if accelerator.sync_gradients and settings.max_grad_norm > 0:
                accelerator.clip_grad_norm_([p for _, p in trainable], settings.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad()
        losses.append(accelerator.gather(loss.detach().float().reshape(1)).mean().item())
    return sum(losses) / len(losses)


def train(settings: TrainSettings, data: str | Path, out: str | Path,
          say: Callable[[str], None] = print) -> TrainResult:
    """Train on the clips in ``data`` and write the trained folder ``out`` (see the module docstring)."""
    out = Path(out)
    preset = get_preset(settings.preset)
    frames = settings.frames or preset.tile_frames
    size = tuple(settings.size or preset.size)
    accelerator = make_accelerator(settings, out)
    main, world, rank = accelerator.is_main_process, accelerator.num_processes, accelerator.process_index
    record = _settings_record(settings)

    resume = latest_checkpoint(out) if settings.resume else None
    if not settings.resume and (out / CHECKPOINTS).is_dir() and any((out / CHECKPOINTS).iterdir()):
        raise SettingsError(f"{out} already holds a training run (checkpoints/): pass --resume to continue it, or "
                            "choose a new --out")
    if settings.init is None and preset.trained and not settings.download and resume is None:
        raise SettingsError("the stableanimator preset trains on StableAnimator's weights: pass --init CHECKPOINTS "
                            "(the folder with Animation/ and SVD/) or --download")
    if settings.init is not None and not preset.trained and read_trained(settings.init) is None:
        raise SettingsError(f"--init {settings.init} is not a folder written by dancegen train; the tiny preset "
                            "starts from its random networks or from such a folder")
    saved = read_state(resume) if resume is not None else None
    if settings.resume and saved is None and main:
        say(f"no checkpoint in {out / CHECKPOINTS} yet: starting at step 0")
    if saved is not None:
        check_resumable(saved, record, world, settings.batch)
    # a checkpoint is a trained folder: its parts over the base its manifest records are where a resumed run starts
    base_weights = (resumed_base(resume, settings.init, settings.base_weights) if resume is not None
                    else settings.base_weights)
    source = resolve_models(preset, resume or settings.init, base_weights, settings.download, settings.tiny_seed)
    models = load_models(source, accelerator.device, torch.float32)
    faces = _identity_faces(settings, source.paths.root if source.paths is not None else None)
    with accelerator.main_process_first():  # the main process caches the face embeddings, the others read them
        clips, skipped = scan_clips(data, frames, faces)
    if main:
        for line in skipped:
            say(f"skipped {line}")
        say(f"training on {len(clips)} clip(s) at {size[0]}x{size[1]}, {frames} frames, {world} process(es)")

    trainable, dtype, denoiser = setup_networks(models, settings)
    # what the folder holds: the parts trained now, and those an --init folder had trained before
    earlier = set(source.trained.parts) if source.trained is not None else set()
    parts = [p for p in PARTS if p in earlier or p in trained_parts(settings)]
    from diffusers.optimization import get_scheduler

    optimizer = torch.optim.AdamW([p for _, p in trainable], lr=settings.lr, betas=ADAM_BETAS, eps=ADAM_EPS,
                                  weight_decay=settings.weight_decay)
    schedule = get_scheduler(str(settings.lr_schedule), optimizer, num_warmup_steps=settings.lr_warmup,
                             num_training_steps=settings.steps)
    denoiser, optimizer = accelerator.prepare(denoiser, optimizer)
    states = {"optimizer": optimizer, "scheduler": schedule}
    if accelerator.scaler is not None:
        states["scaler"] = accelerator.scaler
    start = 0
    if saved is not None:
        if saved.step > settings.steps:
            raise SettingsError(f"{saved.folder} is at step {saved.step}, past --steps {settings.steps}")
        load_states(saved.folder, states)
        start = saved.step
        if main:
            say(f"resuming {saved.folder.name}: step {start}, {saved.samples} samples drawn")

    dataset = ClipDataset(clips, frames, size, settings.frame_stride, settings.seed)
    loader = DataLoader(dataset, batch_size=settings.batch, num_workers=settings.workers,
                        sampler=PositionSampler(start * settings.grad_accum, settings.batch, rank, world))
    log = _Log(out, start, main, accelerator)
    base = source.trained.base if source.trained is not None else source.base()

    def checkpoint(step: int) -> None:
        accelerator.wait_for_everyone()
        if main:
            save_checkpoint(out, step, models, parts, base, record, {k: v.state_dict for k, v in states.items()},
                            micro_steps=step * settings.grad_accum,
                            samples=step * settings.grad_accum * world * settings.batch, processes=world,
                            batch=settings.batch, keep=settings.keep_checkpoints)
        accelerator.wait_for_everyone()

    losses = []
    batches = data_batches(loader)  # a clip that breaks in a worker: its own line, not the worker's traceback
    bar = tqdm(total=settings.steps, initial=start, disable=not accelerator.is_local_main_process, desc="training")
    clock = time.perf_counter()
    for step in range(start, settings.steps):
        lr = schedule.get_last_lr()[0]
        value = optimiser_step(accelerator, denoiser, optimizer, models, batches, settings, trainable, dtype)
        schedule.step()
        if not math.isfinite(value):
            raise UserError(f"the training diverged: the loss became {value} at step {step + 1}; try a lower --lr, "
                            "or --mixed-precision bf16 or no instead of fp16 (--resume goes on from the last "
                            "checkpoint)")
        losses.append(value)
        log.add(step + 1, value, lr, time.perf_counter() - clock,
                (step + 1) * settings.grad_accum * world * settings.batch)
        bar.update(1)
        bar.set_postfix(loss=f"{value:.4f}", lr=f"{lr:.2e}")
        if (step + 1) % settings.checkpoint_every == 0 and step + 1 < settings.steps:
            checkpoint(step + 1)
    bar.close()
    checkpoint(settings.steps)
    if main:
        write_trained(out, models, parts, base, settings.steps, record)
        say(f"trained weights: {out} (step {settings.steps}); use them with --weights {out}")
    log.close()
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return TrainResult(out=out, step=settings.steps, losses=losses, skipped=skipped, parts=trained_parts(settings))


class _Log:
    """train_log.csv (rows after a resumed step are dropped first) and TensorBoard through accelerate's tracker."""

    def __init__(self, out: Path, start: int, main: bool, accelerator):
        self.main, self.accelerator, self.file = main, accelerator, None
        if not main:
            return
        out.mkdir(parents=True, exist_ok=True)
        path = out / LOG
        kept = []
        if start > 0 and path.is_file():
            with path.open(newline="") as fh:
                kept = [row for row in csv.DictReader(fh) if int(row["step"]) <= start]
        self.file = path.open("w", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=LOG_FIELDS)
        self.writer.writeheader()
        self.writer.writerows(kept)
        self.file.flush()
        if accelerator.log_with:
            accelerator.init_trackers("dancegen-train")

    def add(self, step: int, loss: float, lr: float, seconds: float, samples: int) -> None:
        if not self.main:
            return
        self.writer.writerow({"step": step, "loss": f"{loss:.6g}", "lr": f"{lr:.6g}", "seconds": f"{seconds:.2f}",
                              "samples": samples})
        self.file.flush()
        if self.accelerator.log_with:
            self.accelerator.log({"loss": loss, "lr": lr}, step=step)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
