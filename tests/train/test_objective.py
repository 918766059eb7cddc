"""The denoising objective against diffusers' sampler (the same preconditioning at both ends) and StableAnimator's
formulas written out by hand."""

import math

import pytest
import torch
from diffusers import EulerDiscreteScheduler

from dancegen.models.presets import SVD_SCHEDULER
from dancegen.train import objective


@pytest.mark.parametrize("prediction_type", ["v_prediction", "epsilon", "sample"])
def test_preconditioning_is_what_the_sampler_inverts(prediction_type):
    """Training's denoised latents, c_in and c_noise equal what EulerDiscreteScheduler computes at sampling time
    for the same sigma (SVD's config: v-prediction, continuous timesteps 0.25 ln sigma)."""
    scheduler = EulerDiscreteScheduler(**{**SVD_SCHEDULER, "prediction_type": prediction_type})
    scheduler.set_timesteps(10)
    generator = torch.Generator().manual_seed(0)
    for index in (0, 4, 8):
        sigma, t = scheduler.sigmas[index], scheduler.timesteps[index]
        noisy = torch.randn((1, 3, 4, 5, 5), generator=generator) * sigma
        output = torch.randn((1, 3, 4, 5, 5), generator=generator)
        scheduler._step_index = index
        scalings = objective.precondition(sigma.reshape(1), prediction_type)
        assert torch.allclose(noisy * scalings.c_in, scheduler.scale_model_input(noisy, t), rtol=1e-6)
        expected = scheduler.step(output, t, noisy).pred_original_sample
        assert torch.allclose(scalings.denoised(output, noisy), expected, rtol=1e-5, atol=1e-5)
        if prediction_type == "v_prediction":  # SVD's continuous timesteps (other types use discrete ones)
            assert float(scalings.c_noise[0]) == pytest.approx(float(t), rel=1e-5)
    with pytest.raises(ValueError, match="flow"):
        objective.precondition(torch.ones(1), "flow")


def test_cosine_interpolated_sigmas_span_stableanimators_range_and_are_stratified():
    u = torch.linspace(0, 1, 101, dtype=torch.float64)
    sigma = objective.cosine_interpolated_sigma(u)
    assert float(sigma[0]) == pytest.approx(700.0, rel=1e-6) and float(sigma[-1]) == pytest.approx(0.002, rel=1e-6)
    assert bool((sigma[1:] < sigma[:-1]).all())
    # halfway: the mean of the two shifted cosine schedules' logSNRs (shifts 2 ln(32/64) and 0), written out
    def logsnr(t, noise_d):
        shift = 2 * math.log(noise_d / 64)
        a = math.atan(math.exp(-0.5 * (-2 * math.log(700 / 0.5) - shift)))
        b = math.atan(math.exp(-0.5 * (-2 * math.log(0.002 / 0.5) - shift)))
        return -2 * math.log(math.tan(a + t * (b - a))) + shift
    mid = 0.5 * math.exp(-0.5 * (0.5 * logsnr(0.5, 32) + 0.5 * logsnr(0.5, 64)))
    assert float(sigma[50]) == pytest.approx(mid, rel=1e-9)
    # four samples of one global batch each draw from their own quarter of [0, 1)
    uniform = torch.tensor([0.5, 0.5, 0.5, 0.5])
    sigmas = objective.sample_sigmas(uniform, torch.zeros(4), "cosine_interpolated", torch.arange(4), 4)
    assert torch.allclose(sigmas, objective.cosine_interpolated_sigma(torch.tensor([0.125, 0.375, 0.625, 0.875])))
    normal = torch.tensor([-1.0, 0.0, 2.0])
    log_normal = objective.sample_sigmas(torch.zeros(3), normal, "log_normal", torch.arange(3), 3)
    assert torch.allclose(log_normal, torch.exp(0.7 + 1.6 * normal))


def test_face_weighted_loss_matches_stableanimators_formula():
    generator = torch.Generator().manual_seed(1)
    denoised, target = torch.randn((2, 3, 4, 6, 6), generator=generator), torch.randn((2, 3, 4, 6, 6), generator=generator)
    sigmas = torch.tensor([0.5, 3.0])
    mask = torch.zeros((2, 3, 1, 6, 6))
    mask[:, :, :, 1:3, 2:5] = 1.0
    loss = objective.face_weighted_loss(denoised, target, sigmas, mask, face_weight=1.0)
    for b in range(2):
        weight = (1 + sigmas[b] ** 2) * sigmas[b] ** -2.0
        by_hand = (weight * (denoised[b] - target[b]) ** 2 * (1 + mask[b])).mean()
        assert float(loss[b]) == pytest.approx(float(by_hand), rel=1e-6)
    plain = objective.face_weighted_loss(denoised, target, sigmas, None)
    assert bool((plain < loss).all())  # the face boxes weigh their errors twice


def test_conditioning_dropout_follows_stableanimators_bands():
    r = torch.tensor([0.05, 0.15, 0.25, 0.35, 0.95])
    keep_clip, keep_reference = objective.dropout_masks(r, 0.1)
    assert keep_clip.tolist() == [0, 0, 1, 1, 1]  # CLIP token gone when r < 2p
    assert keep_reference.tolist() == [1, 0, 0, 1, 1]  # reference latent gone when p <= r < 3p
