"""Trained folders (what dancegen train writes): the parts' keys and names, and strict loading over their base."""

import json

import pytest
import torch
from support.trained import trained_tiny

from dancegen import models
from dancegen.errors import WeightsError
from dancegen.io.files import file_sha256
from dancegen.models.trained import MANIFEST, apply_trained, part_keys


def test_identity_part_is_the_32_identity_keys_of_unet_pth():
    meta = models.build("stableanimator", device="meta")
    keys = part_keys(meta, ["face_encoder", "identity"])
    assert len(keys["unet"]) == 32 and all(".attn2.processor.id_to_" in k for k in keys["unet"])
    assert len(keys["face_encoder"]) == 56  # the whole of face_encoder.pth
    attention = part_keys(meta, ["unet_attention"])["unet"]
    assert set(keys["unet"]) < set(attention) and all("attentions" in k for k in attention)
    with pytest.raises(WeightsError, match="unknown trained part"):
        part_keys(meta, ["everything"])


def test_trained_folder_loads_strictly_over_its_base(tmp_path):
    folder, changed = trained_tiny(tmp_path)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["preset"] == "tiny" and manifest["base"] == {"kind": "random", "seed": 0}
    assert set(manifest["files"]) == {"face_encoder", "unet"} and manifest["step"] == 7
    loaded = models.load_models(models.resolve_models(models.get_preset("tiny"), folder, tiny_seed=3))
    assert str(folder) in loaded.weights and "step 7" in loaded.weights and "random (seed 0)" in loaded.weights
    base = models.build("tiny", seed=0)  # the manifest's seed, not the one asked for
    for name in ("unet", "face_encoder", "pose_net"):
        ours, theirs, start = (getattr(m, name).state_dict() for m in (loaded, changed, base))
        for key in ours:
            assert torch.equal(ours[key], theirs[key]), key
        trained = set(part_keys(changed, ["face_encoder", "identity"]).get(name, []))
        assert {k for k in ours if not torch.equal(ours[k], start[k])} == trained


def test_broken_trained_folders_are_refused_with_the_reason(tmp_path):
    folder, changed = trained_tiny(tmp_path)
    tiny = models.get_preset("tiny")
    path = folder / "unet_trained.pth"
    state = torch.load(path, weights_only=True)
    # a changed file no longer matches its manifest
    torch.save({**state, "extra.weight": torch.zeros(1)}, path)
    with pytest.raises(WeightsError, match="does not match its manifest"):
        models.load_models(models.resolve_models(tiny, folder))
    # a file whose manifest entry was updated too is still checked key by key
    manifest = json.loads((folder / MANIFEST).read_text())
    for extra, message in (({"extra.weight": torch.zeros(1)}, "1 unexpected"), ({}, "1 missing")):
        new_state = {**state, **extra}
        if not extra:
            new_state.pop(next(iter(new_state)))
        torch.save(new_state, path)
        manifest["files"]["unet"]["sha256"] = file_sha256(path)
        (folder / MANIFEST).write_text(json.dumps(manifest))
        with pytest.raises(WeightsError, match=message):
            apply_trained(models.build("tiny"), models.read_trained(folder))
    with pytest.raises(WeightsError, match="trained on the tiny preset; run with --preset tiny"):
        models.resolve_models(models.get_preset("stableanimator"), folder)
    manifest["parts"] = ["face_encoder"]  # says less was trained than the files hold
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="lists files for"):
        models.load_models(models.resolve_models(tiny, folder))
    (folder / MANIFEST).write_text("{not json")
    with pytest.raises(WeightsError, match="not a readable trained-weights manifest"):
        models.resolve_models(tiny, folder)


def test_a_stableanimator_trained_folder_names_its_base(tmp_path):
    folder = tmp_path / "trained"
    folder.mkdir()
    manifest = {"format": "dancegen-trained-weights", "version": 1, "preset": "stableanimator",
                "base": {"kind": "stableanimator", "folder": str(tmp_path / "moved-away")},
                "parts": ["face_encoder", "identity"], "files": {}, "step": 1}
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="--base-weights"):
        models.resolve_models(models.get_preset("stableanimator"), folder)
    with pytest.raises(WeightsError, match="weights folder not found"):
        models.resolve_models(models.get_preset("stableanimator"), folder, base_weights=tmp_path / "other")
