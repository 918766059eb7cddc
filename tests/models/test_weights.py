"""Model structure against StableAnimator's published checkpoints, strict loading and the weights folder layout."""

import json

import pytest
import torch

from support.paths import FIXTURES

from dancegen import models
from dancegen.errors import WeightsError
from dancegen.face.models import find_antelopev2
from dancegen.models.pose_net import PoseConvIn

MANIFEST = json.loads((FIXTURES / "stableanimator_state_dicts.json").read_text())


@pytest.fixture(scope="module")
def meta_models():
    return models.build("stableanimator", device="meta")


@pytest.mark.parametrize("name", ["unet", "face_encoder", "pose_net"])
def test_full_size_keys_and_shapes_equal_the_manifest(meta_models, name):
    ours = {k: list(v.shape) for k, v in getattr(meta_models, name).state_dict().items()}
    assert ours == MANIFEST[name]


def test_unet_config_equals_svd_xt(meta_models):
    config = meta_models.unet.config
    for key, value in MANIFEST["unet_config"].items():
        assert list(config[key]) == value if isinstance(value, list) else config[key] == value, key


def zero_state(manifest_part):
    """A zero-filled state dict from the manifest; stride-0 views, so 1.5 B parameters cost no memory."""
    return {k: torch.zeros(()).expand(shape) for k, shape in manifest_part.items()}


@pytest.mark.parametrize("name", ["unet", "face_encoder", "pose_net"])
def test_zero_state_dict_from_manifest_loads_strictly(name):
    module = getattr(models.build("stableanimator", device="meta"), name)
    models.load_strict(module, zero_state(MANIFEST[name]), f"{name}.pth")
    params = dict(module.named_parameters())
    assert not any(p.is_meta for p in params.values())
    assert len(params) == len(MANIFEST[name])
    assert all(float(p.abs().max()) == 0.0 for p in list(params.values())[:20])


def test_strict_load_reports_missing_unexpected_and_mismatched_keys():
    module = models.build("stableanimator", device="meta").pose_net
    state = zero_state(MANIFEST["pose_net"])
    del state["scale"]
    state["extra.weight"] = torch.zeros(2)
    state["final_proj.bias"] = torch.zeros(7)
    with pytest.raises(WeightsError) as err:
        models.load_strict(module, state, "/ckpt/pose_net.pth")
    message = str(err.value)
    assert "/ckpt/pose_net.pth" in message and "missing" in message and "scale" in message
    assert "extra.weight" in message and "final_proj.bias" in message
    assert any(p.is_meta for p in module.parameters())  # nothing was half-loaded


def test_a_part_with_no_keys_or_keys_the_module_lacks_is_an_error_not_a_silent_success():
    module = models.build("tiny").pose_net
    before = {k: v.clone() for k, v in module.state_dict().items()}
    with pytest.raises(WeightsError, match="no weights at all"):
        models.load_strict(module, {}, "part.safetensors", keys=[])
    with pytest.raises(WeightsError, match="does not have.*not_a_key"):
        models.load_strict(module, {"not_a_key": torch.zeros(1)}, "part.safetensors", keys=["not_a_key"])
    with pytest.raises(WeightsError, match="empty.pth holds no weights"):
        models.load_strict(module, {}, "empty.pth")
    assert all(torch.equal(v, before[k]) for k, v in module.state_dict().items())


def test_read_state_dict_formats_and_errors(tmp_path):
    state = {"a": torch.arange(4.0), "b": torch.ones(2, 2)}
    torch.save(state, tmp_path / "w.pth")
    from safetensors.torch import save_file

    save_file(state, str(tmp_path / "w.safetensors"))
    for name in ("w.pth", "w.safetensors"):
        loaded = models.read_state_dict(tmp_path / name)
        assert loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k]) for k in state)
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="bad.pth"):
        models.read_state_dict(tmp_path / "bad.pth")
    with pytest.raises(WeightsError, match="not found"):
        models.read_state_dict(tmp_path / "missing.pth")


@pytest.mark.parametrize("variant", [None, "fp16"])
def test_load_stableanimator_from_a_local_folder(tmp_path, variant):
    """The real loading path end to end: StableAnimator's folder layout, strict loads, SVD parts from_pretrained.

    The .pth files hold zero tensors of the published shapes (stride-0, so tiny on disk); the SVD VAE and image
    encoder folders hold the tiny preset's modules (their shapes are not part of StableAnimator's checkpoints),
    saved either plainly or as the fp16 variant files, the only ones the hub download fetches from SVD-xt.
    """
    anim = tmp_path / "checkpoints" / "Animation"
    anim.mkdir(parents=True)
    for name in ("unet", "face_encoder", "pose_net"):
        torch.save(zero_state(MANIFEST[name]), anim / f"{name}.pth")
    svd = tmp_path / "checkpoints" / "SVD" / "stable-video-diffusion-img2vid-xt"
    tiny = models.build("tiny")
    tiny.vae.save_pretrained(svd / "vae", variant=variant)
    tiny.image_encoder.save_pretrained(svd / "image_encoder", variant=variant)
    if variant:
        assert {p.name for p in svd.glob("*/*.safetensors")} == {"diffusion_pytorch_model.fp16.safetensors",
                                                                 "model.fp16.safetensors"}
    tiny.scheduler.save_pretrained(svd / "scheduler")
    paths = models.resolve_weights(tmp_path / "checkpoints")
    assert paths.svd == svd and paths.root == tmp_path / "checkpoints" and find_antelopev2(paths.root) is None
    loaded = models.load_stableanimator(paths, device="cpu", dtype=torch.float32)
    assert loaded.preset.name == "stableanimator" and "StableAnimator" in loaded.weights
    assert float(loaded.unet.conv_in.weight.abs().sum()) == 0.0
    assert isinstance(loaded.unet.conv_in, PoseConvIn)
    assert loaded.vae is not None and loaded.image_encoder is not None
    for ours, theirs in ((loaded.image_encoder, tiny.image_encoder), (loaded.vae, tiny.vae)):
        assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()))


def test_resolve_weights_errors(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        models.resolve_weights(tmp_path / "nope")
    (tmp_path / "Animation").mkdir()
    with pytest.raises(WeightsError, match="unet.pth"):
        models.resolve_weights(tmp_path)
    with pytest.raises(WeightsError, match="download"):
        models.resolve_weights(None, download=False)


def test_download_without_network_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsError, match="could not download .* from the hub repo FrancisRing/StableAnimator"):
        models.resolve_weights(None, download=True, cache_dir=tmp_path)
