"""The diffusion pipeline on the tiny preset (CPU): determinism, A/B equivalence, windows, progress, cancel."""


import numpy as np
import PIL.Image
import pytest
import torch

from dancegen import models
from dancegen.errors import GenerationCancelled
from dancegen.pipeline.pipeline import DancePipeline


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


FAST = dict(num_inference_steps=2, tile_frames=8, tile_overlap=2, decode_chunk_size=8)


@pytest.fixture(scope="module")
def pipe():
    p = DancePipeline.from_models(models.build("tiny"))
    p.set_progress_bar_config(disable=True)
    return p


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(0)
    reference = PIL.Image.fromarray(rng.integers(0, 255, (96, 72, 3), dtype=np.uint8))
    poses = [rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for _ in range(11)]
    face = rng.normal(size=512).astype(np.float32) * 20
    return reference, poses, face


def test_ab_outputs_both_videos_with_every_frame(pipe, inputs):
    reference, poses, face = inputs
    out = pipe(reference, poses, face, alpha=1.0, generator=seeded(3), **FAST)
    assert set(out.videos) == {"baseline", "identity"}
    for video in out.videos.values():
        assert video.shape == (11, 64, 64, 3) and video.dtype == np.uint8
    assert not np.array_equal(out.videos["baseline"], out.videos["identity"])
    assert out.id_tokens == 4 and set(out.timings_s) == {"encode", "denoise", "decode"}


def test_same_seed_same_frames_other_seed_differs(pipe, inputs):
    reference, poses, face = inputs
    a = pipe(reference, poses, face, mode="identity", generator=seeded(5), **FAST).videos["identity"]
    b = pipe(reference, poses, face, mode="identity", generator=seeded(5), **FAST).videos["identity"]
    c = pipe(reference, poses, face, mode="identity", generator=seeded(6), **FAST).videos["identity"]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_ab_baseline_equals_baseline_only_run(pipe, inputs):
    """Same noise, poses and conditioning: the A/B batch's baseline is the baseline-only video.

    The batch holds twice as many samples, so CPU kernels may round differently in the last float bit; after
    quantisation to 8 bits that shows as at most one level on a few pixels.
    """
    reference, poses, face = inputs
    ab = pipe(reference, poses, face, alpha=1.0, generator=seeded(7), **FAST).videos["baseline"]
    alone = pipe(reference, poses, face, mode="baseline", generator=seeded(7), **FAST).videos["baseline"]
    diff = np.abs(ab.astype(int) - alone.astype(int))
    assert diff.max() <= 1 and diff.mean() < 1e-2


def test_identity_mode_with_alpha_zero_is_the_baseline_exactly(pipe, inputs):
    reference, poses, face = inputs
    off = pipe(reference, poses, face, mode="identity", alpha=0.0, generator=seeded(9), **FAST).videos["identity"]
    base = pipe(reference, poses, face, mode="baseline", generator=seeded(9), **FAST).videos["baseline"]
    no_face = pipe(reference, poses, None, mode="baseline", generator=seeded(9), **FAST).videos["baseline"]
    assert np.array_equal(off, base) and np.array_equal(base, no_face)


def test_smaller_unet_batches_give_the_same_video(pipe, inputs):
    reference, poses, face = inputs
    whole = pipe(reference, poses[:8], face, generator=seeded(4), **FAST).videos
    split = pipe(reference, poses[:8], face, generator=seeded(4), unet_batch_size=1, **FAST).videos
    for name in whole:
        assert np.abs(whole[name].astype(int) - split[name].astype(int)).max() <= 1


def test_pose_cache_gives_the_same_video_as_per_window_encoding(pipe, inputs):
    reference, poses, face = inputs
    cached = pipe(reference, poses, face, generator=seeded(8), **FAST).videos
    per_window = pipe(reference, poses, face, generator=seeded(8), pose_cache_mb=0, **FAST).videos
    for name in cached:
        assert np.abs(cached[name].astype(int) - per_window[name].astype(int)).max() <= 1


def test_token_count_and_alpha_change_the_identity_video(pipe, inputs):
    reference, poses, face = inputs
    n1 = pipe(reference, poses, face, mode="identity", id_tokens=1, generator=seeded(2), **FAST).videos["identity"]
    n4 = pipe(reference, poses, face, mode="identity", id_tokens=4, generator=seeded(2), **FAST).videos["identity"]
    assert not np.array_equal(n1, n4)


def test_callback_on_step_end_sees_every_step_can_replace_latents_and_can_stop(pipe, inputs):
    reference, poses, face = inputs
    seen = []

    def record(p, step, timestep, tensors):
        seen.append((step, float(timestep), tuple(tensors["latents"].shape)))
        return tensors

    plain = pipe(reference, poses[:4], face, mode="baseline", generator=seeded(1), callback_on_step_end=record,
                 **FAST)
    assert [s[0] for s in seen] == [0, 1] and seen[0][1] > seen[1][1] and seen[0][2] == (1, 4, 4, 8, 8)

    def zero_after_last(p, step, timestep, tensors):  # what the callback returns replaces the latents
        return {"latents": torch.zeros_like(tensors["latents"])} if step == 1 else tensors

    zeroed = pipe(reference, poses[:4], face, mode="baseline", generator=seeded(1),
                  callback_on_step_end=zero_after_last, **FAST)
    assert not np.array_equal(zeroed.videos["baseline"], plain.videos["baseline"])

    def stop_after_one(p, step, timestep, tensors):
        if step >= 0:
            raise GenerationCancelled("stop")
        return tensors

    with pytest.raises(GenerationCancelled):
        pipe(reference, poses[:4], face, mode="baseline", callback_on_step_end=stop_after_one, **FAST)


def test_given_latents_and_latent_output_follow_diffusers_conventions(pipe, inputs):
    """latents= replaces the generator's initial noise; output_type="latent" decodes nothing, and decoding those
    latents chunk by chunk gives the frames of output_type="np"."""
    reference, poses, face = inputs
    frames = pipe(reference, poses[:8], face, generator=seeded(3), **FAST)
    # the same noise, drawn by hand: the reference's noise augmentation first, then one tile for the latents
    g = seeded(3)
    torch.randn((1, 3, 64, 64), generator=g)
    noise = torch.randn((1, 8, 4, 8, 8), generator=g)
    given = pipe(reference, poses[:8], face, generator=seeded(3), latents=noise, output_type="latent", **FAST)
    assert given.videos == {} and set(given.latents) == {"baseline", "identity"}
    for name, z in given.latents.items():
        assert z.shape == (8, 4, 8, 8)
        # decoded in the same chunks (the temporal decoder mixes the frames of a chunk), the same frames
        assert np.array_equal(np.concatenate(list(pipe.decode_latents(z, FAST["decode_chunk_size"]))),
                              frames.videos[name])
        assert [len(c) for c in pipe.decode_latents(z, 3)] == [3, 3, 2]
    with pytest.raises(ValueError, match="latents"):
        pipe(reference, poses[:8], face, latents=noise[:, :5], **FAST)
    assert pipe.vae_scale_factor == 2 ** (len(pipe.vae.config.block_out_channels) - 1) == 8


def test_clip_input_is_prepared_exactly_as_diffusers_svd_pipeline_does():
    """Same CLIP image embedding as StableVideoDiffusionPipeline._encode_image (StableAnimator's copy of it): an
    antialiased resize to 224 in [-1, 1], back to [0, 1] without clamping, CLIP mean/std. The test image has hard
    edges, whose resize overshoots [0, 1]."""
    from diffusers import StableVideoDiffusionPipeline
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    with torch.random.fork_rng():
        torch.manual_seed(0)
        encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
            hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, patch_size=32,
            image_size=224, projection_dim=32)).eval()
    svd = StableVideoDiffusionPipeline(vae=None, image_encoder=encoder, unet=None, scheduler=None,
                                       feature_extractor=CLIPImageProcessor())
    tiny = models.build("tiny")
    ours = DancePipeline(tiny.unet, tiny.vae, encoder, tiny.face_encoder, tiny.pose_net, tiny.scheduler)
    image = np.zeros((300, 260, 3), np.uint8)
    image[:, 130:] = 255
    image[100:200, 50:80] = np.random.default_rng(0).integers(0, 255, (100, 30, 3))
    image = PIL.Image.fromarray(image)
    with torch.no_grad():
        assert torch.equal(ours.encode_clip(image, "cpu", torch.float32), svd._encode_image(image, "cpu", 1, False))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_vae_encodes_the_reference_in_float32_without_changing_the_model(dtype, inputs):
    """As diffusers' SVD pipeline upcasts the VAE for this encode (force_upcast), but the shared model stays put."""
    import copy

    pipe = DancePipeline.from_models(models.build("tiny", dtype=dtype))
    reference = inputs[0]
    reference_f32 = copy.deepcopy(pipe.vae).float()
    latent = pipe.encode_reference_latent(reference, 64, 64, 0.02, torch.Generator().manual_seed(1), "cpu", dtype)
    pixels = pipe.image_processor.preprocess(reference, height=64, width=64)
    pixels = pixels + 0.02 * torch.randn(pixels.shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = reference_f32.encode(pixels).latent_dist.mode().to(dtype)
    assert latent.dtype == dtype and torch.equal(latent, expected)
    assert {p.dtype for p in pipe.vae.parameters()} == {dtype}


def test_model_cpu_offload_hooks_give_the_same_video(inputs):
    """The small-GPU option: accelerate's offload hooks on every model, in model_cpu_offload_seq order. On the CPU
    the moves are no-ops, so this checks that the pipeline runs unchanged under the hooks, call after call."""
    pipe = DancePipeline.from_models(models.build("tiny"))
    pipe.set_progress_bar_config(disable=True)
    modules = {name for name, c in pipe.components.items() if isinstance(c, torch.nn.Module)}
    assert set(pipe.model_cpu_offload_seq.split("->")) == modules
    reference, poses, face = inputs
    plain = pipe(reference, poses[:3], face, generator=seeded(1), **FAST).videos
    pipe.enable_model_cpu_offload(device="cpu")
    assert all(hasattr(getattr(pipe, name), "_hf_hook") for name in modules)
    # the pose net (run in every mode) sends the CLIP encoder back, also when the face encoder never runs
    assert pipe.pose_net._hf_hook.prev_module_hook.model is pipe.image_encoder
    for _ in range(2):  # the hooks are re-armed after every call
        offloaded = pipe(reference, poses[:3], face, generator=seeded(1), **FAST).videos
        assert all(np.array_equal(plain[k], offloaded[k]) for k in plain)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_reduced_precision_runs_and_keeps_the_ab_guarantees(dtype, inputs):
    """fp16 is the CUDA path's dtype (bf16 the other common one); here every module, the packed alpha row and the
    guidance mix run in it on the CPU, so a dtype slip (a float32 tensor meeting a half one) fails without a GPU."""
    pipe = DancePipeline.from_models(models.build("tiny", dtype=dtype))
    pipe.set_progress_bar_config(disable=True)
    assert {p.dtype for p in pipe.unet.parameters()} == {dtype}
    reference, poses, face = inputs
    poses = [p[:32, :32] for p in poses[:3]]  # CPU fp16 convolutions are slow: a small canvas
    kw = dict(num_inference_steps=2, tile_frames=8, tile_overlap=2, decode_chunk_size=4)
    ab = pipe(reference, poses, face, alpha=1.0, generator=seeded(1), **kw).videos
    alone = pipe(reference, poses, face, mode="baseline", generator=seeded(1), **kw).videos["baseline"]
    assert ab["identity"].shape == (3, 32, 32, 3) and ab["identity"].std() > 1  # not a constant or blank frame
    assert not np.array_equal(ab["baseline"], ab["identity"])
    assert np.abs(ab["baseline"].astype(int) - alone.astype(int)).max() <= 1


@pytest.mark.parametrize("bad, message", [
    (dict(mode="both"), "mode"), (dict(id_tokens=5), "id_tokens"), (dict(id_tokens=0), "id_tokens"),
])
def test_bad_arguments(pipe, inputs, bad, message):
    reference, poses, face = inputs
    with pytest.raises(ValueError, match=message):
        pipe(reference, poses[:2], face, **{**FAST, **bad})


def test_replaced_cross_attention_processors_raise_before_denoising(inputs):
    """Packed identity tokens need our processors in every attn2: after the UNet's processors are replaced the
    pipeline raises a ValueError (a programming error) instead of feeding the identity tokens and alpha to a stock
    processor; the baseline alone packs nothing and still runs; installing the processors again mends it."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    from dancegen.models.identity import install_identity_processors

    pipe = DancePipeline.from_models(models.build("tiny"))
    pipe.set_progress_bar_config(disable=True)
    reference, poses, face = inputs
    steps = []
    count = lambda p, step, t, tensors: steps.append(step) or tensors  # noqa: E731
    with pytest.raises(ValueError, match="set_default_attn_processor"):  # diffusers will not reset ours itself
        pipe.unet.set_default_attn_processor()
    pipe.unet.set_attn_processor(AttnProcessor2_0())
    for mode in ("ab", "identity"):
        with pytest.raises(ValueError, match="processors were replaced.*install_identity_processors"):
            pipe(reference, poses[:2], face, mode=mode, callback_on_step_end=count, **FAST)
    assert steps == []  # raised before the first step
    assert pipe(reference, poses[:2], face, mode="baseline", **FAST).videos["baseline"].shape == (2, 64, 64, 3)
    install_identity_processors(pipe.unet)
    assert set(pipe(reference, poses[:2], face, **FAST).videos) == {"baseline", "identity"}


def test_identity_needs_a_face(pipe, inputs):
    reference, poses, _ = inputs
    with pytest.raises(ValueError, match="face"):
        pipe(reference, poses[:2], None, mode="ab", **FAST)
